"""Shared fixtures. Telemetry is off for every test, and nothing leaves the machine."""

from __future__ import annotations

import os

os.environ["RASA_TELEMETRY_ENABLED"] = "false"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.stack import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The real Rasa server, action server and gateway, started once per test run."""
    running = Stack(tmp_path_factory.mktemp("stack")).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture()
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'app.db'}"


def _clear_caches() -> None:
    from bot import composition
    from bot.db import _session_factory, get_engine
    from bot.settings import get_settings

    for cached in (
        get_settings,
        composition.knowledge_base,
        composition.router,
        composition.database_url,
        composition.secret,
        composition.shop_store,
        composition.handoff_service,
        get_engine,
        _session_factory,
    ):
        cached.cache_clear()


@pytest.fixture()
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private var/ folder and SQLite database; the composition root rebuilt around it."""
    from tests.support.stack import ROOT, test_settings_file

    monkeypatch.setenv("BOT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'app.db'}")
    monkeypatch.setenv("BOT_SETTINGS", str(test_settings_file(tmp_path)))
    monkeypatch.setenv("KB_INDEX_DIR", str(ROOT / ".cache" / "kb"))
    monkeypatch.setenv("SECRET_KEY", "test-secret-key")
    _clear_caches()
    yield tmp_path
    from bot import composition

    if composition.knowledge_base.cache_info().currsize:
        composition.knowledge_base().stop_watching()
    _clear_caches()
