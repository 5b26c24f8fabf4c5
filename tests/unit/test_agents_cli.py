"""``python -m bot agents``: add refuses an existing name, list, disable (ends sessions), enable."""

from __future__ import annotations

import io
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from bot.cli import build_parser
from bot.composition import Services, use_services
from bot.handoff.agents import authenticate
from tests.conftest import build_test_services, service_env
from tests.support.stack import ROOT, free_port

PASSWORD = "correct horse battery"


def cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *argv: str, stdin: str = ""
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    args = build_parser().parse_args(["agents", *argv])
    code = int(args.handler(args) or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture()
def services(tmp_path: Path) -> Services:
    built = build_test_services(
        tmp_path,
        SECRET_KEY=secrets.token_hex(32),
        RASA_URL=f"http://127.0.0.1:{free_port()}",
        ACTION_SERVER_URL=f"http://127.0.0.1:{free_port()}",
    )
    use_services(built)
    yield built
    use_services(None)
    built.close()


def test_add_refuses_an_existing_name_and_keeps_its_password(services, monkeypatch, capsys) -> None:
    assert cli(monkeypatch, capsys, "add", "eva", "--password-stdin", stdin=PASSWORD + "\n")[0] == 0
    code, out, err = cli(monkeypatch, capsys, "add", "eva", "--password-stdin", stdin="another password!\n")
    assert code == 1 and "exists" in err and "agents password eva" in err and out == ""
    assert authenticate(services.database_url, "eva", PASSWORD) is not None
    assert authenticate(services.database_url, "eva", "another password!") is None
    # changing it is its own, explicit command
    assert (
        cli(monkeypatch, capsys, "password", "eva", "--password-stdin", stdin="a brand new password\n")[0]
        == 0
    )
    assert authenticate(services.database_url, "eva", "a brand new password") is not None
    assert cli(monkeypatch, capsys, "password", "nobody", "--password-stdin", stdin=PASSWORD + "\n")[0] == 1


def test_add_refuses_bad_input_with_usage_exit_code(services, monkeypatch, capsys) -> None:
    assert cli(monkeypatch, capsys, "add", "eva", "--password-stdin", stdin="short\n")[:1] == (2,)
    assert cli(monkeypatch, capsys, "add", "bad name!", "--password-stdin", stdin=PASSWORD + "\n")[0] == 2
    assert "no agents yet" in cli(monkeypatch, capsys, "list")[1]


def test_list_shows_role_and_state(services, monkeypatch, capsys) -> None:
    cli(
        monkeypatch,
        capsys,
        "add",
        "sam",
        "--role",
        "supervisor",
        "--display-name",
        "Sam S",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    cli(monkeypatch, capsys, "add", "alex", "--password-stdin", stdin=PASSWORD + "\n")
    cli(monkeypatch, capsys, "disable", "alex")
    code, out, _ = cli(monkeypatch, capsys, "list")
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert code == 0 and rows["sam"][1:3] == ["supervisor", "active"]
    assert rows["alex"][1:3] == ["agent", "disabled"]
    assert "Sam S" in out


def login(app: Flask, username: str) -> object:
    client = app.test_client()
    page = client.get("/agent/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/agent/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303
    return client


def test_disable_ends_open_sessions_and_enable_allows_a_new_login(services, monkeypatch, capsys) -> None:
    from bot.web import create_app

    cli(monkeypatch, capsys, "add", "eva", "--password-stdin", stdin=PASSWORD + "\n")
    app = create_app(services)
    client = login(app, "eva")
    assert client.get("/agent/").status_code == 200
    code, out, _ = cli(monkeypatch, capsys, "disable", "eva")
    assert code == 0 and "disabled" in out
    assert client.get("/agent/").status_code == 302  # the open session is over at once
    assert authenticate(services.database_url, "eva", PASSWORD) is None
    assert cli(monkeypatch, capsys, "enable", "eva")[0] == 0
    assert client.get("/agent/").status_code == 302  # enabling does not revive the old session
    assert login(app, "eva").get("/agent/").status_code == 200
    assert cli(monkeypatch, capsys, "disable", "nobody")[0] == 1


def test_the_real_command_line_exit_codes(tmp_path: Path) -> None:
    env = {**service_env(tmp_path), "PATH": "/usr/bin:/bin", "RASA_TELEMETRY_ENABLED": "false"}
    (tmp_path / "var").mkdir(exist_ok=True)

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "-m", "bot", "agents", *argv],
            input=PASSWORD + "\n",
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert run("add", "eva", "--password-stdin").returncode == 0
    again = run("add", "eva", "--password-stdin")
    assert again.returncode == 1 and "agent eva exists" in again.stderr
