"""What the gateway itself tells a customer, in their language: locales/handoff.yml (data, four languages)."""

from __future__ import annotations

import functools
import re
from typing import Any

import yaml

from bot.settings import ROOT


@functools.lru_cache(maxsize=1)
def _texts() -> dict[str, dict[str, str]]:
    return yaml.safe_load((ROOT / "locales" / "handoff.yml").read_text(encoding="utf-8"))


def text(key: str, language: str, **values: Any) -> str:
    """The text in ``language`` with ``{name}`` values filled; ``{{ shop.* }}`` is left for the
    shop renderer (the message log and the mailer), which str.format would have mangled."""
    variants = _texts()[key]
    template = variants.get(language, variants["en"])
    return re.sub(r"\{(\w+)\}", lambda match: str(values.get(match.group(1), match.group(0))), template)
