"""Which channels run: ``channels:`` in settings.yml names them, ``bot.channels.<name>`` builds each.

A channel module has ``build(settings) -> adapter | None`` (None: not configured, e.g. no token;
logged). The widget needs no adapter: it reads the message log itself.
"""

from __future__ import annotations

import importlib
import logging

from bot.channels.base import ChannelAdapter
from bot.messages.models import Channel
from bot.settings import Settings

log = logging.getLogger(__name__)


def build_adapters(settings: Settings) -> dict[Channel, ChannelAdapter]:
    adapters: dict[Channel, ChannelAdapter] = {}
    for name in settings.channels:
        channel = Channel(name)  # an unknown name stops the start with a clear ValueError
        if channel is Channel.WIDGET:
            continue
        adapter = importlib.import_module(f"bot.channels.{channel.value}").build(settings)
        if adapter is None:
            log.warning("channel %s is listed in settings.yml but not configured; it is off", channel)
            continue
        adapters[channel] = adapter
    return adapters
