"""Where stored messages are announced: whoever listens (widgets, consoles) gets them pushed.

One small interface with three implementations: nothing (tools, tests), the
gateway's Socket.IO server (in-process fan-out in embedded mode; through Redis
pub/sub when it was built with a message queue), and a write-only Redis
emitter for processes that serve no sockets themselves (the worker).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

log = logging.getLogger(__name__)


def conversation_room(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


AGENTS_ROOM = "agents"


class MessageBus(Protocol):
    def publish(self, event: str, data: dict[str, Any], room: str) -> None: ...


class NullBus:
    def publish(self, event: str, data: dict[str, Any], room: str) -> None:
        return None


class SocketIOBus:
    """Emits through a flask_socketio.SocketIO (or any object with ``emit(event, data, to=)``)."""

    def __init__(self, socketio: Any) -> None:
        self._socketio = socketio

    def publish(self, event: str, data: dict[str, Any], room: str) -> None:
        try:
            self._socketio.emit(event, data, to=room)
        except Exception:  # a lost push is recovered by the client's resume; never fail a write
            log.exception("could not publish %s", event)


def redis_emitter_bus(redis_url: str, channel: str) -> MessageBus:
    """For processes without sockets: publishes into the gateways' Socket.IO message queue."""
    import socketio

    return SocketIOBus(socketio.RedisManager(redis_url, channel=channel, write_only=True))
