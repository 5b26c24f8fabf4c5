"""The console's catalogues: every string the console and supervisor pages show exists in each language."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.web.i18n import CONSOLE_LOCALES, TRANSLATIONS, compile_catalogues

ROOT = Path(__file__).resolve().parents[2]


def source_strings() -> set[str]:
    """What `make i18n-extract` finds in bot/web (templates, Python, the scripts' string list)."""
    method_map, options_map = parse_mapping_cfg((ROOT / "babel.cfg").open())
    keywords = {"_": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT / "bot" / "web", method_map, options_map, keywords=keywords
    ):
        found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


@pytest.mark.parametrize("lang", [lang for lang in CONSOLE_LOCALES if lang != "en"])
def test_every_console_string_is_translated(lang: str) -> None:
    strings = source_strings()
    assert len(strings) > 100  # the extraction itself works
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=lang)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(strings - translated)
    assert not missing, f"{lang} catalogue lacks {len(missing)} string(s): {missing[:10]}"
    # The same placeholders in the translation as in the English text.
    for message in catalog:
        if message.id and message.string:
            for mark in ("{count}", "{name}", "{score}", "{bar}", "{status}", "%(id)s"):
                assert (mark in message.id) == (mark in message.string), (lang, message.id)


def test_catalogues_compile_from_a_fresh_clone(tmp_path: Path) -> None:
    for lang in ("ru", "sk", "hu"):
        target = tmp_path / lang / "LC_MESSAGES"
        target.mkdir(parents=True)
        (target / "messages.po").write_bytes(
            (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").read_bytes()
        )
    assert sorted(compile_catalogues(tmp_path)) == ["hu", "ru", "sk"]
    assert all(
        (tmp_path / lang / "LC_MESSAGES" / "messages.mo").stat().st_size > 1000 for lang in ("ru", "sk", "hu")
    )
    assert compile_catalogues(tmp_path) == []  # up to date: nothing to do
