"""``python -m bot kb check|build|search`` for the content team."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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


def run_check(args: argparse.Namespace) -> int:
    from bot.kb.service import validate
    from bot.settings import load_settings

    path = args.path or load_settings().kb_path
    result = validate(path)
    for issue in result.issues:
        print(issue, file=sys.stderr if issue.severity == "error" else sys.stdout)
    print(
        f"{len(result.files)} files, {len(result.entries)} valid entries, "
        f"{len(result.errors)} errors, {len(result.warnings)} warnings"
    )
    failed = bool(result.errors) or (args.strict and bool(result.warnings))
    return 1 if failed else 0


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
    bar = tqdm(desc="embedding phrasings", unit="text")

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
        print(f"\nno answer: best score {decision.score:.3f} is below the threshold or too close to the next")
    return 0
