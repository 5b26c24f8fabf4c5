"""Backups of everything a deployment cannot rebuild: the app database, Rasa's tracker
database and the secret key (it seals the outbox and keys every stored hash).

SQLite is copied with its online backup API (a consistent snapshot while the stack keeps
writing); PostgreSQL with ``pg_dump --format=custom`` (one MVCC snapshot) and restored with
``pg_restore``. A backup folder holds one file per database, the key, and ``manifest.json``
(written last, with a SHA-256 per file): a folder without it is incomplete, and restore
refuses a file whose checksum differs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from bot.settings import Settings

MANIFEST = "manifest.json"
FORMAT = 1
SECRET_FILE = "secret_key"


class DatabaseKind(StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


class SecretSource(StrEnum):
    FILE = "file"  # var/secret_key: copied into the backup
    ENVIRONMENT = "environment"  # SECRET_KEY: kept by whoever keeps the environment, not copied


class BackupError(RuntimeError):
    """The backup or restore could not be done; the message says why, in plain words."""


@dataclass(frozen=True)
class Part:
    names: tuple[str, ...]  # "app", "tracker" (both when they share one database)
    kind: DatabaseKind
    file: str
    sha256: str


@dataclass(frozen=True)
class Manifest:
    format: int
    created_at: str
    parts: tuple[Part, ...]
    secret: SecretSource
    secret_sha256: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        raw = json.loads(text)
        parts = tuple(
            Part(tuple(p["names"]), DatabaseKind(p["kind"]), p["file"], p["sha256"]) for p in raw["parts"]
        )
        return cls(
            format=int(raw["format"]),
            created_at=raw["created_at"],
            parts=parts,
            secret=SecretSource(raw["secret"]),
            secret_sha256=raw.get("secret_sha256"),
            notes=tuple(raw.get("notes") or ()),
        )


def _kind(url: URL) -> DatabaseKind:
    backend = url.get_backend_name()
    if backend == "sqlite":
        return DatabaseKind.SQLITE
    if backend in ("postgresql", "postgres"):
        return DatabaseKind.POSTGRESQL
    raise BackupError(f"cannot back up a {backend} database: SQLite and PostgreSQL only")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_env(url: URL) -> dict[str, str]:
    """libpq's variables: the password never appears on a command line (ps would show it)."""
    env = dict(os.environ)
    for name, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value:
            env[name] = str(value)
    return env


def _run(command: list[str], url: URL) -> None:
    tool = command[0]
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed (Debian: apt-get install postgresql-client)")
    result = subprocess.run(command, env=_pg_env(url), capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise BackupError(f"{tool} failed: {result.stderr.strip()[-500:]}")


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _dump(url_text: str, names: tuple[str, ...], target: Path) -> Part:
    url = make_url(url_text)
    kind = _kind(url)
    stem = "+".join(names)
    if kind is DatabaseKind.SQLITE:
        source = _sqlite_path(url)
        if not source.exists():
            raise BackupError(f"the {stem} database {source} does not exist")
        out = target / f"{stem}.sqlite3"
        src = sqlite3.connect(source, timeout=60)  # read-write open: a WAL database needs its -shm
        dst = sqlite3.connect(out)
        try:
            src.backup(dst)  # all pages in one step: one consistent snapshot
        finally:
            dst.close()
            src.close()
    else:
        out = target / f"{stem}.pgdump"
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={out}"], url)
    return Part(names, kind, out.name, _sha256(out))


def _databases(settings: Settings) -> list[tuple[str, tuple[str, ...]]]:
    app, tracker = settings.database_url, settings.tracker_store_url
    if make_url(app) == make_url(tracker):
        return [(app, ("app", "tracker"))]
    return [(app, ("app",)), (tracker, ("tracker",))]


def backup(settings: Settings, target: Path) -> Manifest:
    """Write a backup into ``target`` (a new or empty folder)."""
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: back up into a new folder")
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(target, 0o700)  # it holds the secret key and customer data
    parts = tuple(_dump(url, names, target) for url, names in _databases(settings))
    notes: list[str] = []
    if settings.secret_key:
        secret, secret_sha = SecretSource.ENVIRONMENT, None
        notes.append("the secret key is SECRET_KEY in the environment: keep it with this backup")
    else:
        if not settings.secret_key_file.exists():
            raise BackupError(f"no secret key at {settings.secret_key_file}")
        copy = target / SECRET_FILE
        fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(settings.secret_key_file.read_bytes())
        secret, secret_sha = SecretSource.FILE, _sha256(copy)
    manifest = Manifest(
        format=FORMAT,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        parts=parts,
        secret=secret,
        secret_sha256=secret_sha,
        notes=tuple(notes),
    )
    partial = target / f"{MANIFEST}.partial"
    partial.write_text(manifest.to_json(), encoding="utf-8")
    partial.replace(target / MANIFEST)  # the manifest appears last: its presence means complete
    return manifest


def read_manifest(source: Path) -> Manifest:
    """The manifest of a complete, intact backup; BackupError otherwise."""
    path = source / MANIFEST
    if not path.exists():
        raise BackupError(f"{source} has no {MANIFEST}: not a backup, or an incomplete one")
    try:
        manifest = Manifest.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{path} is damaged ({type(exc).__name__})") from exc
    if manifest.format != FORMAT:
        raise BackupError(f"backup format {manifest.format} is not {FORMAT}")
    files = [(p.file, p.sha256) for p in manifest.parts]
    if manifest.secret is SecretSource.FILE:
        files.append((SECRET_FILE, manifest.secret_sha256 or ""))
    for name, expected in files:
        file = source / name
        if Path(name).name != name or not file.is_file():
            raise BackupError(f"{name} is missing from {source}")
        if _sha256(file) != expected:
            raise BackupError(f"{name} does not match its checksum: the backup is damaged")
    return manifest


def _load(part: Part, url_text: str, source: Path) -> None:
    url = make_url(url_text)
    if _kind(url) is not part.kind:
        raise BackupError(f"the backup holds a {part.kind} database; the target is {_kind(url)}")
    file = source / part.file
    if part.kind is DatabaseKind.SQLITE:
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        dst = sqlite3.connect(target, timeout=60)
        try:
            src.backup(dst)  # replaces the target's pages in one step
        finally:
            dst.close()
            src.close()
    else:
        _run(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
             f"--dbname={url.database}", str(file)],
            url,
        )


def restore(settings: Settings, source: Path) -> list[str]:
    """Put a backup back (the stack should be stopped); returns what the operator must know."""
    manifest = read_manifest(source)
    targets = {"app": settings.database_url, "tracker": settings.tracker_store_url}
    notes: list[str] = []
    for part in manifest.parts:
        _load(part, targets[part.names[0]], source)
        notes.append(f"restored {' and '.join(part.names)} database from {part.file}")
    if manifest.secret is SecretSource.FILE:
        key = (source / SECRET_FILE).read_bytes()
        if settings.secret_key and settings.secret_key.encode() != key.strip():
            notes.append("WARNING: SECRET_KEY in the environment differs from the backup's key; "
                         "queued mail and stored hashes need the backup's key (unset SECRET_KEY)")
        path = settings.secret_key_file
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        partial.replace(path)
        notes.append(f"restored the secret key to {path}")
    else:
        notes.append("the backup's secret key was SECRET_KEY in the environment: set the same SECRET_KEY")
    return notes
