"""A conversation's language follows its customer's messages; reports count it there; old rows migrate."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from bot.analytics import figures
from bot.db import session_scope
from bot.messages.log import MessageLog
from bot.messages.models import ChatMessage, Conversation
from bot.migrations import alembic_config, init_db, load_models

load_models()

FOUR = {
    "en": ["Hello, where is my parcel?", "It was supposed to arrive on Monday."],
    "ru": ["Здравствуйте, где моя посылка?", "Она должна была прийти в понедельник."],
    "sk": ["Dobrý deň, kde je môj balík?", "Mal prísť v pondelok.", "A posielate aj v sobotu?"],
    "hu": ["Jó napot, hol van a csomagom?", "Hétfőn kellett volna megérkeznie."],
}


def test_each_message_carries_its_language_and_the_conversation_the_majority(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    init_db(url)
    log = MessageLog(url)
    ids = {}
    for lang, lines in FOUR.items():
        ids[lang] = cid = log.open_session()
        for line in lines:
            log.record(cid, "customer", line, for_bot=True)
        log.record(cid, "customer", "ok")  # says nothing: no vote
        log.record(cid, "customer", "/deny", meta={"command": True})  # a button: no vote
    for lang, cid in ids.items():
        assert log.language(cid) == lang
    with session_scope(url) as session:
        tags = session.execute(
            text("SELECT text, language FROM chat_messages WHERE conversation_id = :c"), {"c": ids["hu"]}
        ).all()
    assert dict(tags) == {FOUR["hu"][0]: "hu", FOUR["hu"][1]: "hu", "ok": None, "/deny": None}

    # One English line in a Slovak conversation does not make it English; a second Slovak one keeps it.
    log.record(ids["sk"], "customer", "Sorry, can you answer in English?")
    assert log.language(ids["sk"]) == "sk"

    today = datetime.utcnow().date()
    rows = figures.report(url, today, today)["by_language"]
    assert {lang: row["conversations"] for lang, row in rows.items()} == {"en": 1, "ru": 1, "sk": 1, "hu": 1}


def test_existing_rows_get_their_language_from_the_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = create_engine(url, future=True)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection=connection), "be38e669ed30")
        at = datetime(2026, 12, 1, 10, 0)
        for cid, lines in (("c-ru", FOUR["ru"]), ("c-hu", FOUR["hu"]), ("c-none", ["ok"])):
            connection.execute(
                text(
                    "INSERT INTO conversations (id, language, mode, created_at, last_activity_at, rasa_paused) "
                    "VALUES (:id, 'en', 'bot', :at, :at, 0)"
                ),
                {"id": cid, "at": at},
            )
            for line in lines:
                connection.execute(
                    text(
                        "INSERT INTO chat_messages (conversation_id, sender, text, created_at, relay_state) "
                        "VALUES (:id, 'customer', :t, :at, 'done')"
                    ),
                    {"id": cid, "t": line, "at": at},
                )
    engine.dispose()
    init_db(url)
    with session_scope(url) as session:
        languages = {c.id: c.language for c in session.query(Conversation)}
        tagged = session.query(ChatMessage).filter(ChatMessage.language.is_not(None)).count()
    assert languages == {"c-ru": "ru", "c-hu": "hu", "c-none": "en"}
    assert tagged == 4
    rows = figures.report(url, date(2026, 12, 1), date(2026, 12, 1))["by_language"]
    assert {lang: row["conversations"] for lang, row in rows.items()} == {"en": 1, "hu": 1, "ru": 1}
