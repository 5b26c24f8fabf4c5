"""The Flask web gateway: widget, customer chat API, agent console, health."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # Lazy, so that bot.composition can import the gateway's clients without a cycle.
    if name == "create_app":
        from bot.web.app import create_app

        return create_app
    raise AttributeError(name)


__all__ = ["create_app"]
