"""Shared fixtures. Telemetry is off for every test, and nothing leaves the machine."""

from __future__ import annotations

import os
import secrets

os.environ["RASA_TELEMETRY_ENABLED"] = "false"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.mail import MailServer
from tests.support.stack import Stack

if TYPE_CHECKING:
    from flask import Flask

    from bot.composition import Services


@pytest.fixture(scope="session")
def stack_mail() -> Iterator[MailServer]:
    """The SMTP server (aiosmtpd) of the session stack: what the bot mails arrives here."""
    with MailServer() as server:
        yield server


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, stack_mail: MailServer) -> Iterator[Stack]:
    """The real Rasa server, action server and gateway, started once per test run, with a mail
    server (so the bot may promise mail; tests/unit/test_honest_mail.py covers running without)."""
    running = Stack(tmp_path_factory.mktemp("stack"), extra_env=stack_mail.env).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture()
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'app.db'}"


def service_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of one test's services: a private var/ folder and SQLite database."""
    from tests.support.stack import ROOT, test_settings_file

    return {
        "BOT_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'app.db'}",
        "BOT_SETTINGS": str(test_settings_file(tmp_path)),
        "KB_INDEX_DIR": str(ROOT / ".cache" / "kb"),
        "SECRET_KEY": "test-secret-key",
        "GATEWAY_PRELOAD_KB": "0",
        **extra,
    }


def build_test_services(tmp_path: Path, **extra: str) -> Services:
    from bot.composition import build_services
    from bot.settings import load_settings

    return build_services(load_settings(env=service_env(tmp_path, **extra)))


@pytest.fixture()
def mail_server() -> Iterator[MailServer]:
    """A real SMTP server (aiosmtpd) on loopback that keeps what it receives."""
    with MailServer() as server:
        yield server


@pytest.fixture()
def mail_env(tmp_path: Path, mail_server: MailServer) -> Iterator[Services]:
    """Like app_env, with SMTP configured: mail really leaves, so the bot may promise it."""
    from bot.composition import use_services

    services = build_test_services(tmp_path, **mail_server.env)
    use_services(services)
    try:
        yield services
    finally:
        use_services(None)
        services.close()


@pytest.fixture()
def app_env(tmp_path: Path) -> Iterator[Services]:
    """Services of their own for this test, installed as the action server's (actions use them)."""
    from bot.composition import use_services

    services = build_test_services(tmp_path)
    use_services(services)
    try:
        yield services
    finally:
        use_services(None)
        services.close()


def build_console_app(tmp_path: Path, usernames: tuple[str, ...], password: str, **env: str) -> Flask:
    """A gateway app with live Socket.IO and the given agents; Rasa is "down" (nothing listens)."""
    from bot.handoff import agents
    from bot.web import create_app
    from bot.web.realtime import create_socketio
    from tests.support.stack import free_port

    services = build_test_services(
        tmp_path,
        SECRET_KEY=secrets.token_hex(32),
        RASA_URL=f"http://127.0.0.1:{free_port()}",
        ACTION_SERVER_URL=f"http://127.0.0.1:{free_port()}",
        **env,
    )
    application = create_app(services)
    application.extensions["socketio"] = create_socketio(application, services)
    for name in usernames:
        agents.upsert_agent(services.database_url, name, password, name.capitalize())
    return application


def agent_id_of(url: str, username: str) -> int:
    from sqlalchemy import select

    from bot.db import session_scope
    from bot.handoff.models import Agent

    with session_scope(url) as db:
        return db.execute(select(Agent.id).where(Agent.username == username)).scalar_one()
