"""The Flask web gateway: widget, customer chat API, agent console, health."""

from __future__ import annotations

from flask import Flask

from bot.web.app import create_app

__all__ = ["Flask", "create_app"]
