"""The shop profile (shop.yml) and the one renderer of ``{{ shop.<field> }}``.

At the bottom of the import layers (it imports nothing from bot/), so settings, the knowledge
base, the NLU and the Rasa server can all use it. ``bot.shop.profile`` is the same, by the name
the team agreed on.
"""

from bot.profile.model import LANGUAGES, ProfileError, ShopProfile, load_profile, parse_profile
from bot.profile.render import render, render_tree

__all__ = ["LANGUAGES", "ProfileError", "ShopProfile", "load_profile", "parse_profile", "render", "render_tree"]
