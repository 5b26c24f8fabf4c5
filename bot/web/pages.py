"""The widget's own page (/) and a demo shop page (/demo) that embeds it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

pages_blueprint = Blueprint("pages", __name__)


@pages_blueprint.get("/")
def index() -> Any:
    return render_template("index.html")


@pages_blueprint.get("/demo")
def demo() -> Any:
    return render_template("demo.html")
