"""The shop profile by the name agreed between the engineers; it lives in :mod:`bot.profile`
(the bottom import layer, so settings, the FAQ check and the Rasa server can read it too)."""

from bot.profile import ProfileError, ShopProfile, load_profile, parse_profile, render, render_tree

__all__ = ["ProfileError", "ShopProfile", "load_profile", "parse_profile", "render", "render_tree"]
