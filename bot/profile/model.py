"""The shop profile: one validated file (``shop.yml``) with everything that makes the desk a shop's own.

Name, logo, colours and greeting; contacts, chat hours and time zone; currency and number/date
formats per language; the languages offered; the origins allowed to embed the widget; and the
policies (return window, excluded categories, refund time, warranty, shipping prices). Every text
(responses, FAQ, canned answers, mails, widget, console) writes shop facts as ``{{ shop.<field> }}``
and :mod:`bot.profile.render` fills them from here, so the facts cannot disagree.

Validation uses pydantic (already pinned by Rasa); an error names the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from pydantic import BaseModel, Extra, Field, ValidationError, validator

LANGUAGES = ("en", "ru", "sk", "hu")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
_ORIGIN = re.compile(r"^https?://[^/\s?#]+$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
# Short weekday names per language, for "Mon–Fri 8:00–20:00".
_DAY_NAMES = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "ru": ("пн", "вт", "ср", "чт", "пт", "сб", "вс"),
    "sk": ("po", "ut", "st", "št", "pi", "so", "ne"),
    "hu": ("h", "k", "sze", "cs", "p", "szo", "v"),
}
_CLOSED = {"en": "closed", "ru": "закрыто", "sk": "zatvorené", "hu": "zárva"}
DEFAULT_LOCALES = {"en": "en_IE", "ru": "ru_RU", "sk": "sk_SK", "hu": "hu_HU"}


class ProfileError(ValueError):
    """A shop.yml that cannot be used; ``str()`` lists every problem as ``file:line: message``."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(problems))


class _Strict(BaseModel):
    class Config:
        extra = Extra.forbid
        allow_mutation = False


class Colours(_Strict):
    primary: str = "#1f6feb"  # launcher, header, the customer's bubbles
    on_primary: str = "#ffffff"  # text on primary
    accent: str = "#ffb000"  # badges, focus ring

    @validator("*")
    def _hex(cls, value: str) -> str:
        if not _COLOUR.match(value):
            raise ValueError(f"'{value}' is not a colour like #1f6feb")
        return value.lower()


class Formats(_Strict):
    """How numbers, money and dates are written in one language (Babel locale and date pattern)."""

    locale: str
    date: str = "medium"  # a Babel pattern ("d. M. yyyy") or short|medium|long

    @validator("locale")
    def _known(cls, value: str) -> str:
        try:
            Locale.parse(value)
        except (UnknownLocaleError, ValueError):
            raise ValueError(f"unknown locale '{value}' (e.g. sk_SK, hu_HU, en_IE)") from None
        return value


class Shipping(_Strict):
    """Prices in the shop's currency; None where the shop does not offer the method."""

    standard: float = Field(ge=0)
    express: float | None = Field(default=None, ge=0)
    pickup: float | None = Field(default=None, ge=0)
    international: float | None = Field(default=None, ge=0)
    free_over: float | None = Field(default=None, ge=0)  # free standard shipping from this order value
    international_free_over: float | None = Field(default=None, ge=0)


class Policies(_Strict):
    return_window_days: int = Field(ge=0, le=365)
    # Product categories (as the order system names them) that cannot be returned once sold.
    return_excluded_categories: list[str] = []
    refund_days: int = Field(ge=1, le=90)  # refund reaches the customer within this many days
    warranty_months: int = Field(ge=0, le=120)
    shipping: Shipping


class Contact(_Strict):
    email: str
    phone: str = ""
    privacy_email: str = ""
    reply_hours: int = Field(default=24, ge=1, le=240)  # email answers within this many hours

    @validator("email", "privacy_email")
    def _email(cls, value: str) -> str:
        if value and not _EMAIL.match(value):
            raise ValueError(f"'{value}' is not an email address")
        return value


Hours = dict[str, list[str]]


def _check_hours(value: Hours) -> Hours:
    for day, span in value.items():
        if day not in WEEKDAYS:
            raise ValueError(f"'{day}' is not a weekday ({', '.join(WEEKDAYS)})")
        if len(span) != 2 or not all(_TIME.match(t) for t in span) or span[0] >= span[1]:
            raise ValueError(f"{day}: expected [\"HH:MM\", \"HH:MM\"], opening before closing, got {span}")
    return value


class Profile(_Strict):
    name: str = Field(min_length=1, max_length=80)
    legal_name: str = ""
    website: str = ""
    logo: str = ""  # a URL, or a file next to shop.yml (served by the gateway at /shop/logo)
    colours: Colours = Colours()
    greeting: dict[str, str]  # the bot's first words, per language
    contact: Contact
    chat_hours: Hours  # when agents answer the chat; the handoff follows these
    phone_hours: Hours = {}
    timezone: str = "Europe/Bratislava"
    currency: str = Field(default="EUR", regex=r"^[A-Z]{3}$")
    languages: list[str]
    formats: dict[str, Formats] = {}
    allowed_origins: list[str] = []  # sites that embed the widget, e.g. https://www.shop.example
    policies: Policies
    mail_sender: str = ""  # "Shop <no-reply@shop.example>"; default: name + contact email
    reset_url: str = ""  # the shop's password-reset page; the token is appended

    @validator("chat_hours", "phone_hours")
    def _hours(cls, value: Hours) -> Hours:
        return _check_hours(value)

    @validator("timezone")
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}' (e.g. Europe/Bratislava)") from None
        return value

    @validator("languages")
    def _languages(cls, value: list[str]) -> list[str]:
        unknown = [lang for lang in value if lang not in LANGUAGES]
        if unknown or not value:
            raise ValueError(f"languages must be some of {', '.join(LANGUAGES)}, got {value}")
        return list(dict.fromkeys(value))

    @validator("greeting")
    def _greeting(cls, value: dict[str, str], values: dict[str, Any]) -> dict[str, str]:
        unknown = [lang for lang in value if lang not in LANGUAGES]
        if unknown:
            raise ValueError(f"greeting in unknown languages {unknown}")
        return value

    @validator("allowed_origins", each_item=True)
    def _origin(cls, value: str) -> str:
        value = value.rstrip("/")
        if not _ORIGIN.match(value):
            raise ValueError(f"'{value}' is not an origin like https://www.shop.example (scheme and host, no path)")
        return value

    @validator("formats")
    def _formats(cls, value: dict[str, Formats]) -> dict[str, Formats]:
        unknown = [lang for lang in value if lang not in LANGUAGES]
        if unknown:
            raise ValueError(f"formats for unknown languages {unknown}")
        return value


@dataclass(frozen=True)
class ShopProfile:
    """The validated profile, plus the formatting every text path shares."""

    data: Profile
    path: Path

    # -- plain facts ------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.data.name

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.data.languages)

    @property
    def default_language(self) -> str:
        return self.data.languages[0]

    @property
    def policies(self) -> Policies:
        return self.data.policies

    @property
    def allowed_origins(self) -> frozenset[str]:
        return frozenset(self.data.allowed_origins)

    @property
    def mail_sender(self) -> str:
        return self.data.mail_sender or f"{self.data.name} <{self.data.contact.email}>"

    def language(self, lang: str | None) -> str:
        """``lang`` when the shop offers it, else the shop's first language."""
        return lang if lang in self.data.languages else self.default_language

    def locale(self, lang: str) -> str:
        formats = self.data.formats.get(lang)
        return formats.locale if formats else DEFAULT_LOCALES.get(lang, "en_IE")

    def logo_file(self) -> Path | None:
        logo = self.data.logo
        if not logo or "://" in logo or logo.startswith("/"):
            return None
        path = (self.path.parent / logo).resolve()
        return path if path.is_file() and path.is_relative_to(self.path.parent.resolve()) else None

    def logo_url(self) -> str:
        if self.logo_file() is not None:
            return "/shop/logo"
        return self.data.logo if self.data.logo.startswith(("https://", "http://", "/")) else ""

    # -- formatting ---------------------------------------------------------------------
    def money(self, amount: float, lang: str) -> str:
        """``3,90 €`` / ``€3.90``; whole amounts without decimals (``50 €``)."""
        locale = self.locale(lang)
        if float(amount).is_integer():
            pattern = Locale.parse(locale).currency_formats["standard"].pattern.split(";")[0]
            pattern = re.sub(r"\.0+", "", pattern)
            return format_currency(amount, self.data.currency, format=pattern, locale=locale, currency_digits=False)
        return format_currency(amount, self.data.currency, locale=locale)

    def number(self, value: float, lang: str) -> str:
        return format_decimal(value, locale=self.locale(lang))

    def date(self, value: date | None, lang: str) -> str:
        if value is None:
            return "-"
        formats = self.data.formats.get(lang)
        return format_date(value, format=formats.date if formats else "medium", locale=self.locale(lang))

    def hours(self, hours: Hours, lang: str) -> str:
        """``Mon–Fri 8:00–20:00, Sat 9:00–14:00`` in the language, days with equal hours grouped."""
        names = _DAY_NAMES.get(lang, _DAY_NAMES["en"])
        groups: list[tuple[int, int, tuple[str, str]]] = []
        for index, day in enumerate(WEEKDAYS):
            span = hours.get(day)
            if not span:
                continue
            key = (span[0], span[1])
            if groups and groups[-1][1] == index - 1 and groups[-1][2] == key:
                groups[-1] = (groups[-1][0], index, key)
            else:
                groups.append((index, index, key))
        if not groups:
            return _CLOSED.get(lang, "closed")

        def clock(value: str) -> str:
            return value.lstrip("0") if not value.startswith("00") else value[1:]

        parts = []
        for first, last, (start, end) in groups:
            days = names[first] if first == last else f"{names[first]}–{names[last]}"
            parts.append(f"{days} {clock(start)}–{clock(end)}")
        return ", ".join(parts)

    def zone_name(self) -> str:
        """The zone as customers know it now (CET/CEST), else its IANA name."""
        from datetime import datetime

        name = datetime.now(ZoneInfo(self.data.timezone)).tzname() or ""
        return name if name.isalpha() else self.data.timezone

    def placeholders(self, lang: str) -> dict[str, str]:
        """Every ``{{ shop.<field> }}`` a text may use, written for ``lang``."""
        d = self.data
        shipping = d.policies.shipping
        values = {
            "name": d.name,
            "legal_name": d.legal_name or d.name,
            "website": d.website,
            "contact_email": d.contact.email,
            "privacy_email": d.contact.privacy_email or d.contact.email,
            "phone": d.contact.phone,
            "email_reply_hours": str(d.contact.reply_hours),
            "chat_hours": f"{self.hours(d.chat_hours, lang)} {self.zone_name()}",
            "phone_hours": f"{self.hours(d.phone_hours, lang)} {self.zone_name()}" if d.phone_hours else "",
            "timezone": self.zone_name(),
            "currency": d.currency,
            "return_window_days": str(d.policies.return_window_days),
            "refund_days": str(d.policies.refund_days),
            "warranty_months": str(d.policies.warranty_months),
            "greeting": d.greeting.get(lang) or d.greeting.get(self.default_language, ""),
        }
        for method in ("standard", "express", "pickup", "international", "free_over", "international_free_over"):
            amount = getattr(shipping, method)
            key = "free_shipping_over" if method == "free_over" else (
                "international_free_shipping_over" if method == "international_free_over" else f"shipping_{method}"
            )
            values[key] = self.money(amount, lang) if amount is not None else ""
        return values

    def policy_numbers(self) -> dict[str, str]:
        """Facts a text must not state by hand (see ``kb check``), as the placeholder they belong to."""
        d = self.data
        found = {
            "return_window_days": str(d.policies.return_window_days),
            "refund_days": str(d.policies.refund_days),
            "warranty_months": str(d.policies.warranty_months),
            "contact_email": d.contact.email,
            "phone": d.contact.phone,
        }
        if d.contact.privacy_email:
            found["privacy_email"] = d.contact.privacy_email
        return {key: value for key, value in found.items() if value}

    def widget_config(self) -> dict[str, Any]:
        """What the widget needs to look and speak like the shop (served by GET /api/shop)."""
        d = self.data
        return {
            "name": d.name,
            "logo": self.logo_url(),
            "colours": d.colours.dict(),
            "languages": list(d.languages),
            "greeting": {lang: d.greeting.get(lang, "") for lang in d.languages},
            "locales": {lang: self.locale(lang).replace("_", "-") for lang in d.languages},
            "currency": d.currency,
            "chat_hours": {lang: self.placeholders(lang)["chat_hours"] for lang in d.languages},
        }


# --- loading ---------------------------------------------------------------------------
def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """The line of the value at ``loc`` (a pydantic error location) in the composed YAML."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    node, line = value, key.start_mark.line + 1
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def parse_profile(text: str, path: Path) -> ShopProfile:
    """The profile in ``text`` (read from ``path``), or ProfileError with file:line messages."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ProfileError(path, [f"{path}:{line}: not valid YAML: {getattr(error, 'problem', error)}"]) from None
    if not isinstance(raw, dict):
        raise ProfileError(path, [f"{path}:1: expected a mapping of fields (name, languages, policies, ...)"])
    try:
        data = Profile.parse_obj(raw)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            loc = tuple(item["loc"])
            where = ".".join(str(p) for p in loc if p != "__root__")
            message = "missing" if item["type"] == "value_error.missing" else item["msg"]
            if item["type"] == "value_error.extra":
                message = "unknown field"
            problems.append(f"{path}:{_line_of(node, loc)}: {where}: {message}")
        raise ProfileError(path, problems) from None
    problems = []
    for lang in data.languages:
        if lang not in data.greeting:
            problems.append(f"{path}:{_line_of(node, ('greeting',))}: greeting: no text for '{lang}'")
    if problems:
        raise ProfileError(path, problems)
    return ShopProfile(data=data, path=path)


def load_profile(path: Path) -> ShopProfile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ProfileError(path, [f"{path}: cannot read the shop profile ({error.strerror}); set SHOP_PROFILE"]) from None
    return parse_profile(text, path)


@cache
def cached_profile(path: Path, mtime: float) -> ShopProfile:
    """Processes without services (the Rasa server's response generator) load it once per change."""
    return load_profile(path)


def profile_at(path: Path) -> ShopProfile:
    return cached_profile(path, path.stat().st_mtime)
