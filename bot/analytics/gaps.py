"""Unanswered questions, grouped by meaning across languages, for the content team.

Steps (each a small function): collect the messages the bot could not answer,
embed the ones recorded without a vector, cluster the vectors (scikit-learn),
and describe each group: size, languages, examples, the nearest FAQ entry and
what agents answered in the group's handoffs.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sklearn.cluster import AgglomerativeClustering, MiniBatchKMeans
from sqlalchemy import select

from bot.analytics.events import FAQ_FEEDBACK, UNANSWERED_KINDS, clean_text
from bot.analytics.models import AnalyticsEvent
from bot.db import session_scope
from bot.kb.embedder import Embedder
from bot.kb.service import KnowledgeBase
from bot.messages.models import ChatMessage

# Average-linkage cosine distance, on language-centred vectors, under which two groups merge
# (same question in other languages sits at ~0.3-0.5 there, other topics at ~0.7 and more).
DISTANCE_THRESHOLD = 0.6
# Above this many messages, MiniBatchKMeans first condenses them into micro-groups.
EXACT_LIMIT = 2000
MICRO_GROUP_SIZE = 8
# A group this close to an entry's best phrasing (cosine of language-centred vectors) is about
# that entry: its phrasings or a language are missing. Raw e5 scores can't tell: off-topic
# questions score 0.85-0.90 against some entry, as related ones do.
NEAR_ENTRY_SCORE = 0.55
# Same-language phrasings this much further than another language's: that language is missing.
LANGUAGE_GAP = 0.08
EXAMPLES = 6
DRAFTS = 4
# An agent reply is a draft for a group's question when it is about that question: its passage
# vector is this close to the customer's question (e5; greetings and "anything else?" score
# ~0.78-0.81 against any question, answers to it ~0.86-0.90) and within RELATED_SPREAD of the
# conversation's most related reply (an answer to the next question is not a draft for this one).
RELATED_REPLY = 0.83
RELATED_SPREAD = 0.02
REPLIES_PER_CONVERSATION = 6


@dataclass
class GapMessage:
    event_id: int
    conversation_id: str | None
    kind: str
    language: str
    text: str
    created_at: datetime
    addressed_entry: str | None
    comment: str | None = None
    vector: np.ndarray | None = None
    dismissed: bool = False


@dataclass
class GapGroup:
    messages: list[GapMessage]
    centroid: np.ndarray
    languages: dict[str, int] = field(default_factory=dict)
    nearest_id: str | None = None
    nearest_score: float | None = None
    kind: str = "new_topic"  # new_topic | missing_phrasings | missing_language
    missing_languages: list[str] = field(default_factory=list)
    drafts: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.messages)

    @property
    def addressed(self) -> bool:
        return all(m.addressed_entry for m in self.messages)

    @property
    def dismissed(self) -> bool:
        """Dismissed by a supervisor, and no new message has joined the group since."""
        return not self.addressed and all(m.dismissed or m.addressed_entry for m in self.messages)

    @property
    def near(self) -> bool:
        """The nearest entry is really near (otherwise it is only the least far one)."""
        return self.kind != "new_topic"

    @property
    def addressed_entry(self) -> str | None:
        return next((m.addressed_entry for m in self.messages if m.addressed_entry), None)

    def examples(self, limit: int = EXAMPLES) -> list[GapMessage]:
        """Distinct texts, taking the languages in turn so every language shows."""
        by_lang: dict[str, list[GapMessage]] = defaultdict(list)
        seen: set[str] = set()
        for m in sorted(self.messages, key=lambda m: m.created_at, reverse=True):
            key = m.text.casefold().strip()
            if key not in seen:
                seen.add(key)
                by_lang[m.language].append(m)
        picked: list[GapMessage] = []
        while len(picked) < limit and any(by_lang.values()):
            for lang in sorted(by_lang, key=lambda lang: -len(by_lang[lang])):
                if by_lang[lang] and len(picked) < limit:
                    picked.append(by_lang[lang].pop(0))
        return picked

    def as_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "languages": self.languages,
            "kind": self.kind,
            "missing_languages": self.missing_languages,
            "nearest_id": self.nearest_id,
            "nearest_score": None if self.nearest_score is None else round(self.nearest_score, 3),
            "near": self.near,
            "dismissed": self.dismissed,
            "examples": [{"text": m.text, "language": m.language, "kind": m.kind} for m in self.examples()],
            "comments": [m.comment for m in self.messages if m.comment][:EXAMPLES],
            "drafts": self.drafts,
            "event_ids": [m.event_id for m in self.messages],
            "addressed": self.addressed,
            "addressed_entry": self.addressed_entry,
        }


# --- collect ------------------------------------------------------------------
def collect(url: str, since: datetime, limit: int = 50_000) -> list[GapMessage]:
    """Out of scope, no FAQ match, misunderstood, and the question behind every thumbs-down."""
    with session_scope(url) as session:
        rows = session.execute(
            select(AnalyticsEvent)
            .where(
                AnalyticsEvent.created_at >= since,
                AnalyticsEvent.text.is_not(None),
                AnalyticsEvent.kind.in_(UNANSWERED_KINDS)
                | ((AnalyticsEvent.kind == FAQ_FEEDBACK) & (AnalyticsEvent.value < 0)),
            )
            .order_by(AnalyticsEvent.id.desc())
            .limit(limit)
        ).scalars()
        messages = []
        for e in rows:
            vector = np.frombuffer(e.embedding, dtype=np.float32) if e.embedding else None
            messages.append(
                GapMessage(
                    e.id,
                    e.conversation_id,
                    e.kind,
                    e.language or "en",
                    e.text,
                    e.created_at,
                    e.addressed_entry,
                    e.comment,
                    vector,
                    e.dismissed_at is not None,
                )
            )
    return messages


def embed_missing(url: str, messages: list[GapMessage], embedder: Embedder, batch: int = 64) -> int:
    """Embed (and remember) the messages recorded without a vector, e.g. thumbs-down questions."""
    todo = [m for m in messages if m.vector is None or m.vector.shape[0] != embedder.dim]
    for start in range(0, len(todo), batch):
        chunk = todo[start : start + batch]
        vectors = embedder.embed_queries([m.text for m in chunk]).astype(np.float32)
        with session_scope(url) as session:
            for message, vector in zip(chunk, vectors, strict=True):
                message.vector = vector
                event = session.get(AnalyticsEvent, message.event_id)
                if event is not None:
                    event.embedding, event.embedding_model = vector.tobytes(), embedder.name
    return len(todo)


# --- cluster ------------------------------------------------------------------
def _normalise(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def cluster(vectors: np.ndarray, threshold: float = DISTANCE_THRESHOLD, seed: int = 0) -> np.ndarray:
    """A group label per row: average-linkage agglomerative clustering on cosine distance.

    Exact up to EXACT_LIMIT rows; beyond, MiniBatchKMeans condenses the rows into
    micro-groups of about MICRO_GROUP_SIZE first and the micro-groups' centroids
    are clustered the same way (memory stays linear, time about a second per 10k).
    """
    n = vectors.shape[0]
    if n == 0:
        return np.zeros(0, dtype=int)
    if n == 1:
        return np.zeros(1, dtype=int)
    if n <= EXACT_LIMIT:
        return _agglomerative(_normalise(vectors), threshold)
    # Random initial centres: k-means++ costs minutes at a thousand centres, and the
    # agglomerative step after it repairs micro-groups that a random start split.
    micro = MiniBatchKMeans(
        n_clusters=max(n // MICRO_GROUP_SIZE, 2),
        init="random",
        random_state=seed,
        batch_size=4096,
        n_init=1,
        max_iter=30,
    ).fit(_normalise(vectors))
    centroids = _normalise(micro.cluster_centers_)
    return _agglomerative(centroids, threshold)[micro.labels_]


def language_means(kb: KnowledgeBase) -> dict[str, np.ndarray]:
    """The mean FAQ phrasing vector per language, from the live index."""
    return PhrasingVectors(kb).language_means()


def language_centred(vectors: np.ndarray, languages: list[str], means: dict[str, np.ndarray]) -> np.ndarray:
    """Subtract each language's mean vector: what is left is closer to the meaning than to the language.

    Multilingual sentence embeddings carry a strong language component (two Slovak
    questions on different topics can be closer than one question in Slovak and
    English); removing the per-language mean is the usual remedy.
    """
    if not means:
        return vectors
    centred = vectors.copy()
    for i, lang in enumerate(languages):
        mean = means.get(lang)
        if mean is not None:
            centred[i] = vectors[i] - mean
    return _normalise(centred)


def _agglomerative(unit: np.ndarray, threshold: float) -> np.ndarray:
    if unit.shape[0] < 2:
        return np.zeros(unit.shape[0], dtype=int)
    model = AgglomerativeClustering(
        n_clusters=None, distance_threshold=threshold, affinity="cosine", linkage="average"
    )
    return model.fit_predict(unit)


# --- describe -----------------------------------------------------------------
class PhrasingVectors:
    """The FAQ index's phrasing vectors by entry and language, read once per report."""

    def __init__(self, kb: KnowledgeBase) -> None:
        index = kb.snapshot.index
        total = index.index.ntotal
        self.vectors = index.index.reconstruct_n(0, total) if total else np.zeros((0, kb.embedder.dim))
        self.rows: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for i, row in enumerate(index.rows):
            self.rows[row.entry_id][row.lang].append(i)
        self.means = self._language_means()
        self.entry_ids = [row.entry_id for row in index.rows]
        self.centred = language_centred(self.vectors, [row.lang for row in index.rows], self.means)

    def of(self, entry_id: str) -> dict[str, np.ndarray]:
        """The entry's language-centred phrasing vectors, per language."""
        return {lang: self.centred[ids] for lang, ids in self.rows.get(entry_id, {}).items()}

    def nearest(self, centred: np.ndarray) -> tuple[str | None, float | None]:
        """The entry with the closest phrasing to a language-centred vector, and that closeness."""
        if not self.entry_ids:
            return None, None
        scores = self.centred @ centred
        best = int(np.argmax(scores))
        return self.entry_ids[best], float(scores[best])

    def language_means(self) -> dict[str, np.ndarray]:
        return self.means

    def _language_means(self) -> dict[str, np.ndarray]:
        by_lang: dict[str, list[int]] = defaultdict(list)
        for langs in self.rows.values():
            for lang, ids in langs.items():
                by_lang[lang].extend(ids)
        return {lang: self.vectors[ids].mean(axis=0) for lang, ids in by_lang.items()}


def describe(group: GapGroup, kb: KnowledgeBase | None, phrasings: PhrasingVectors | None = None) -> None:
    """Nearest entry and what is missing: a language, phrasings, or the whole topic."""
    group.languages = dict(Counter(m.language for m in group.messages).most_common())
    if kb is None:
        return
    phrasings = phrasings or PhrasingVectors(kb)
    means = phrasings.language_means()
    centred = [language_centred(m.vector.reshape(1, -1), [m.language], means)[0] for m in group.messages]
    centre = _normalise(np.mean(np.stack(centred), axis=0, keepdims=True))[0]
    group.nearest_id, group.nearest_score = phrasings.nearest(centre)
    if (
        group.nearest_id is None
        or group.nearest_score < NEAR_ENTRY_SCORE
        or not _search_agrees(kb, group, group.nearest_id)
    ):
        group.kind = "new_topic"
        return
    entry = kb.entry(group.nearest_id)
    per_lang = phrasings.of(group.nearest_id)
    missing = []
    for lang in group.languages:
        own = [c for c, m in zip(centred, group.messages, strict=True) if m.language == lang]
        lang_centre = _normalise(np.mean(np.stack(own), axis=0, keepdims=True))[0]
        best = {code: float(np.max(vectors @ lang_centre)) for code, vectors in per_lang.items()}
        same = best.get(lang)
        if (
            entry is None
            or lang not in entry.texts
            or same is None
            or max(best.values()) - same > LANGUAGE_GAP
        ):
            missing.append(lang)
    group.missing_languages = missing
    group.kind = "missing_language" if missing else "missing_phrasings"


def _search_agrees(kb: KnowledgeBase, group: GapGroup, entry_id: str, k: int = 3) -> bool:
    """Most of the group's messages find ``entry_id`` among the bot's own top hits too.

    Top 3, not top 1: a question in a language the entry lacks finds it below entries
    that have phrasings in that language.
    """
    dense = kb.snapshot.dense
    found = [{h.entry_id for h in dense.run(m.vector, k)} for m in group.messages]
    return sum(1 for hits in found if entry_id in hits) * 2 > len(found)


def agent_replies(url: str, conversation_ids: set[str]) -> dict[str, list[tuple[datetime, str]]]:
    """Every agent message of these conversations, oldest first (one query per report)."""
    replies: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    ids = sorted(conversation_ids)
    with session_scope(url) as session:
        for start in range(0, len(ids), 500):
            for cid, text, created in session.execute(
                select(ChatMessage.conversation_id, ChatMessage.text, ChatMessage.created_at)
                .where(
                    ChatMessage.conversation_id.in_(ids[start : start + 500]), ChatMessage.sender == "agent"
                )
                .order_by(ChatMessage.id)
            ):
                replies[cid].append((created, text))
    return replies


def agent_drafts(
    group: GapGroup,
    replies: dict[str, list[tuple[datetime, str]]],
    embedder: Embedder | None = None,
    limit: int = DRAFTS,
) -> list[str]:
    """The agent replies that answered the group's questions, in the same conversations.

    Only replies after the question, and (with an embedder) only those about it: a
    greeting, "anything else?" or the answer to a later question is not a draft.
    """
    firsts: dict[str, GapMessage] = {}
    for m in group.messages:
        if m.conversation_id and (
            m.conversation_id not in firsts or m.created_at < firsts[m.conversation_id].created_at
        ):
            firsts[m.conversation_id] = m
    drafts: list[str] = []
    for cid, question in sorted(firsts.items(), key=lambda item: item[1].created_at):
        after = [text for created, text in replies.get(cid, []) if created >= question.created_at]
        candidates = [t for t in (clean_text(t) for t in after[:REPLIES_PER_CONVERSATION]) if t]
        if embedder is not None and question.vector is not None and candidates:
            scores = embedder.embed_passages(candidates) @ question.vector
            best = float(np.max(scores))
            candidates = [
                t
                for t, score in zip(candidates, scores, strict=True)
                if score >= RELATED_REPLY and score >= best - RELATED_SPREAD
            ]
        elif embedder is None:
            candidates = candidates[:1]  # without vectors, only the reply right after the question
        for text in candidates:
            if text not in drafts and len(drafts) < limit:
                drafts.append(text)
    return drafts


def gap_groups(
    url: str,
    kb: KnowledgeBase | None,
    *,
    days: int = 30,
    threshold: float = DISTANCE_THRESHOLD,
    now: datetime | None = None,
) -> list[GapGroup]:
    """The whole report: open groups first (largest first), addressed ones after."""
    since = (now or datetime.utcnow()) - timedelta(days=days)
    messages = collect(url, since)
    if kb is not None:
        embed_missing(url, messages, kb.embedder)
    messages = [m for m in messages if m.vector is not None]
    if not messages:
        return []
    vectors = np.stack([m.vector for m in messages])
    phrasings = PhrasingVectors(kb) if kb is not None else None
    means = phrasings.language_means() if phrasings is not None else {}
    labels = cluster(language_centred(vectors, [m.language for m in messages], means), threshold)
    replies = agent_replies(url, {m.conversation_id for m in messages if m.conversation_id})
    members: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        members[int(label)].append(i)
    groups = []
    for rows in members.values():
        centroid = _normalise(vectors[rows].mean(axis=0, keepdims=True))[0]
        group = GapGroup([messages[i] for i in rows], centroid)
        describe(group, kb, phrasings)
        group.drafts = agent_drafts(group, replies, kb.embedder if kb is not None else None)
        groups.append(group)
    groups.sort(key=lambda g: (g.addressed, g.dismissed, -g.size, -len(g.languages)))
    return groups


def mark_addressed(url: str, event_ids: list[int], entry_id: str) -> int:
    with session_scope(url) as session:
        events = (
            session.execute(select(AnalyticsEvent).where(AnalyticsEvent.id.in_(event_ids))).scalars().all()
        )
        for event in events:
            event.addressed_entry, event.addressed_at = entry_id, datetime.utcnow()
        return len(events)


def dismiss(url: str, event_ids: list[int]) -> int:
    """Hide a group: its messages are dismissed; the group returns when a new message joins it."""
    with session_scope(url) as session:
        events = (
            session.execute(select(AnalyticsEvent).where(AnalyticsEvent.id.in_(event_ids))).scalars().all()
        )
        now = datetime.utcnow()
        for event in events:
            event.dismissed_at = now
        return len(events)


def suggested_id(text: str) -> str:
    """A snake_case id from an English example ("Do you sell gift cards?" -> do_you_sell_gift_cards)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())[:5]
    slug = "_".join(words) or "new_entry"
    return slug if slug[0].isalpha() else f"faq_{slug}"
