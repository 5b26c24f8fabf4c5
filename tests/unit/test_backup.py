"""``python -m bot backup`` / ``restore`` on real SQLite and PostgreSQL, taken while messages
and Rasa tracker events are being written: everything acknowledged before the backup
started comes back, and so does the secret key that opens the sealed outbox."""

from __future__ import annotations

import os
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from bot.backup import BackupError, backup, read_manifest, restore
from bot.composition import Services
from bot.db import get_engine, session_scope
from bot.settings import Settings
from bot.shop.mailer import seal, unseal
from bot.shop.models import OutboxEmail
from tests.conftest import build_test_services, service_env
from tests.support.aio import run_async
from tests.support.stack import ROOT

POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _tracker(url: str):  # the SQL tracker store Rasa itself uses
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return SQLTrackerStore(Domain.empty(), dialect="sqlite", db=parsed.database)
    return SQLTrackerStore(
        Domain.empty(),
        dialect="postgresql",
        host=parsed.host,
        port=parsed.port,
        db=parsed.database,
        username=parsed.username,
        login_db=POSTGRES.rsplit("/", 1)[1],
    )


@dataclass
class Place:
    """One deployment's storage: where the databases and the key live."""

    env: dict[str, str]
    services: Services

    @property
    def settings(self) -> Settings:
        return self.services.settings


def _create_db(name: str) -> str:
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{POSTGRES.rsplit('/', 1)[0]}/{name}"


def _drop_db(url: str) -> None:
    get_engine(url).dispose()
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def places(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Place, Place]]:
    made: list[str] = []
    built: list[Place] = []

    def place(name: str) -> Place:
        folder = tmp_path / name
        (folder / "var").mkdir(parents=True)
        if request.param == "sqlite":
            urls = {
                "DATABASE_URL": f"sqlite:///{folder / 'var' / 'app.db'}",
                "RASA_TRACKER_STORE_URL": f"sqlite:///{folder / 'var' / 'rasa_tracker.db'}",
            }
        else:
            tag = secrets.token_hex(3)
            urls = {
                "DATABASE_URL": _create_db(f"backup_{name}_app_{tag}"),
                "RASA_TRACKER_STORE_URL": _create_db(f"backup_{name}_rasa_{tag}"),
            }
            made.extend(urls.values())
        env = {**urls, "SECRET_KEY": ""}  # the key lives in var/secret_key, as in `make run`
        result = Place(service_env(folder, **env), build_test_services(folder, **env))
        built.append(result)
        return result

    try:
        yield place("live"), place("restored")
    finally:
        for p in built:
            p.services.close()
            get_engine(p.settings.database_url).dispose()
        for url in made:
            _drop_db(url)


class Load:
    """Writers that keep storing chat messages and Rasa events; ``acked`` = what they confirmed."""

    def __init__(self, live: Place) -> None:
        self.live = live
        self.acked: list[str] = []
        self.events_acked: list[str] = []
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._messages, args=(n,)) for n in range(2)]
        self.threads.append(threading.Thread(target=self._tracker))

    def _messages(self, n: int) -> None:
        try:
            i = 0
            while not self.stop.is_set():
                label = f"writer{n}-message{i}"
                self.live.services.messages.record(f"load-conversation-{n}", "customer", label)
                self.acked.append(label)  # record() returned: the row is committed
                i += 1
        except BaseException as exc:
            self.errors.append(exc)

    def _tracker(self) -> None:
        from rasa.shared.core.events import UserUttered
        from rasa.shared.core.trackers import DialogueStateTracker

        try:
            store = _tracker(self.live.settings.tracker_store_url)
            events: list = []
            i = 0
            while not self.stop.is_set():
                events.append(UserUttered(f"tracked{i}", timestamp=time.time()))
                run_async(store.save(DialogueStateTracker.from_events("load-tracker", events)))
                self.events_acked.append(f"tracked{i}")
                i += 1
            store.engine.dispose()
        except BaseException as exc:
            self.errors.append(exc)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def texts_in(url: str) -> set[str]:
    with session_scope(url) as session:  # SQL by table name: the model's module may move
        return set(session.scalars(text("SELECT text FROM chat_messages")))


def tracker_texts(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT data FROM events WHERE type_name = 'user'")).scalars()
        found = {__import__("json").loads(r)["text"] for r in rows}
    engine.dispose()
    return found


def test_backup_under_load_restores_everything_acknowledged_before_it(places, tmp_path: Path) -> None:
    live, restored = places
    with session_scope(live.settings.database_url) as session:  # sealed with the live key
        session.add(
            OutboxEmail(to_address="eva@example.com", subject="s", body=seal(live.services.secret, "link"))
        )
    with Load(live) as load:
        while len(load.acked) < 200 or len(load.events_acked) < 20:
            time.sleep(0.05)
        before, events_before = set(load.acked), set(load.events_acked)
        manifest = backup(live.settings, tmp_path / "backup")
        deadline = time.monotonic() + 30  # writing goes on after the backup (slowly on a busy machine)
        while len(load.acked) <= len(before) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert not load.errors, load.errors
    assert len(load.acked) > len(before)  # the load really overlapped the backup
    assert {n for p in manifest.parts for n in p.names} == {"app", "tracker"}

    notes = restore(restored.settings, tmp_path / "backup")
    assert any("secret key" in n for n in notes)
    got = texts_in(restored.settings.database_url)
    assert before <= got, f"lost {len(before - got)} acknowledged messages"
    assert events_before <= tracker_texts(restored.settings.tracker_store_url)
    key = restored.settings.secret_key_file.read_bytes().strip()
    assert key == live.services.secret
    with session_scope(restored.settings.database_url) as session:
        sealed = session.scalars(select(OutboxEmail.body)).one()
    assert unseal(key, sealed) == "link"  # the restored key opens the mail the live one sealed


def test_a_damaged_or_incomplete_backup_is_refused(tmp_path: Path) -> None:
    env = {"SECRET_KEY": "", "RASA_TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'var' / 'rasa_tracker.db'}"}
    (tmp_path / "var").mkdir()
    services = build_test_services(tmp_path, **env)
    run_async(
        _tracker(services.settings.tracker_store_url).save(
            __import__("rasa.shared.core.trackers", fromlist=["x"]).DialogueStateTracker.from_events("s", [])
        )
    )
    target = tmp_path / "backup"
    backup(services.settings, target)
    with pytest.raises(BackupError, match="not empty"):
        backup(services.settings, target)
    app_file = next(p for p in target.iterdir() if p.name.startswith("app"))
    with app_file.open("r+b") as handle:
        handle.seek(200)
        handle.write(b"\x00garbage")
    with pytest.raises(BackupError, match="checksum"):
        read_manifest(target)
    (target / "manifest.json").unlink()
    with pytest.raises(BackupError, match="incomplete"):
        restore(services.settings, target)
    services.close()


def test_restore_from_the_command_line_asks_first(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    env = {
        **service_env(tmp_path),
        "SECRET_KEY": "",
        "PATH": "/usr/bin:/bin",
        "RASA_TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'var' / 'rasa_tracker.db'}",
    }
    python = [str(ROOT / ".venv" / "bin" / "python"), "-m", "bot"]

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*python, *argv],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )

    assert run("agents", "add", "eva", "--password-stdin").returncode == 2  # creates the databases
    sqlite_tracker = tmp_path / "var" / "rasa_tracker.db"
    import sqlite3

    sqlite3.connect(sqlite_tracker).execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY)"
    ).connection.commit()
    made = run("backup", str(tmp_path / "b"))
    assert made.returncode == 0 and "backup complete" in made.stdout, made.stderr
    refused = run("restore", str(tmp_path / "b"))
    assert refused.returncode == 2 and "--yes" in refused.stderr
    done = run("restore", str(tmp_path / "b"), "--yes")
    assert done.returncode == 0 and "restored the secret key" in done.stdout, done.stderr
    assert run("restore", str(tmp_path / "nothing-here"), "--yes").returncode == 1
