"""The supervisor pages' blueprint; each page module adds its routes to it."""

from __future__ import annotations

from flask import Blueprint

reports_blueprint = Blueprint("reports", __name__, url_prefix="/agent")
