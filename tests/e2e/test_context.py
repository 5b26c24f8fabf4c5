"""Multi-turn context on the real stack: nothing asked twice, forms that notice the customer
moved on, "Did you mean ...?" buttons, and the language decided per message."""

from __future__ import annotations

import pytest

from tests.support.stack import Stack

pytestmark = pytest.mark.stack


def texts(messages: list[dict]) -> str:
    return " | ".join(m.get("text") or "" for m in messages)


def verify(stack: Stack, session: str, first: str) -> str:
    stack.say(session, first)
    status = texts(stack.say(session, "anna.kovacova@example.sk"))
    assert "GLS482913SK" in status, status
    return status


@pytest.mark.parametrize(
    ("first", "item", "reason_question"),
    [
        ("kde je moja objednávka 482913?", "chcem vrátiť kanvicu", "dôvod"),
        ("где мой заказ 482913?", "хочу вернуть чайник", "причин"),
        ("hol van a 482913 rendelésem?", "vissza szeretném küldeni a vízforralót", "oka"),
        ("where is my order 482913?", "I want to return the kettle", "reason"),
    ],
)
def test_a_return_after_a_status_check_asks_only_for_the_reason(
    stack: Stack, first: str, item: str, reason_question: str
) -> None:
    session = stack.new_session()
    verify(stack, session, first)
    asked = texts(stack.say(session, item))
    assert reason_question in asked.lower(), asked  # not the order number, the email or the item
    done = texts(stack.say(session, "it leaks"))
    assert "RMA-" in done, done


def nobody_online(stack: Stack) -> None:
    from sqlalchemy import update

    from bot.db import session_scope
    from bot.handoff.models import Agent

    url = stack.env.get("DATABASE_URL") or f"sqlite:///{stack.workdir / 'var' / 'app.db'}"
    with session_scope(url) as session:
        session.execute(update(Agent).values(presence="offline"))


def test_a_handoff_after_verification_keeps_the_verified_email(stack: Stack) -> None:
    nobody_online(stack)  # earlier tests may have left an agent online
    session = stack.new_session()
    verify(stack, session, "where is my order 482913?")
    reply = texts(stack.say(session, "can I talk to a person please?"))
    assert "anna.kovacova@example.sk" in reply, reply  # nobody online: the ticket uses it
    assert "leave your email" not in reply


def test_thanks_and_a_question_in_a_form_ask_whether_to_carry_on(stack: Stack) -> None:
    session = stack.new_session()
    assert "order number" in texts(stack.say(session, "I'd like to return something"))
    after_thanks = stack.say(session, "thanks")
    assert "carry on" in texts(after_thanks), texts(after_thanks)
    assert "What's your order number" not in texts(after_thanks)
    assert [b["payload"] for b in after_thanks[-1]["buttons"]] == ["/affirm", "/stop"]
    assert "order number" in texts(stack.say(session, "yes"))
    assert "nothing was changed" in texts(stack.say(session, "/stop"))


def test_language_follows_each_message_and_short_ones_keep_it(stack: Stack) -> None:
    session = stack.new_session()
    sk = texts(stack.say(session, "Dobrý deň, ako dlho trvá doručenie na Slovensku?"))
    assert "pracovn" in sk, sk
    en = texts(stack.say(session, "and how do refunds work?"))
    assert "refund" in en.lower() and "angličtine" not in en, en
    still_en = texts(stack.say(session, "ok"))
    assert "?" in still_en and "Prepáčte" not in still_en, still_en
