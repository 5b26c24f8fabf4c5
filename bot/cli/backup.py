"""``python -m bot backup DIR`` and ``python -m bot restore DIR`` (see docs/operations.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(commands: argparse._SubParsersAction) -> None:
    backup = commands.add_parser("backup", help="back up both databases and the secret key into DIR")
    backup.add_argument("dir", type=Path, help="a new (or empty) folder")
    backup.set_defaults(handler=run_backup)
    restore = commands.add_parser("restore", help="restore a backup made by `backup` (stop the stack first)")
    restore.add_argument("dir", type=Path)
    restore.add_argument("--yes", action="store_true", help="replace the current databases without asking")
    restore.set_defaults(handler=run_restore)


def run_backup(args: argparse.Namespace) -> int:
    from bot.backup import BackupError, backup
    from bot.settings import load_settings

    try:
        manifest = backup(load_settings(), args.dir)
    except BackupError as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    for part in manifest.parts:
        print(f"{' and '.join(part.names)} database ({part.kind}): {args.dir / part.file}")
    print(f"secret key: {'copied' if manifest.secret == 'file' else 'in the environment (SECRET_KEY), not copied'}")
    for note in manifest.notes:
        print(f"note: {note}")
    print(f"backup complete: {args.dir / 'manifest.json'}")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from bot.backup import BackupError, read_manifest, restore
    from bot.settings import load_settings

    try:
        read_manifest(args.dir)  # a damaged backup is refused before anything is touched
    except BackupError as exc:
        print(f"restore refused: {exc}", file=sys.stderr)
        return 1
    if not args.yes:
        if not sys.stdin.isatty():
            print("restore replaces the databases and the secret key: stop the stack, then run with --yes",
                  file=sys.stderr)
            return 2
        if input("This replaces the databases and the secret key. Type yes: ").strip() != "yes":
            print("nothing changed", file=sys.stderr)
            return 2
    try:
        notes = restore(load_settings(), args.dir)
    except BackupError as exc:
        print(f"restore failed: {exc}", file=sys.stderr)
        return 1
    for note in notes:
        print(note)
    return 0
