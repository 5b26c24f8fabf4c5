"""Starts the real processes (Rasa, action server, gateway) on free ports, under supervisord."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
MODEL = ROOT / "models" / "current.tar.gz"


_HANDED_OUT: set[int] = set()


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A free port below the kernel's ephemeral range, never the same twice in a run.

    Not ``bind(0)``: that port is in the ephemeral range, and while a server takes seconds to
    start, an outgoing connection (of the tests or of another stack) can take it first; the
    server then fails with "address already in use" and the stack never gets healthy.
    """
    low, high = 20000, max(20001, min(_ephemeral_low(), 32768))
    for _ in range(500):
        port = secrets.randbelow(high - low) + low
        if port in _HANDED_OUT:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError(f"no free port in {low}-{high}")


# Every request of a test run comes from 127.0.0.1, so limits per client address would make
# unrelated tests depend on each other. tests/test_security.py runs a stack of its own with
# the real limits of settings.yml.
SHARED_ADDRESS_LIMITS = {
    "limits": {
        "handoffs_per_client_per_hour": 10_000,
        "sessions_per_client_per_minute": 10_000,
        "session_ends_per_client_per_minute": 10_000,
        "socket_connects_per_client_per_minute": 10_000,
    },
    "verification": {"max_failures_per_client": 10_000},
}

IMAP_USER, IMAP_PASSWORD = "support@shop.example", "imap-test-password"  # tests/support/dovecot.py


def test_settings_file(directory: Path, overrides: dict | None = None, **handoff: object) -> Path:
    """settings.yml with agents always within hours (tests must not depend on the clock)."""
    settings = yaml.safe_load((ROOT / "settings.yml").read_text())
    settings["handoff"]["hours"] = "always"
    # Telegram on too: its Bot API is a local stand-in (tests/support/telegram.py) on telegram_api_port.
    # Email too: its mailbox is Debian's Dovecot on imap_port, once a test starts it (tests/support/dovecot.py).
    settings["channels"] = ["widget", "telegram", "email"]
    settings["handoff"].update(handoff)
    for section, values in (overrides or {}).items():
        settings.setdefault(section, {}).update(values)
    path = directory / "settings.yml"
    path.write_text(yaml.safe_dump(settings))
    return path


class Stack:
    def __init__(
        self,
        workdir: Path,
        *,
        production: bool = False,
        extra_env: dict | None = None,
        real_address_limits: bool = False,
        handoff_settings: dict | None = None,
    ) -> None:
        if not MODEL.exists():
            raise RuntimeError("no trained model at models/current.tar.gz: run `make train`")
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.rasa_port, self.action_port, self.gateway_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.gateway_port}"
        self.shop_port = free_port()  # a shop on another origin that embeds the widget (browser tests)
        self.shop_origin = f"http://127.0.0.1:{self.shop_port}"
        # Telegram's Bot API stand-in listens here once a test starts it (tests/support/telegram.py).
        self.telegram_api_port = free_port()
        self.telegram_token = f"{secrets.randbelow(10**9)}:{secrets.token_urlsafe(24)}"
        self.telegram_secret = secrets.token_urlsafe(24)
        self.imap_port = free_port()  # Dovecot listens here once a test starts it (tests/support/dovecot.py)
        env = dict(os.environ)
        env.update(
            RASA_TELEMETRY_ENABLED="false",
            TF_CPP_MIN_LOG_LEVEL="2",
            SQLALCHEMY_SILENCE_UBER_WARNING="1",
            PYTHONPATH=str(ROOT),
            SANIC_HOST="127.0.0.1",
            BOT_VAR_DIR=str(workdir / "var"),
            BOT_SETTINGS=str(
                test_settings_file(
                    workdir, None if real_address_limits else SHARED_ADDRESS_LIMITS, **(handoff_settings or {})
                )
            ),
            KB_INDEX_DIR=str(ROOT / ".cache" / "kb"),
            RASA_URL=f"http://127.0.0.1:{self.rasa_port}",
            ACTION_SERVER_URL=f"http://127.0.0.1:{self.action_port}",
            ACTION_ENDPOINT_URL=f"http://127.0.0.1:{self.action_port}/webhook",
            RASA_TOKEN=secrets.token_hex(16),
            RASA_TRACKER_DB=str(workdir / "rasa_tracker.db"),
            SECRET_KEY=secrets.token_hex(32),
            ALLOWED_ORIGINS=self.shop_origin,
            TELEGRAM_BOT_TOKEN=self.telegram_token,
            TELEGRAM_WEBHOOK_SECRET=self.telegram_secret,
            TELEGRAM_API_URL=f"http://127.0.0.1:{self.telegram_api_port}",
            IMAP_HOST="127.0.0.1",
            IMAP_PORT=str(self.imap_port),
            IMAP_USER=IMAP_USER,
            IMAP_PASSWORD=IMAP_PASSWORD,
            IMAP_SSL="0",
            EMAIL_ADDRESS=IMAP_USER,
            EMAIL_POLL_SECONDS="2",
        )
        if production:
            env.update(
                DATABASE_URL=env.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
                POSTGRES_HOST="127.0.0.1",
                POSTGRES_PORT="5432",
                POSTGRES_DB="test",
                POSTGRES_USER="postgres",
                POSTGRES_PASSWORD="",
                REDIS_HOST="127.0.0.1",
                REDIS_PORT="6379",
            )
        env.update(extra_env or {})
        self.env = env
        self.endpoints = "endpoints.production.yml" if production else "endpoints.yml"
        self.supervisor: subprocess.Popen | None = None

    def programs(self) -> list:
        from bot.deploy.supervisor import embedded_programs

        return embedded_programs(
            VENV_BIN, rasa_port=self.rasa_port, action_port=self.action_port, gateway_port=self.gateway_port
        )

    def start(self, timeout: float = 240) -> Stack:
        from bot.deploy.supervisor import write_supervisor_config

        subprocess.run(
            [str(VENV_BIN / "python"), "-m", "bot", "seed"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )
        self.env.update(RASA_ENDPOINTS=self.endpoints, RASA_MODEL=str(MODEL))
        self.config = write_supervisor_config(self.programs(), self.workdir / "var")
        self.supervisor = subprocess.Popen(
            [str(VENV_BIN / "supervisord"), "-c", str(self.config)],
            cwd=ROOT,
            env=self.env,
            stdout=(self.workdir / "supervisord.out").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self.wait_healthy(timeout)
        except BaseException:
            self.stop()  # a stack that never came up must not leave Rasa and the action server running
            raise
        return self

    def ctl(self, *args: str) -> str:
        result = subprocess.run(
            [str(VENV_BIN / "supervisorctl"), "-c", str(self.config), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
        )
        return result.stdout.strip()

    def pid(self, name: str) -> int:
        return int(self.ctl("pid", name) or 0)

    def kill(self, name: str) -> int:
        """kill -9 one program, as a crash would; supervisord restarts it."""
        pid = self.pid(name)
        os.kill(pid, signal.SIGKILL)
        return pid

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.supervisor.poll() is not None:
                raise RuntimeError(f"supervisord exited early; see {self.workdir}")
            try:
                last = requests.get(f"{self.url}/health", timeout=3)
                if last.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        health = last.text if last is not None else "no answer"
        logs = "\n".join(f"--- {name}\n{self.tail(name, 15)}" for name in ("gateway", "rasa", "actions"))
        raise RuntimeError(f"stack not healthy after {timeout}s: {health}\n{logs}")

    def stop_process(self, name: str) -> None:
        self.ctl("stop", name)

    def start_process(self, name: str) -> None:
        self.ctl("start", name)

    def restart(self, name: str, timeout: float = 240) -> None:
        self.ctl("restart", name)
        self.wait_healthy(timeout)

    def stop(self) -> None:
        if getattr(self, "supervisor", None) is None or self.supervisor.poll() is not None:
            return
        os.killpg(self.supervisor.pid, signal.SIGTERM)
        try:
            self.supervisor.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(self.supervisor.pid, signal.SIGKILL)
            self.supervisor.wait()

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.workdir / "var" / "log" / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    # --- the customer API ---------------------------------------------
    def new_session(self) -> str:
        return requests.post(f"{self.url}/api/session", timeout=10).json()["session_id"]

    def say(self, session_id: str, text: str, client_id: str | None = None) -> list[dict]:
        response = requests.post(
            f"{self.url}/api/chat",
            json={"session_id": session_id, "text": text, "client_id": client_id or secrets.token_hex(8)},
            timeout=60,
        )
        response.raise_for_status()
        return [m for m in response.json()["messages"] if m["sender"] != "customer"]
