"""One redaction function for every text that leaves the gateway or goes into storage."""

from __future__ import annotations

import pytest

from bot.shop.security import redact, redact_with_flag


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my card is 4111 1111 1111 1111, order 482913", "my card is [card number removed], order 482913"),
        ("4111-1111-1111-1111 exp 12/27 cvv 123 thanks", "[card number removed] thanks"),
        ("card 5500 0000 0000 0004 12/26 123", "card [card number removed]"),
        ("paid with 5500000000000004 yesterday", "paid with [card number removed] yesterday"),
        ("two: 4111111111111111 4012888888881881", "two: [card number removed] [card number removed]"),
        ("IBAN SK31 1200 0000 1987 4263 7541 please", "IBAN [IBAN removed] please"),
        ("refund to DE89370400440532013000", "refund to [IBAN removed]"),
        ("the CVV: 123", "the CVV: [security code removed]"),
        ("bezpečnostný kód je 321", "bezpečnostný kód je [security code removed]"),
        ("my password is hunter2", "my password is [password removed]"),
        ("password: abc", "password: [password removed]"),
        ("мой пароль: qwerty123", "мой пароль: [password removed]"),
        ("moje heslo je tajne123", "moje heslo je [password removed]"),
        ("a jelszavam: Titok", "a jelszavam: [password removed]"),
        (
            "https://voltmart.example/account/reset?token=abcDEF123_x&lang=sk",
            "https://voltmart.example/account/reset?token=[secret removed]&lang=sk",
        ),
    ],
)
def test_secrets_are_replaced_by_a_visible_marker(text: str, expected: str) -> None:
    assert redact_with_flag(text) == (expected, True)
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "call 0905 123 456",
        "+421 2 5555 0100",
        "order 482913 and anna.kovacova@example.sk",
        "4111 1111 1111 1112",  # fails the Luhn check
        "SK31 1200 0000 1987 4263 7542",  # fails the IBAN check
        "tracking GLS482913SK",
        "I forgot my password",
        "I want to reset my password please",
        "my password is wrong",
        "пароль не подходит",
        "heslo je zlé",
        "",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact_with_flag(text) == (text, False)


def test_redaction_is_idempotent() -> None:
    once = redact("card 4111 1111 1111 1111 cvv 123, password: x1, iban DE89370400440532013000")
    assert redact_with_flag(once) == (once, False)
    assert "4111" not in once and "x1" not in once and "DE89" not in once


def test_text_redacted_earlier_is_recognised() -> None:
    from bot.shop.security import was_redacted

    assert was_redacted(redact("card 4111 1111 1111 1111")) and not was_redacted("card ending 1111")
