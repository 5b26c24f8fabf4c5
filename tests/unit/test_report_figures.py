"""Every report figure against a hand-counted set of conversations in a real SQLite database.

The fixture (times in seconds after each conversation's first message):

| conv | lang | bot reply | handoffs                                           | customer | notes                 |
|------|------|-----------|----------------------------------------------------|----------|-----------------------|
| c1   | en   | 2         | -                                                  | -        | contained             |
| c2   | sk   | 4         | customer_request, reply +60, resolved +300, rated 5 | anna     | rating after resolve  |
| c3   | en   | 1         | repeated_misunderstanding, reply +180, res +600, 2  | bob      | bob is back in 3 days |
| c4   | en   | 3         | -                                                  | bob      | the repeat contact    |
| c5   | hu   | 5         | ticket, promise kept after 2 h (due 24 h)           | -        | solved by email       |
| c6   | ru   | 1         | ticket, promise overdue                             | -        | broken promise        |
| c7   | en   | -         | -                                                  | -        | opened, never written |
| c8   | en   | 2         | angry (reply +30, res +120), again (+90, +240, 4)   | -        | two handoffs          |
| c9   | en   | 2         | -                                                  | -        | outside the range     |
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bot.analytics import figures
from bot.analytics.events import FAQ_ANSWER, FAQ_FEEDBACK
from bot.analytics.models import AnalyticsEvent
from bot.db import session_scope
from bot.handoff.models import Agent, Handoff
from bot.handoff.service import HandoffService
from bot.messages.log import MessageLog
from bot.messages.models import ChatMessage, Conversation
from bot.migrations import init_db
from bot.settings import HandoffSettings

DAY = datetime(2026, 11, 2, 9, 0, 0)
START, END = date(2026, 11, 2), date(2026, 11, 8)
NOW = datetime(2026, 11, 9, 12, 0, 0)
S = timedelta(seconds=1)


def conversation(session, cid, lang, start, bot_after=None, email=None):
    session.add(
        Conversation(
            id=cid, language=lang, mode="bot", created_at=start, last_activity_at=start, customer_email=email
        )
    )
    session.flush()
    session.add(ChatMessage(conversation_id=cid, sender="customer", text="hi", created_at=start))
    if bot_after is not None:
        session.add(
            ChatMessage(conversation_id=cid, sender="bot", text="hello", created_at=start + bot_after * S)
        )


def handoff(
    session,
    cid,
    start,
    reason,
    *,
    agent=None,
    reply=None,
    resolved=None,
    csat=None,
    ticket=False,
    due=None,
    kept=None,
    lang="en",
):
    session.add(
        Handoff(
            conversation_id=cid,
            reason=reason,
            language=lang,
            context={},
            agent_id=agent,
            status="ticket" if ticket else ("resolved" if resolved is not None else "assigned"),
            created_at=start,
            first_agent_reply_at=start + reply * S if reply is not None else None,
            resolved_at=start + resolved * S if resolved is not None else None,
            csat=csat,
            promise="reply by email within 24 hours" if due is not None else None,
            promise_due_at=start + due if due is not None else None,
            promise_kept_at=start + kept if kept is not None else None,
        )
    )


@pytest.fixture()
def url(sqlite_url: str) -> str:
    init_db(sqlite_url)
    with session_scope(sqlite_url) as session:
        alice = Agent(username="alice", display_name="Alice", password_hash="x")
        bob = Agent(username="bobby", display_name="Bobby", password_hash="x")
        session.add_all([alice, bob])
        session.flush()
        conversation(session, "c1", "en", DAY, 2)
        conversation(session, "c2", "sk", DAY, 4, email="anna@example.sk")
        handoff(
            session,
            "c2",
            DAY + 60 * S,
            "customer_request",
            agent=alice.id,
            reply=60,
            resolved=300,
            csat=5,
            lang="sk",
        )
        conversation(session, "c3", "en", DAY + timedelta(hours=2), 1, email="bob@example.com")
        handoff(
            session,
            "c3",
            DAY + timedelta(hours=2, minutes=1),
            "repeated_misunderstanding",
            agent=bob.id,
            reply=180,
            resolved=600,
            csat=2,
        )
        conversation(session, "c4", "en", DAY + timedelta(days=3), 3, email="Bob@Example.com")
        conversation(session, "c5", "hu", DAY + timedelta(hours=3), 5)
        handoff(
            session,
            "c5",
            DAY + timedelta(hours=3, minutes=1),
            "customer_request",
            ticket=True,
            due=timedelta(hours=24),
            kept=timedelta(hours=2),
            lang="hu",
        )
        conversation(session, "c6", "ru", DAY + timedelta(hours=4), 1)
        handoff(
            session,
            "c6",
            DAY + timedelta(hours=4, minutes=1),
            "customer_request",
            ticket=True,
            due=timedelta(hours=24),
            lang="ru",
        )
        session.add(Conversation(id="c7", language="en", mode="bot", created_at=DAY, last_activity_at=DAY))
        conversation(session, "c8", "en", DAY + timedelta(hours=5), 2)
        handoff(
            session,
            "c8",
            DAY + timedelta(hours=5, minutes=1),
            "angry_customer",
            agent=alice.id,
            reply=30,
            resolved=120,
        )
        handoff(
            session,
            "c8",
            DAY + timedelta(hours=5, minutes=10),
            "customer_request",
            agent=alice.id,
            reply=90,
            resolved=240,
            csat=4,
        )
        conversation(session, "c9", "en", DAY - timedelta(days=1), 2)
        for faq_id, lang in (("shipping_options", "en"), ("shipping_options", "sk"), ("return_policy", "en")):
            session.add(
                AnalyticsEvent(
                    kind=FAQ_ANSWER, conversation_id="c1", faq_id=faq_id, language=lang, created_at=DAY
                )
            )
        session.add(
            AnalyticsEvent(
                kind=FAQ_ANSWER,
                conversation_id="c9",
                faq_id="return_policy",
                language="en",
                created_at=DAY - timedelta(days=1),
            )
        )
        session.add(
            AnalyticsEvent(
                kind=FAQ_FEEDBACK,
                conversation_id="c1",
                faq_id="shipping_options",
                language="en",
                value=1,
                message_id=1,
                created_at=DAY,
            )
        )
        session.add(
            AnalyticsEvent(
                kind=FAQ_FEEDBACK,
                conversation_id="c2",
                faq_id="shipping_options",
                language="sk",
                value=-1,
                message_id=3,
                created_at=DAY,
            )
        )
    return sqlite_url


def test_conversations_are_counted_once_and_split_into_contained_and_handed_off(url: str) -> None:
    overall = figures.report(url, START, END, NOW)["overall"]
    assert overall["conversations"] == 7  # c7 never wrote, c9 is outside the range
    assert (overall["contained"], overall["handed_off"]) == (2, 5)
    assert overall["containment"] == 28.6
    assert overall["handoff_rate"] == 71.4
    reasons = {r["reason"]: r["conversations"] for r in overall["handoff_reasons"]}
    # c8 had two handoffs: only its first reason counts, so the reasons add up to the handed-off total.
    assert reasons == {"customer_request": 3, "repeated_misunderstanding": 1, "angry_customer": 1}
    assert sum(reasons.values()) == overall["handed_off"]


def test_response_and_resolution_times(url: str) -> None:
    overall = figures.report(url, START, END, NOW)["overall"]
    # bot: [1, 1, 2, 2, 3, 4, 5]
    assert overall["bot_first_response"] == {"n": 7, "p50": 2.0, "p90": 4.4}
    # first agent reply after a live handoff: [30, 60, 90, 180] (tickets have none)
    assert overall["first_human_reply"] == {"n": 4, "p50": 75.0, "p90": 153.0}
    # resolution: [120, 240, 300, 600]
    assert overall["resolution_time"] == {"n": 4, "p50": 270.0, "p90": 510.0}


def test_csat_score_response_rate_distribution_and_per_agent(url: str) -> None:
    result = figures.report(url, START, END, NOW)
    csat = result["overall"]["csat"]
    assert csat["resolved"] == 4 and csat["ratings"] == 3
    assert csat["score"] == 66.7  # 5 and 4 of [5, 2, 4]
    assert csat["mean"] == 3.67
    assert csat["response_rate"] == 75.0
    assert csat["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    agents = {row["agent"]: row for row in result["csat_by_agent"]}
    assert (agents["Alice"]["resolved"], agents["Alice"]["ratings"], agents["Alice"]["score"]) == (
        3,
        2,
        100.0,
    )
    assert (agents["Bobby"]["resolved"], agents["Bobby"]["ratings"], agents["Bobby"]["score"]) == (1, 1, 0.0)
    assert result["by_language"]["sk"]["csat"]["score"] == 100.0
    assert result["by_language"]["en"]["csat"]["ratings"] == 2


def test_first_contact_resolution_and_repeat_contact(url: str) -> None:
    overall = figures.report(url, START, END, NOW)["overall"]
    # c1, c4 contained; c2 one resolved handoff; c5 email promise kept. c3 repeated (bob came back
    # as c4 within 7 days, email case ignored), c6 promise broken, c8 two handoffs.
    assert overall["fcr_conversations"] == 4
    assert overall["fcr"] == 57.1
    assert overall["repeat_contacts"] == 1


def test_reply_promises_kept_broken_open(url: str) -> None:
    promises = figures.report(url, START, END, NOW)["overall"]["promises"]
    assert promises == {"made": 2, "kept": 1, "broken": 1, "open": 0}
    # The day after c6's promise was made it is still open, not broken.
    early = figures.report(url, START, END, DAY + timedelta(hours=5))["overall"]["promises"]
    assert early == {"made": 2, "kept": 1, "broken": 0, "open": 1}


def test_by_language_adds_up_to_overall(url: str) -> None:
    result = figures.report(url, START, END, NOW)
    by_language = result["by_language"]
    assert {lang: f["conversations"] for lang, f in by_language.items()} == {
        "en": 4,
        "hu": 1,
        "ru": 1,
        "sk": 1,
    }
    assert sum(f["contained"] for f in by_language.values()) == result["overall"]["contained"]
    assert by_language["en"]["containment"] == 50.0
    assert result["by_channel"] == {}  # one channel (the widget): no split


def test_faq_served_and_thumbs_per_entry_and_language(url: str) -> None:
    faq = {row["faq_id"]: row for row in figures.report(url, START, END, NOW)["faq"]}
    assert faq["shipping_options"]["served"] == 2
    assert faq["return_policy"]["served"] == 1  # the answer on the day before the range is not counted
    assert (faq["shipping_options"]["up"], faq["shipping_options"]["down"]) == (1, 1)
    assert faq["shipping_options"]["by_language"] == {"en": {"up": 1}, "sk": {"down": 1}}


def test_trend_has_every_day_of_the_range(url: str) -> None:
    trend = figures.report(url, START, END, NOW)["trend"]
    assert trend[0]["day"] == "2026-11-02" and len(trend) == 7
    assert trend[0]["conversations"] == 6 and trend[0]["handed_off"] == 5
    assert trend[3]["conversations"] == 1 and trend[3]["contained"] == 1  # c4


def test_handoff_then_resolved_then_rated_through_the_service(sqlite_url: str) -> None:
    """The real lifecycle: a handoff, an agent reply, resolve, and the rating after the resolve."""
    init_db(sqlite_url)
    messages = MessageLog(sqlite_url)
    service = HandoffService(sqlite_url, HandoffSettings(hours="always"), messages)
    with session_scope(sqlite_url) as session:
        agent = Agent(
            username="carol", display_name="Carol", password_hash="x", presence="online", last_seen_at=datetime.utcnow()
        )
        session.add(agent)
        session.flush()
        agent_id = agent.id
    cid = messages.open_session("en")
    messages.record(cid, "customer", "I need a person")
    messages.record(cid, "bot", "Connecting you")
    start = service.start(cid, "customer_request", "en", {})
    service.claim(start.handoff_id, agent_id)
    with session_scope(sqlite_url) as session:
        service.agent_reply(start.handoff_id, session.get(Agent, agent_id), "Hello, Carol here")
    service.resolve(start.handoff_id, agent_id)
    assert service.record_csat(cid, 4)  # after the resolve, like the widget does
    today = datetime.utcnow().date()
    result = figures.report(sqlite_url, today, today)
    overall = result["overall"]
    assert (overall["conversations"], overall["handed_off"], overall["contained"]) == (1, 1, 0)
    assert overall["csat"]["ratings"] == 1 and overall["csat"]["score"] == 100.0
    assert overall["fcr"] == 100.0
    assert overall["first_human_reply"]["n"] == 1 and overall["resolution_time"]["n"] == 1
    assert result["csat_by_agent"][0]["agent"] == "Carol"


def test_every_figure_splits_by_channel_and_the_channels_add_up(url: str) -> None:
    with session_scope(url) as session:
        for n, channel in enumerate(("telegram", "telegram", "email")):
            cid = f"{channel}-{n}"
            conversation(session, cid, "en", DAY + timedelta(hours=n), bot_after=2)
            session.get(Conversation, cid).channel = channel
        handoff(session, "telegram-0", DAY + 10 * S, "customer_request", agent=None)
    result = figures.report(url, START, END, NOW)
    by_channel = result["by_channel"]
    assert set(by_channel) == {"widget", "telegram", "email"}
    assert by_channel["telegram"]["conversations"] == 2 and by_channel["email"]["conversations"] == 1
    overall = result["overall"]
    for figure in ("conversations", "contained", "handed_off", "fcr_conversations", "repeat_contacts"):
        assert sum(f[figure] for f in by_channel.values()) == overall[figure], figure
    assert sum(f["csat"]["ratings"] for f in by_channel.values()) == overall["csat"]["ratings"]
    assert by_channel["telegram"]["handoff_rate"] == 50.0
    day = next(d for d in result["trend"] if d["day"] == DAY.date().isoformat())
    assert sum(day["by_channel"].values()) == day["conversations"] and day["by_channel"]["telegram"] == 2
