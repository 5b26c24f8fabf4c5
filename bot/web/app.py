"""Application factory: the gateway's composition, built from settings."""

from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta

from flask import Flask, Response, request

from bot import composition
from bot.settings import Settings, get_settings
from bot.web.rasa_client import RasaClient
from bot.web.ratelimit import RateLimiter


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(
        SECRET_KEY=composition.secret(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("COOKIE_SECURE", "0") == "1",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=10),
        WTF_CSRF_TIME_LIMIT=10 * 3600,  # a console stays open all shift
        MAX_CONTENT_LENGTH=64 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.extensions["settings"] = settings
    # Shop sites allowed to embed the widget from another origin (CORS on /api/*).
    allowed_origins = {
        o.strip().rstrip("/") for o in os.environ.get("ALLOWED_ORIGINS", "").split(",") if o.strip()
    }
    app.extensions["handoff"] = composition.handoff_service()
    app.extensions["rasa"] = RasaClient(settings.rasa_url, token=os.environ.get("RASA_TOKEN"))
    app.extensions["chat_limiter"] = RateLimiter(settings.limits.chat_messages_per_minute, 60)
    app.extensions["ip_limiter"] = RateLimiter(settings.limits.chat_messages_per_minute * 10, 60)

    from bot.web.agent import agent_blueprint, csrf
    from bot.web.chat import chat_blueprint
    from bot.web.health import health_blueprint
    from bot.web.pages import pages_blueprint

    csrf.init_app(app)
    app.register_blueprint(pages_blueprint)
    app.register_blueprint(chat_blueprint)
    app.register_blueprint(health_blueprint)
    app.register_blueprint(agent_blueprint)
    csrf.exempt(chat_blueprint)  # the customer API carries no cookie session; see chat.py

    @app.after_request
    def cors(response: Response) -> Response:
        origin = request.headers.get("Origin", "")
        if request.path.startswith("/api/") and origin in allowed_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "600"
            response.headers.add("Vary", "Origin")
        return response

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; connect-src 'self'; frame-ancestors 'self'",
        )
        return response

    if os.environ.get("GATEWAY_PRELOAD_KB", "1") == "1":
        _load_knowledge_base_in_background(app)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return app


def _load_knowledge_base_in_background(app: Flask) -> None:
    """Canned answers and /health need the FAQ; loading it must not delay start-up."""

    def load() -> None:
        try:
            app.extensions["knowledge_base"] = composition.knowledge_base()
        except Exception:  # reported by /health as missing, retried on first search
            logging.getLogger(__name__).exception("knowledge base failed to load")

    threading.Thread(target=load, name="kb-preload", daemon=True).start()
