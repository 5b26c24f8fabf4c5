"""Application factory: the gateway's Flask app around services built by bot.composition."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.composition import Services
from bot.messages.bus import AGENTS_ROOM
from bot.messages.relay import Relay

log = logging.getLogger(__name__)


def create_app(services: Services) -> Flask:
    settings = services.settings
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(
        SECRET_KEY=services.secret,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=10),
        WTF_CSRF_TIME_LIMIT=10 * 3600,  # a console stays open all shift
        MAX_CONTENT_LENGTH=64 * 1024,
        JSON_SORT_KEYS=False,
    )
    if settings.trusted_proxy_hops:
        # Only the address the proxy itself saw: a client's own X-Forwarded-For is overwritten there.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxy_hops, x_proto=1)  # type: ignore[method-assign]
    app.extensions["services"] = services
    app.extensions["settings"] = settings
    app.extensions["handoff"] = services.handoff
    app.extensions["rasa"] = services.rasa

    def mode_changed(conversation_id: str, mode: str) -> None:
        services.messages.publish_mode(conversation_id, mode)
        services.messages.bus.publish("queue", {"conversation_id": conversation_id}, AGENTS_ROOM)

    app.extensions["relay"] = Relay(
        services.messages,
        services.rasa,
        node=settings.realtime.node_name,
        stale_after=settings.realtime.relay_stale_seconds,
        on_mode_change=mode_changed,
    )

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
        if request.path.startswith("/api/") and origin in settings.allowed_origins:
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
        response.headers["X-Served-By"] = settings.realtime.node_name
        return response

    if settings.preload_kb:
        _load_knowledge_base_in_background(services)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return app


def _load_knowledge_base_in_background(services: Services) -> None:
    """Canned answers and /health need the FAQ; loading it must not delay start-up."""

    def load() -> None:
        try:
            services.knowledge_base  # noqa: B018 - loads it
        except Exception:  # reported by /health as missing, retried on first search
            log.exception("knowledge base failed to load")

    threading.Thread(target=load, name="kb-preload", daemon=True).start()
