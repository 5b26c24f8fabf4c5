"""The console's and supervisor pages' language: Flask-Babel, one gettext catalogue per language.

The language is the agent's own choice, stored on the agent (``agents.locale``); before
they choose (and on the login page) the browser's preference among en/ru/sk/hu decides.
Catalogues live in ``bot/web/translations/<lang>/LC_MESSAGES/messages.po``; the compiled
``.mo`` files are built from them as the app starts when missing or older, so a fresh
clone needs no extra build step (``make i18n-extract`` refreshes the template after
adding strings; tests/unit/test_console_i18n.py fails while any catalogue misses one).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, request
from flask_babel import Babel, format_decimal, get_locale, gettext, lazy_gettext

log = logging.getLogger(__name__)
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
CONSOLE_LOCALES = ("en", "ru", "sk", "hu")
LOCALE_NAMES = {"en": "English", "ru": "Русский", "sk": "Slovenčina", "hu": "Magyar"}

# Strings the console's scripts show (VMAgent.t in static/common.js): translated here and
# embedded in each page, so the catalogues hold them like every template string.
JS_STRINGS = (
    lazy_gettext("button"),
    lazy_gettext("similarity"),
    lazy_gettext("the bot answers with this"),
    lazy_gettext("Insert into reply"),
    lazy_gettext("No matching answers."),
    lazy_gettext("No FAQ entry answers this: the closest is {score}, below the {bar} the bot needs."),
    lazy_gettext("Other entries, not close enough for the bot ({count})"),
    lazy_gettext("Search failed."),
    lazy_gettext("Unexpected answer from the server ({status})."),
    lazy_gettext("Customer"),
    lazy_gettext("Bot"),
    lazy_gettext("System"),
    lazy_gettext("{name} (agent)"),
    lazy_gettext("No messages yet."),
    lazy_gettext("No notes yet."),
    lazy_gettext("with {name}"),
    lazy_gettext("The message was not sent."),
    lazy_gettext("Resolved. The customer was asked for a rating."),
    lazy_gettext("Options shown: "),
    lazy_gettext("(empty: English is shown instead)"),
    lazy_gettext("Checking…"),
    lazy_gettext("The check passed: saving publishes this entry."),
    lazy_gettext("The check failed: saving would be refused."),
)


# Shown through variables (navigation from other blueprints, presence values): listed for extraction.
VARIABLE_STRINGS = (
    lazy_gettext("Reports"),
    lazy_gettext("Unanswered"),
    lazy_gettext("Team"),
    lazy_gettext("Privacy"),
    lazy_gettext("FAQ editor"),
    lazy_gettext("online"),
    lazy_gettext("away"),
    lazy_gettext("offline"),
)


def compile_catalogues(directory: Path = TRANSLATIONS) -> list[str]:
    """Compile every messages.po whose .mo is missing or older; returns the languages compiled."""
    compiled = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        compiled.append(po_path.parts[-3])
    return compiled


def select_locale() -> str:
    agent = getattr(g, "agent", None)
    chosen = getattr(agent, "locale", None)
    if chosen in CONSOLE_LOCALES:
        return chosen
    return request.accept_languages.best_match(CONSOLE_LOCALES) or "en"


def js_catalog() -> dict[str, str]:
    """English text -> this locale's text, for the scripts (only what differs)."""
    out = {}
    for lazy in JS_STRINGS:
        english = lazy._args[0]
        translated = gettext(english)
        if translated != english:
            out[english] = translated
    return out


def number(value: Any, digits: int = 0) -> str:
    """A number in the agent's locale (1 234,5 in sk; 1,234.5 in en)."""
    if value is None:
        return "–"
    return format_decimal(value, format="#,##0" + ("." + "0" * digits if digits else ""))


def init_i18n(app: Flask) -> None:
    try:
        compile_catalogues()
    except OSError:  # a read-only install: it ships the compiled catalogues
        log.warning("could not compile the console's translations; using what is there")
    Babel(app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS))
    app.jinja_env.filters["number"] = number

    @app.context_processor
    def i18n_context() -> dict[str, Any]:
        return {
            "console_locale": str(get_locale() or "en"),
            "console_locales": LOCALE_NAMES,
            "js_catalog": js_catalog,
            "presence_names": {p: gettext(p) for p in ("online", "away", "offline")},
        }
