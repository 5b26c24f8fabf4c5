"""Starts the real three processes (Rasa, action server, gateway) on free ports."""

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_settings_file(directory: Path, **handoff: object) -> Path:
    """settings.yml with agents always within hours (tests must not depend on the clock)."""
    settings = yaml.safe_load((ROOT / "settings.yml").read_text())
    settings["handoff"]["hours"] = "always"
    settings["handoff"].update(handoff)
    path = directory / "settings.yml"
    path.write_text(yaml.safe_dump(settings))
    return path


class Stack:
    def __init__(self, workdir: Path, *, production: bool = False, extra_env: dict | None = None) -> None:
        if not MODEL.exists():
            raise RuntimeError("no trained model at models/current.tar.gz: run `make train`")
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.rasa_port, self.action_port, self.gateway_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.gateway_port}"
        env = dict(os.environ)
        env.update(
            RASA_TELEMETRY_ENABLED="false",
            TF_CPP_MIN_LOG_LEVEL="2",
            SQLALCHEMY_SILENCE_UBER_WARNING="1",
            PYTHONPATH=str(ROOT),
            SANIC_HOST="127.0.0.1",
            BOT_VAR_DIR=str(workdir / "var"),
            BOT_SETTINGS=str(test_settings_file(workdir)),
            KB_INDEX_DIR=str(ROOT / ".cache" / "kb"),
            RASA_URL=f"http://127.0.0.1:{self.rasa_port}",
            ACTION_SERVER_URL=f"http://127.0.0.1:{self.action_port}",
            ACTION_ENDPOINT_URL=f"http://127.0.0.1:{self.action_port}/webhook",
            RASA_TOKEN=secrets.token_hex(16),
            RASA_TRACKER_DB=str(workdir / "rasa_tracker.db"),
            SECRET_KEY=secrets.token_hex(32),
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
        self.processes: dict[str, subprocess.Popen] = {}

    def command(self, name: str) -> list[str]:
        if name == "rasa":
            return [
                str(VENV_BIN / "rasa"),
                "run",
                "--enable-api",
                "--auth-token",
                self.env["RASA_TOKEN"],
                "-i",
                "127.0.0.1",
                "-p",
                str(self.rasa_port),
                "--endpoints",
                self.endpoints,
                "--credentials",
                "credentials.yml",
                "--model",
                str(MODEL),
            ]
        if name == "actions":
            return [
                str(VENV_BIN / "rasa"),
                "run",
                "actions",
                "--actions",
                "actions",
                "-p",
                str(self.action_port),
            ]
        return [str(VENV_BIN / "python"), "-m", "bot", "serve", "--port", str(self.gateway_port)]

    def start_process(self, name: str) -> None:
        log = (self.workdir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            self.command(name),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start(self, timeout: float = 240) -> Stack:
        subprocess.run(
            [str(VENV_BIN / "python"), "-m", "bot", "seed"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )
        for name in ("actions", "rasa", "gateway"):
            self.start_process(name)
        self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited early; see {self.workdir / (name + '.log')}:\n{self.tail(name)}"
                    )
            try:
                last = requests.get(f"{self.url}/health", timeout=3)
                if last.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        raise RuntimeError(f"stack not healthy after {timeout}s: {last and last.text}")

    def stop_process(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def restart(self, name: str, timeout: float = 240) -> None:
        self.stop_process(name)
        self.start_process(name)
        self.wait_healthy(timeout)

    def stop(self) -> None:
        for name in list(self.processes):
            self.stop_process(name)

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.workdir / f"{name}.log"
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
