"""The agent console: views (blueprint), read models, session auth, canned answers.

``register(app, services)`` mounts it on the gateway's app.
"""

from __future__ import annotations

from flask import Flask

from bot.composition import Services
from bot.web.console import canned
from bot.web.console import files as _files  # noqa: F401 - its routes are on console_blueprint
from bot.web.console.views import console_blueprint, csrf

__all__ = ["console_blueprint", "csrf", "register"]


def register(app: Flask, services: Services) -> None:
    settings = services.settings
    app.extensions["canned"] = canned.load(settings.root / settings.console.canned_path)
    app.config.setdefault("CONSOLE_NAV", [])  # [{"endpoint": ..., "label": ...}] from other blueprints
    csrf.init_app(app)
    app.register_blueprint(console_blueprint)
