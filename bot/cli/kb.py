"""``python -m bot kb check|build|search`` for the content team."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bot.kb.service import KnowledgeBase


def register(commands: argparse._SubParsersAction) -> None:
    kb = commands.add_parser("kb", help="validate, build and search the FAQ knowledge base")
    sub = kb.add_subparsers(dest="kb_command", required=True)
    check = sub.add_parser("check", help="validate the FAQ files; non-zero exit on any error")
    check.add_argument("--path", type=Path, help="folder with FAQ files (default: settings)")
    check.add_argument("--strict", action="store_true", help="warnings fail the check too")
    check.set_defaults(handler=run_check)
    build = sub.add_parser("build", help="embed the FAQ and build the FAISS index")
    build.add_argument("--path", type=Path)
    build.set_defaults(handler=run_build)
    search = sub.add_parser("search", help="show the best entries for a question")
    search.add_argument("text")
    search.add_argument("--lang", default=None, help="answer language (default: detected)")
    search.add_argument("-k", type=int, default=5)
    search.set_defaults(handler=run_search)
    gaps = sub.add_parser("gaps", help="the unanswered customer questions, grouped by meaning")
    gaps.add_argument("--days", type=int, default=30, help="look back this many days (default 30)")
    gaps.add_argument("--all", action="store_true", help="also list groups already addressed")
    gaps.set_defaults(handler=run_gaps)
    diff = sub.add_parser("diff", help="which questions would change their answer with the edited FAQ files")
    diff.add_argument("--against", default="HEAD", help="git revision of the published FAQ (default HEAD)")
    diff.add_argument("--path", type=Path, help="folder with the edited FAQ files (default: settings)")
    diff.add_argument("--days", type=int, default=30, help="also replay customer questions of these days")
    diff.set_defaults(handler=run_diff)


def run_check(args: argparse.Namespace) -> int:
    from bot.kb.facts import check_facts
    from bot.kb.service import validate
    from bot.settings import load_settings

    settings = load_settings()
    path = args.path or settings.kb_path
    result = validate(path, settings.shop.languages)
    # Facts the profile holds, typed by hand (or placeholders it does not know).
    result.issues.extend(check_facts(result.entries, settings.shop))
    if not result.errors and result.entries:
        result.issues.extend(_gate_issues(result.entries))
    for issue in result.issues:
        print(issue, file=sys.stderr if issue.severity == "error" else sys.stdout)
    print(
        f"{len(result.files)} files, {len(result.entries)} valid entries, "
        f"{len(result.errors)} errors, {len(result.warnings)} warnings"
    )
    failed = bool(result.errors) or (args.strict and bool(result.warnings))
    return 1 if failed else 0


def _gate_issues(entries: list) -> list:
    """Fit the answer gate on these entries (aside: the live index is not touched) and ask it."""
    from bot.kb.embedder import create_embedder
    from bot.kb.gate import gate_issues
    from bot.kb.index import build_index
    from bot.settings import load_settings

    settings = load_settings()
    embedder = create_embedder(settings.embedder.backend, settings.embedder.model)
    index = build_index(entries, embedder, settings.kb_index_dir, save=False)
    return gate_issues(entries, index.gate)


def _knowledge_base(path: Path | None) -> KnowledgeBase:
    from dataclasses import replace

    from bot.kb.factory import knowledge_base_from
    from bot.settings import load_settings

    settings = load_settings()
    if path:
        settings = replace(settings, kb_path=path)
    return knowledge_base_from(settings)


def run_build(args: argparse.Namespace) -> int:
    kb = _knowledge_base(args.path)
    bar = tqdm(desc="embedding phrasings", unit="text", disable=None)  # no bar in CI logs

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    status = kb.load(progress=progress)
    bar.close()
    for issue in status.issues:
        print(issue, file=sys.stderr)
    print(f"index ready: {status.entries} entries, content {status.content_hash}, model {status.model}")
    return 0 if status.ok else 1


def run_search(args: argparse.Namespace) -> int:
    from bot.nlu.language import detect_language

    kb = _knowledge_base(None)
    detection = detect_language(args.text)
    lang = args.lang or (detection.reply_language if detection else "en")
    decision = kb.decide(args.text)
    for rank, hit in enumerate(kb.search(args.text, k=args.k), 1):
        print(f"{rank}. {hit.entry_id:28s} {hit.score:.3f}  ({hit.matched_lang}) {hit.matched_question}")
    if decision.entry_id:
        entry = kb.entry(decision.entry_id)
        answer, used = entry.answer_in(lang)
        note = "" if used == lang else f" (no {lang} translation; English shown)"
        print(f"\nanswer [{decision.entry_id}, {used}]{note}:\n{answer}")
    else:
        print(
            f"\nno answer: best score {decision.score:.3f}, P(right) {decision.probability:.2f} "
            "is below 1 - routing.max_risk for this FAQ"
        )
    return 0


def run_gaps(args: argparse.Namespace) -> int:
    from bot import composition
    from bot.analytics.gaps import gap_groups

    services = composition.services()
    groups = gap_groups(services.database_url, services.knowledge_base, days=args.days)
    shown = [g for g in groups if args.all or not g.addressed]
    for number, group in enumerate(shown, 1):
        langs = ", ".join(f"{lang} {n}" for lang, n in group.languages.items())
        nearest = f"{group.nearest_id} {group.nearest_score:.3f}" if group.nearest_id else "none"
        missing = f" ({', '.join(group.missing_languages)})" if group.missing_languages else ""
        state = f"  [addressed: {group.addressed_entry}]" if group.addressed else ""
        print(f"{number}. {group.size} messages [{langs}] {group.kind}{missing}; nearest {nearest}{state}")
        for example in group.examples():
            print(f"   - ({example.language}) {example.text}")
        for draft in group.drafts:
            print(f"   agent: {draft}")
    print(
        f"{len(shown)} groups of {sum(g.size for g in shown)} unanswered messages in the last {args.days} days"
    )
    return 0


def _published_copy(revision: str, path: Path, target: Path) -> None:
    """The FAQ folder (inside this repository) as committed at ``revision``, extracted into ``target``."""
    import io
    import subprocess
    import tarfile

    from bot.settings import ROOT

    relative = path.resolve().relative_to(ROOT)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision, str(relative)], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith((".yml", ".yaml")):
                (target / Path(member.name).name).write_bytes(tar.extractfile(member).read())


def _query_vectors(texts: list[str], embedder: Any, cache_dir: Path) -> list[Any]:
    """Query vectors from the index's cache (every phrasing is there), embedding only the rest."""
    from bot.kb.embedder import text_key
    from bot.kb.index import VectorCache

    cache = VectorCache(cache_dir)
    found = [cache.get(text_key(embedder.name, "query", t)) for t in texts]
    missing = [i for i, v in enumerate(found) if v is None]
    for start in range(0, len(missing), 64):
        batch = missing[start : start + 64]
        for i, vector in zip(batch, embedder.embed_queries([texts[i] for i in batch]), strict=True):
            found[i] = vector
    return found


def run_diff(args: argparse.Namespace) -> int:
    import tempfile
    from datetime import datetime, timedelta

    from sqlalchemy import select

    from bot import composition
    from bot.analytics.models import AnalyticsEvent
    from bot.db import session_scope
    from bot.kb.service import KnowledgeBase

    settings = composition.services().settings
    edited_dir = args.path or settings.kb_path
    with tempfile.TemporaryDirectory(prefix="kb-published-") as tmp:
        try:
            _published_copy(args.against, settings.kb_path, Path(tmp))
        except Exception as exc:
            print(f"cannot read the FAQ at {args.against}: {exc}", file=sys.stderr)
            return 2
        base = _knowledge_base(None)
        # Both versions read the live index's vector cache and write nothing: only new texts are embedded.
        published = KnowledgeBase(
            Path(tmp), base.embedder, settings.kb_index_dir, base.gate.config, save_index=False
        )
        edited = KnowledgeBase(
            edited_dir, base.embedder, settings.kb_index_dir, base.gate.config, save_index=False
        )
        published.load()
        edited.load()
        questions = {
            q
            for kb in (published, edited)
            for e in kb.entries()
            for t in e.texts.values()
            for q in t.questions
        }
        since = datetime.utcnow() - timedelta(days=args.days)
        with session_scope(settings.database_url) as session:
            questions |= set(
                session.execute(
                    select(AnalyticsEvent.text)
                    .where(AnalyticsEvent.created_at >= since, AnalyticsEvent.text.is_not(None))
                    .limit(5000)
                ).scalars()
            )
        ordered = sorted(questions)
        vectors = _query_vectors(ordered, base.embedder, settings.kb_index_dir)
        changed = 0
        for question, vector in zip(ordered, vectors, strict=True):
            before, after = published.decide_vector(vector).entry_id, edited.decide_vector(vector).entry_id
            if before != after:
                changed += 1
                print(f"{question!r}: {before or 'no answer'} -> {after or 'no answer'}")
    print(f"{changed} of {len(questions)} questions change their answer ({args.against} -> {edited_dir})")
    return 0
