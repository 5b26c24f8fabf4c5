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
        self.wait_healthy(timeout)
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
        raise RuntimeError(f"stack not healthy after {timeout}s: {last and last.text}\n{self.tail('gateway')}")

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
