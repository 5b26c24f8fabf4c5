"""Application factory: the gateway's Flask app around services built by bot.composition."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from flask import Flask, Response, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.channels.inbound import ChannelInbound
from bot.composition import Services
from bot.messages.relay import Relay

log = logging.getLogger(__name__)
# Complete: nothing may load from, post to, frame or re-base onto another origin.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'self'",
        "frame-src 'none'",
        "worker-src 'none'",
        "manifest-src 'self'",
    ]
)


class StrictJSONProvider(DefaultJSONProvider):
    """Nesting too deep for the parser is bad input (a 400), not a crash (a 500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def create_app(services: Services) -> Flask:
    settings = services.settings
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.json = StrictJSONProvider(app)
    app.config.update(
        SECRET_KEY=services.secret,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.console.session_hours),
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
        # The action server publishes too when it has Redis; consoles drop the duplicate.
        services.handoff.announce(conversation_id)

    app.extensions["relay"] = Relay(
        services.messages,
        services.rasa,
        node=settings.realtime.node_name,
        stale_after=settings.realtime.relay_stale_seconds,
        on_mode_change=mode_changed,
    )

    app.extensions["channel_inbound"] = ChannelInbound(
        services.messages,
        services.handoff,
        app.extensions["relay"],
        timedelta(minutes=settings.sessions.idle_minutes),
    )

    from bot.web import console
    from bot.web.attachments import install_upload_limit
    from bot.web.channels import channels_blueprint
    from bot.web.chat import chat_blueprint
    from bot.web.embedding import OriginGuard, shop_blueprint
    from bot.web.health import health_blueprint
    from bot.web.i18n import init_i18n
    from bot.web.metrics import metrics_blueprint
    from bot.web.pages import pages_blueprint
    from bot.web.reports import reports_blueprint

    init_i18n(app)
    install_upload_limit(app, settings.attachments.max_file_bytes)  # before the CSRF check reads a body
    app.extensions["origin_guard"] = origins = OriginGuard(settings.allowed_origins)
    app.register_blueprint(pages_blueprint)
    app.register_blueprint(chat_blueprint)
    app.register_blueprint(shop_blueprint)
    app.register_blueprint(channels_blueprint)
    app.register_blueprint(health_blueprint)
    app.register_blueprint(metrics_blueprint)
    console.register(app, services)
    console.csrf.exempt(chat_blueprint)  # the customer API carries no cookie session; see chat.py
    console.csrf.exempt(shop_blueprint)
    console.csrf.exempt(channels_blueprint)  # webhooks prove themselves with their secret token
    app.register_blueprint(reports_blueprint)
    # Supervisor pages in the console's navigation (see console/base.html).
    app.config["CONSOLE_NAV"].extend(
        [
            {"endpoint": "reports.reports_page", "label": "Reports", "testid": "nav-reports", "role": "supervisor"},
            {"endpoint": "reports.gaps_page", "label": "Unanswered", "testid": "nav-gaps", "role": "supervisor"},
            {"endpoint": "reports.content_page", "label": "FAQ editor", "testid": "nav-content", "role": "supervisor"},
            {"endpoint": "reports.team_page", "label": "Team", "testid": "nav-team", "role": "supervisor"},
            {"endpoint": "reports.privacy_page", "label": "Privacy", "testid": "nav-privacy", "role": "supervisor"},
        ]
    )
    if settings.dev_outbox:  # development without a mail server: read the mail here
        app.config["CONSOLE_NAV"].append(
            {"endpoint": "reports.outbox_page", "label": "Outbox", "testid": "nav-outbox", "role": "supervisor"}
        )

    @app.context_processor
    def shop_facts() -> dict[str, Any]:
        """``{{ shop.name }}`` in every template: the same placeholders as the texts."""
        profile = settings.shop
        return {"shop": SimpleNamespace(**profile.placeholders(profile.default_language), colours=profile.data.colours)}

    @app.after_request
    def cors(response: Response) -> Response:
        origin = request.headers.get("Origin", "")
        if not request.path.startswith("/api/") or not origin:
            return response
        # A page on another origin: allowed (CORS headers), or refused with a warning naming the setting.
        if origins.check(origin, request.host) and origin in settings.allowed_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "600"
            response.headers.add("Vary", "Origin")
        return response

    @app.errorhandler(HTTPException)
    def api_http_error(error: HTTPException) -> Any:
        """The customer API answers in JSON with a plain message, whatever the error."""
        if not request.path.startswith("/api/"):
            return error
        return jsonify({"error": (error.description or error.name).split(". ")[0].rstrip(".")}), error.code

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.headers["X-Served-By"] = settings.realtime.node_name
        if _holds_personal_data(request.path, request.endpoint):
            # Console, supervisor pages (reports, gaps, team, privacy, exports) and the chat API
            # carry customers' words: never kept by a browser or a proxy.
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response

    if settings.preload_kb:
        _load_knowledge_base_in_background(services)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return app


def _holds_personal_data(path: str, endpoint: str | None) -> bool:
    if endpoint is not None and (endpoint == "static" or endpoint.endswith(".static")):
        return False
    return path == "/agent" or path.startswith(("/agent/", "/api/"))


def _load_knowledge_base_in_background(services: Services) -> None:
    """Canned answers and /health need the FAQ; loading it must not delay start-up."""

    def load() -> None:
        try:
            services.knowledge_base  # noqa: B018 - loads it
        except Exception:  # reported by /health as missing, retried on first search
            log.exception("knowledge base failed to load")

    threading.Thread(target=load, name="kb-preload", daemon=True).start()
