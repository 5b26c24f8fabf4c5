"""Vague problems: "something is wrong with my account / order / payment".

The message names a topic but not the problem, so answering any one FAQ entry is a
guess. The router asks instead (route ``clarify``), offering the likely things for
that topic as buttons. The topic is read from word stems in four languages, compared
on folded text (no case, no diacritics), so "baj van a fiokommal" is an account too.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class ProblemTopic(StrEnum):
    ACCOUNT = "account"
    ORDER = "order"
    PAYMENT = "payment"
    UNKNOWN = "unknown"


# Word stems that name a topic (a word starting with the stem counts).
TOPIC_STEMS: dict[ProblemTopic, tuple[str, ...]] = {
    ProblemTopic.PAYMENT: (
        "pay", "card", "charge", "refund", "money", "bank", "transaction",
        "оплат", "плат", "карт", "деньг", "списа", "возврат денег", "транзакц",
        "platb", "platob", "zaplat", "kart", "peniaz", "penaz", "strhl",
        "fizet", "kartya", "penz", "terhel", "utal",
    ),
    ProblemTopic.ACCOUNT: (
        "account", "profile", "login", "log in", "sign in", "password",
        "аккаунт", "акаунт", "akkaunt", "учетн", "профил", "кабинет", "логин", "парол", "вход",
        "ucet", "uct", "konto", "profil", "prihlas", "heslo", "hesl",
        "fiok", "profil", "bejelentkez", "belep", "jelszo",
    ),
    ProblemTopic.ORDER: (
        "order", "package", "parcel", "delivery", "shipment", "purchase",
        "заказ", "zakaz", "посылк", "доставк", "покупк",
        "objednav", "balik", "zasielk", "dorucen", "nakup",
        "rendel", "csomag", "szallit", "vasarl",
    ),
}

# What is most likely wrong, per topic: routes for the clarify buttons, best first.
CANDIDATES: dict[ProblemTopic, tuple[str, ...]] = {
    ProblemTopic.ACCOUNT: ("password_reset", "faq:change_account_details", "faq:delete_account"),
    ProblemTopic.ORDER: ("order_status", "faq:wrong_item", "cancel_order"),
    ProblemTopic.PAYMENT: ("faq:payment_failed", "faq:refund_status", "faq:invoice"),
    ProblemTopic.UNKNOWN: ("order_status", "faq:payment_failed", "password_reset"),
}

# Words that say something is wrong without saying what.
PROBLEM_STEMS = (
    "problem", "issue", "wrong", "trouble", "not working", "broken",
    "проблем", "не так", "беда", "ошибк", "не работает", "неполад",
    "problem", "nie je v poriadku", "zle", "nefunguj", "chyb", "nieco nesedi",
    "baj", "gond", "hiba", "nem stimmel", "nem mukodik", "nem jo",
)
MAX_VAGUE_WORDS = 9

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("й", "и")


def topic_of(text: str) -> ProblemTopic:
    """The first topic (payment, account, order) one of whose stems starts a word of the text."""
    folded = " " + " ".join(_WORD.findall(fold(text)))
    for topic, stems in TOPIC_STEMS.items():
        if any(f" {fold(stem)}" in folded for stem in stems):
            return topic
    return ProblemTopic.UNKNOWN


def sounds_vague(text: str) -> bool:
    """A short message that says something is wrong with an account, order or payment.

    The safety net for when the classifier did not recognise it ("baj van a fiokommal"
    falling back or landing out of scope): asking is better than refusing.
    """
    said = _WORD.findall(fold(text))
    folded = " " + " ".join(said)
    return (
        0 < len(said) <= MAX_VAGUE_WORDS
        and any(f" {fold(stem)}" in folded for stem in PROBLEM_STEMS)
        and topic_of(text) is not ProblemTopic.UNKNOWN
    )


def problem_candidates(text: str) -> tuple[str, ...]:
    return CANDIDATES[topic_of(text)]
