"""Multi-turn conversations on the real stack (Rasa, action server, gateway, SQLite), in
en/ru/sk/hu: cancelling an order, "stop" that never cancels, vague problems that get a
question, follow-ups answered in context, and returns that understand the customer.

Each test that changes an order makes its own (a fresh number), so the session stack
is shared and the demo orders stay as they were for the other tests.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.shop.models import Customer, Order, OrderCancellation, OrderItem
from tests.support.stack import Stack

pytestmark = pytest.mark.stack

_numbers = itertools.count(880101)


def texts(messages: list[dict]) -> str:
    return " | ".join(m.get("text") or "" for m in messages)


def database(stack: Stack) -> str:
    return stack.env.get("DATABASE_URL") or f"sqlite:///{stack.workdir / 'var' / 'app.db'}"


def new_order(stack: Stack, status: str, items: list[tuple[str, str, str]], email: str) -> str:
    """An order of the demo customer ``email`` with (sku, name, category) items; returns its number."""
    number = str(next(_numbers))
    today = date.today()
    shipped = today - timedelta(days=1) if status in {"shipped", "delivered"} else None
    with session_scope(database(stack)) as session:
        customer = session.execute(select(Customer).where(Customer.email == email)).scalar_one()
        order = Order(
            number=number,
            customer_id=customer.id,
            status=status,
            carrier="GLS" if shipped else None,
            tracking_number=f"GLS{number}SK" if shipped else None,
            ordered_at=today - timedelta(days=3),
            shipped_at=shipped,
            delivered_at=today - timedelta(days=1) if status == "delivered" else None,
            estimated_delivery=today + timedelta(days=2),
        )
        session.add(order)
        session.flush()
        for sku, name, category in items:
            session.add(
                OrderItem(order_id=order.id, sku=sku, name=name, category=category, unit_price_cents=1000)
            )
    return number


def order_status(stack: Stack, number: str) -> tuple[str, list[str]]:
    """The order's status and the reasons recorded for its cancellations."""
    with session_scope(database(stack)) as session:
        order = session.execute(select(Order).where(Order.number == number)).scalar_one()
        reasons = session.execute(
            select(OrderCancellation.reason).where(OrderCancellation.order_id == order.id)
        ).scalars()
        return order.status, list(reasons)


LAPTOP = [("LP-14A", "Laptop Aero 14 (16 GB)", "computers")]
KETTLE_AND_EARBUDS = [
    ("KT-220", "Electric kettle Voltik 1.7 l", "kitchen"),
    ("EB-310", "In-ear earbuds Sonix Buds", "hygiene"),
]
EMAILS = {
    "en": "peter.novak@example.com",
    "ru": "ivan.petrov@example.ru",
    "sk": "anna.kovacova@example.sk",
    "hu": "kiss.eszter@example.hu",
}

# --- cancelling an order ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "ask", "yes", "confirm_word", "done_word", "payment_word"),
    [
        # A yes with the verb ("yes, cancel it") was heard as "stop" and ended the flow (bot.nlu.explicit_yes).
        ("en", "I'd like to cancel order {n}, I bought it twice", "yes, cancel it", "cancel it now", "is cancelled", "money goes back"),
        ("ru", "пожалуйста, отмените заказ {n}", "да, отменяйте", "Отменить", "отменён", "деньги вернутся"),
        ("sk", "potrebujem zrušiť objednávku {n}", "áno, zrušte ju", "zrušiť teraz", "je zrušená", "peniaze sa vám vrátia"),
        ("hu", "szeretném lemondani a {n} rendelést", "igen", "Lemondjam", "lemondtam", "utaljuk vissza"),
    ],
)
def test_a_processing_order_is_cancelled_after_a_yes(
    stack: Stack, lang: str, ask: str, yes: str, confirm_word: str, done_word: str, payment_word: str
) -> None:
    number = new_order(stack, "processing", LAPTOP, EMAILS[lang])
    session = stack.new_session()
    stack.say(session, ask.format(n=number))  # asks for the email on the order
    confirm = stack.say(session, EMAILS[lang])
    assert confirm_word in texts(confirm), texts(confirm)
    assert [b["payload"] for b in confirm[-1]["buttons"]] == ["/affirm", "/deny"]
    assert order_status(stack, number) == ("processing", [])  # nothing before the yes
    done = texts(stack.say(session, yes))
    assert done_word in done and payment_word in done, done
    status, reasons = order_status(stack, number)
    assert status == "cancelled" and len(reasons) == 1 and number in reasons[0], (status, reasons)


@pytest.mark.parametrize(
    ("lang", "status_question", "then_cancel", "stop", "kept_word"),
    [
        ("en", "where is my order {n}?", "ok then please cancel it", "no, forget it", "have not cancelled"),
        ("sk", "v akom stave je objednávka {n}?", "tak ju prosím zrušte", "nechajte tak", "nič som nezrušil"),
    ],
)
def test_stop_inside_the_cancellation_never_cancels(
    stack: Stack, lang: str, status_question: str, then_cancel: str, stop: str, kept_word: str
) -> None:
    number = new_order(stack, "processing", LAPTOP, EMAILS[lang])
    session = stack.new_session()
    stack.say(session, status_question.format(n=number))
    assert number in texts(stack.say(session, EMAILS[lang]))
    # the verified order carries over: no number or email asked again
    confirm = texts(stack.say(session, then_cancel))
    assert number in confirm and "@" not in confirm, confirm
    kept = texts(stack.say(session, stop))
    assert kept_word in kept, kept
    assert order_status(stack, number) == ("processing", [])


@pytest.mark.parametrize(
    ("lang", "ask", "status", "plain_word", "offer_word"),
    [
        ("en", "please cancel my order {n}", "shipped", "can no longer be cancelled", "refuse the parcel"),
        ("ru", "отмените мой заказ {n}", "delivered", "отменить его уже нельзя", "вернуть"),
        ("hu", "kérem mondják le a {n} rendelést", "shipped", "már nem mondható le", "megtagadhatja"),
    ],
)
def test_a_shipped_or_delivered_order_is_not_cancelled(
    stack: Stack, lang: str, ask: str, status: str, plain_word: str, offer_word: str
) -> None:
    number = new_order(stack, status, LAPTOP, EMAILS[lang])
    session = stack.new_session()
    stack.say(session, ask.format(n=number))
    reply = stack.say(session, EMAILS[lang])
    said = texts(reply)
    assert plain_word in said and offer_word in said, said
    if status == "delivered":
        assert reply[-1]["buttons"][0]["payload"] == "/return_request"
    assert order_status(stack, number) == (status, [])


def test_never_mind_outside_a_flow_claims_nothing(stack: Stack) -> None:
    session = stack.new_session()
    stack.say(session, "how long does delivery take?")
    reply = texts(stack.say(session, "never mind"))
    assert "Nothing was in progress" in reply and "stopped" not in reply, reply


# --- vague problems ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected_payloads", "lang_word"),
    [
        ("my account has some kind of problem", {"/password_reset"}, "Which of these"),
        ("что-то не так с оплатой", {'/faq{"faq_id":"payment_failed"}'}, "О чём"),
        ("mám nejaký problém s objednávkou", {"/order_status", "/cancel_order"}, "O čo"),
        ("valami gond van a fiókommal", {"/password_reset"}, "Melyik"),
    ],
)
def test_a_vague_problem_gets_a_question_with_buttons(
    stack: Stack, text: str, expected_payloads: set[str], lang_word: str
) -> None:
    reply = stack.say(stack.new_session(), text)
    assert lang_word in texts(reply), texts(reply)
    payloads = {b["payload"] for b in reply[-1]["buttons"]}
    assert expected_payloads <= payloads and "/something_else" in payloads, payloads
    assert not any(m.get("faq_id") for m in reply)  # no guessed answer


# --- follow-ups --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "followup", "entries"),
    [
        ("do you offer gift wrapping?", "is that free?", {"gift_wrapping"}),
        ("сколько действует гарантия?", "а на ноутбуки тоже?", {"warranty", "extended_warranty"}),
        ("ako dlho trvá doručenie?", "a do Maďarska?", {"delivery_time", "international_shipping"}),
        ("mennyi ideig tart a garancia?", "és a laptopokra is?", {"warranty", "extended_warranty"}),
    ],
)
def test_a_followup_is_answered_about_the_same_topic(
    stack: Stack, question: str, followup: str, entries: set[str]
) -> None:
    session = stack.new_session()
    first = [m.get("faq_id") for m in stack.say(session, question) if m.get("faq_id")]
    assert first and first[0] in entries, first
    again = [m.get("faq_id") for m in stack.say(session, followup) if m.get("faq_id")]
    assert again and again[0] in entries, again


def test_a_followup_that_names_a_new_subject_is_a_new_question(stack: Stack) -> None:
    session = stack.new_session()
    stack.say(session, "how long does delivery take?")
    answer = [m.get("faq_id") for m in stack.say(session, "and what about the warranty?") if m.get("faq_id")]
    assert answer and answer[0] in {"warranty", "extended_warranty"}, answer


# --- returns -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "first", "then", "reason"),
    [
        # the item is named before the order is even asked for
        ("en", "is there a warranty on the Voltik kettle?", "I'd rather send it back, order {n}", "it leaks"),
        ("sk", "aká je záruka na kanvicu Voltik?", "radšej ju vrátim, objednávka {n}", "tečie"),
    ],
)
def test_an_item_named_earlier_is_not_asked_for(
    stack: Stack, lang: str, first: str, then: str, reason: str
) -> None:
    number = new_order(stack, "delivered", KETTLE_AND_EARBUDS, EMAILS[lang])
    session = stack.new_session()
    stack.say(session, first)
    stack.say(session, then.format(n=number))
    reply = stack.say(session, EMAILS[lang])
    said = texts(reply)
    assert "Sonix Buds" in said, said  # the earbuds are named with why they cannot go back
    assert not any(b.get("payload") == "Electric kettle Voltik 1.7 l" for m in reply for b in m.get("buttons") or [])
    done = texts(stack.say(session, reason))  # asked only why
    assert "RMA-" in done, done


@pytest.mark.parametrize(
    ("lang", "ask", "it_with_reason"),
    [
        ("en", "I want to return something from order {n}", "it doesn't fit me"),
        ("ru", "хочу оформить возврат по заказу {n}", "не подошёл"),
        ("sk", "chcem vrátiť tovar z objednávky {n}", "je mi malé"),
        ("hu", "vissza szeretnék küldeni valamit a {n} rendelésből", "kicsi"),
    ],
)
def test_it_on_a_one_item_return_is_that_item_and_the_reason(
    stack: Stack, lang: str, ask: str, it_with_reason: str
) -> None:
    number = new_order(stack, "delivered", KETTLE_AND_EARBUDS, EMAILS[lang])
    session = stack.new_session()
    stack.say(session, ask.format(n=number))
    listed = texts(stack.say(session, EMAILS[lang]))
    assert "Sonix Buds" in listed or "Sonix" in listed, listed  # named, with the reason, at once
    done = texts(stack.say(session, it_with_reason))
    assert "RMA-" in done, done  # item and reason from one reply, no goodbye


@pytest.mark.parametrize(
    ("lang", "ask", "reason"),
    [
        ("sk", "chcem vrátiť kanvicu z objednávky {n}", "nepáči sa mi to"),
        ("hu", "a {n} rendelésből a vízforralót küldeném vissza", "nem tetszik"),
        ("ru", "хочу вернуть чайник из заказа {n}", "не подошёл по цвету"),
    ],
)
def test_a_reason_inside_the_form_is_a_reason_not_goodbye(stack: Stack, lang: str, ask: str, reason: str) -> None:
    number = new_order(stack, "delivered", KETTLE_AND_EARBUDS, EMAILS[lang])
    session = stack.new_session()
    stack.say(session, ask.format(n=number))
    stack.say(session, EMAILS[lang])
    done = texts(stack.say(session, reason))
    assert "RMA-" in done, done
    assert not any(word in done for word in ("Dovidenia", "Viszontlátásra", "До свидания")), done
