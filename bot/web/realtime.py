"""Pushed messages over Socket.IO (Flask-SocketIO on gevent): widgets and agent consoles.

An idle connection is one greenlet and no database query: listeners join a
room and the message log publishes into it. With a Redis message queue
(production) a message stored on one gateway reaches listeners on every
gateway. A client resumes by connecting with the last message id it has and
gets what it missed; it drops duplicates by id.

Customer: connect with ``auth={session_id, after}``. Agent (logged in to the
console, same origin): connect with ``auth={role: "agent"}``, then ``watch``
a handoff with ``{handoff_id, after}``.
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from typing import Any

from flask import Flask, request, session
from flask_socketio import SocketIO, disconnect, emit, join_room, leave_room

from bot.composition import Services
from bot.handoff import agents
from bot.messages.bus import AGENTS_ROOM, SocketIOBus, conversation_room
from bot.messages.log import SessionStatus
from bot.web.chat import SESSION_ID, session_status
from bot.web.console import auth, read_models
from bot.web.live_connections import EXTENSION, Connection, LiveConnections, Party

log = logging.getLogger(__name__)


def _same_origin(origin: str | None, environ: dict) -> bool:
    host = environ.get("HTTP_HOST")
    if not origin or not host:
        return origin is None  # non-browser clients send no Origin
    return origin in (f"http://{host}", f"https://{host}")


def _after(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0
    return max(int(value), 0) if value < 2**53 else 0


def _never_stored(wsgi_app: Any) -> Any:
    """Long-polling responses carry pushed messages: like every console response, never cached."""

    def app(environ: dict, start_response: Any) -> Any:
        if not environ.get("PATH_INFO", "").startswith("/socket.io"):
            return wsgi_app(environ, start_response)

        def no_store(status: str, headers: list, *args: Any) -> Any:
            headers = [(k, v) for k, v in headers if k.lower() != "cache-control"]
            return start_response(status, [*headers, ("Cache-Control", "no-store")], *args)

        return wsgi_app(environ, no_store)

    return app


def client_address(environ: dict, trusted_hops: int) -> str:
    """The client's address as ProxyFix sees it (Socket.IO requests do not pass through ProxyFix)."""
    remote = environ.get("REMOTE_ADDR") or "?"
    if not trusted_hops:
        return remote
    forwarded = [part.strip() for part in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    return forwarded[-trusted_hops] if len(forwarded) >= trusted_hops else remote


def create_socketio(app: Flask, services: Services) -> SocketIO:
    settings = services.settings
    origins = app.extensions["origin_guard"]

    def origin_allowed(origin: str | None, environ: dict) -> bool:
        return _same_origin(origin, environ) or origins.check(origin, environ.get("HTTP_HOST"))

    socketio = SocketIO(
        app,
        async_mode="gevent",
        message_queue=settings.realtime.redis_url or None,
        channel=settings.realtime.channel,
        cors_allowed_origins=origin_allowed,
        ping_interval=25,
        ping_timeout=20,
        max_http_buffer_size=64 * 1024,
        logger=False,
        engineio_logger=False,
    )
    app.wsgi_app = _never_stored(app.wsgi_app)  # type: ignore[method-assign]  # Socket.IO polling too
    services.messages.bus = SocketIOBus(socketio)
    messages = services.messages
    live = LiveConnections(socketio, services.database_url, timedelta(minutes=settings.sessions.idle_minutes))
    app.extensions[EXTENSION] = live

    def current_agent() -> read_models.AgentView | None:
        """The same check as every console request: revoked or expired sessions are refused."""
        return auth.current_agent(services.database_url, session, settings.console.session_hours)

    hops = settings.trusted_proxy_hops

    @socketio.on("connect")
    def connect(auth: Any = None) -> None:
        if not services.limits.socket_connects_per_address.allow(client_address(request.environ, hops)):
            raise ConnectionRefusedError("too many connections from this address; wait a moment")
        auth = auth if isinstance(auth, dict) else {}
        if auth.get("role") == "agent":
            agent = current_agent()
            if agent is None or not _same_origin(request.headers.get("Origin"), request.environ):
                raise ConnectionRefusedError("login required")
            agents.touch(services.database_url, agent.id)
            live.add(request.sid, Connection(Party.AGENT, str(agent.id), agent.session_generation))
            join_room(AGENTS_ROOM)
            return
        session_id = auth.get("session_id")
        if not (isinstance(session_id, str) and SESSION_ID.match(session_id)):
            raise ConnectionRefusedError("unknown session")
        if session_status(services, session_id) is not SessionStatus.ACTIVE:
            raise ConnectionRefusedError("unknown, expired or ended session")
        session["customer_session"] = session_id
        live.add(request.sid, Connection(Party.CUSTOMER, session_id))
        join_room(conversation_room(session_id))
        # Joined first, then read: a message stored in between arrives twice, never not at all.
        emit(
            "messages",
            {"messages": messages.after(session_id, _after(auth.get("after"))), "mode": messages.mode(session_id)},
        )

    @socketio.on("disconnect")
    def disconnected(*_args: Any) -> None:
        live.remove(request.sid)

    @socketio.on("watch")
    def watch(data: Any = None) -> Any:
        """An agent opens a conversation: its messages are pushed from ``after`` on."""
        agent = current_agent()
        if agent is None or not isinstance(data, dict) or not isinstance(data.get("handoff_id"), int):
            return {"error": "login and a handoff_id are required"}
        state = read_models.handoff_state(services.database_url, data["handoff_id"])
        if state is None:
            return {"error": "no such conversation"}
        previous = session.get("watching")
        if previous and previous != state["conversation_id"]:
            leave_room(conversation_room(previous))
        session["watching"] = state["conversation_id"]
        session["watching_handoff"] = data["handoff_id"]
        join_room(conversation_room(state["conversation_id"]))
        return {
            "messages": messages.after(state["conversation_id"], _after(data.get("after"))),
            "status": state["status"],
        }

    @socketio.on("presence")
    def presence(_data: Any = None) -> None:
        """The console's heartbeat (every 30 s): the presence the agent set still holds.

        A connection whose session was revoked (logout, password change) or expired
        since it connected is closed here, so it stops receiving pushes within 30 s.
        """
        agent = current_agent()
        if agent is None:
            if session.get("agent_id") is not None:
                disconnect()
            return
        agents.touch(services.database_url, agent.id)

    @socketio.on("typing")
    def typing(data: Any = None) -> None:
        typing_now = bool(isinstance(data, dict) and data.get("typing") is True)
        customer = session.get("customer_session")
        if customer:
            socketio.emit(
                "typing",
                {"sender": "customer", "typing": typing_now},
                to=conversation_room(customer),
                skip_sid=request.sid,
            )
            return
        watching = session.get("watching")
        agent = current_agent() if watching else None
        if watching and agent is not None:
            socketio.emit(
                "typing",
                {"sender": "agent", "name": agent.display_name, "typing": typing_now},
                to=conversation_room(watching),
                skip_sid=request.sid,
            )

    return socketio
