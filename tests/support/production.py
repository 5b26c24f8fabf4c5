"""The production topology (bot.deploy) under a real supervisord, on free ports and a private database.

nginx -> 2 gateways -> 2 Rasa servers (PostgreSQL tracker store, Redis lock store) -> nginx -> 2 action
servers: the configs make run-prod uses, rendered into a temporary folder. Used by the stack tests
and by bench/faults.py.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

import requests
from requests_toolbelt.adapters.source import SourceAddressAdapter
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.deploy.configs import write_production_configs
from bot.deploy.supervisor import Program
from bot.deploy.topology import ProductionPorts, production_topology
from tests.support.stack import MODEL, ROOT, VENV_BIN, free_port, test_settings_file

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def session_from(address: str) -> requests.Session:
    """HTTP from one loopback source address, as one visitor's browser would be (127.0.1.x)."""
    session = requests.Session()
    adapter = SourceAddressAdapter(address)
    session.mount("http://", adapter)
    return session


class ProductionStack:
    def __init__(self, workdir: Path, extra_env: dict[str, str] | None = None) -> None:
        if not MODEL.exists():
            raise RuntimeError("no trained model at models/current.tar.gz: run `make train`")
        self.workdir = workdir
        ports = ProductionPorts(
            proxy=free_port(),
            gateways=(free_port(), free_port()),
            rasa=(free_port(), free_port()),
            actions=(free_port(), free_port()),
            actions_proxy=free_port(),
        )
        self.topology = production_topology(ROOT, workdir / "run", ports, model=str(MODEL))
        self.url = f"http://127.0.0.1:{ports.proxy}"
        self.database = f"test_prod_{secrets.token_hex(5)}"
        database_url = make_url(POSTGRES_URL).set(database=self.database)
        env = dict(os.environ)
        env.update(
            RASA_TELEMETRY_ENABLED="false",
            TF_CPP_MIN_LOG_LEVEL="2",
            SQLALCHEMY_SILENCE_UBER_WARNING="1",
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            PYTHONPATH=str(ROOT),
            OMP_NUM_THREADS="1",
            BOT_VAR_DIR=str(workdir / "var"),
            BOT_SETTINGS=str(test_settings_file(workdir)),
            KB_INDEX_DIR=str(ROOT / ".cache" / "kb"),
            DATABASE_URL=database_url.render_as_string(hide_password=False),
            POSTGRES_HOST=database_url.host or "127.0.0.1",
            POSTGRES_PORT=str(database_url.port or 5432),
            POSTGRES_DB=self.database,
            POSTGRES_USER=database_url.username or "postgres",
            POSTGRES_PASSWORD=database_url.password or "",
            REDIS_HOST=REDIS_HOST,
            REDIS_PORT=str(REDIS_PORT),
            # Its own Redis database for the rate limits, so concurrent test runs don't share counts.
            REDIS_URL=f"redis://{REDIS_HOST}:{REDIS_PORT}/{secrets.choice(range(2, 16))}",
            REALTIME_CHANNEL=f"voltmart-test-{secrets.token_hex(4)}",  # pub/sub ignores the db number
            RASA_TOKEN=secrets.token_hex(16),
            SECRET_KEY=secrets.token_hex(32),
        )
        env.update(extra_env or {})
        self.env = env
        self.supervisord: subprocess.Popen | None = None
        self.config: Path | None = None

    # --- lifecycle -------------------------------------------------------------------
    def start(self, timeout: float = 420) -> ProductionStack:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", future=True)
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.database}"'))
        admin.dispose()
        subprocess.run(
            [str(VENV_BIN / "python"), "-m", "bot", "seed"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )
        self.config = write_production_configs(self.topology)
        self.supervisord = subprocess.Popen(
            [str(VENV_BIN / "supervisord"), "-n", "-c", str(self.config)],
            cwd=ROOT,
            env=self.env,
            stdout=(self.workdir / "supervisord.out").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self.wait_serving(timeout=timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.supervisord is not None and self.supervisord.poll() is None:
            self.supervisord.send_signal(signal.SIGTERM)  # stops every program, then itself
            try:
                self.supervisord.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(self.supervisord.pid, signal.SIGKILL)
                self.supervisord.wait()
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", future=True)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
        admin.dispose()

    # --- health ----------------------------------------------------------------------
    def serves(self, program: Program) -> bool:
        """Whether the program answers on its own port right now."""
        path = program.health_path or "/health"
        try:
            return requests.get(f"http://127.0.0.1:{program.port}{path}", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def wait_serving(self, names: list[str] | None = None, timeout: float = 300) -> float:
        """Seconds until every named program (default: all) and the proxy answer."""
        started = time.monotonic()
        programs = [self.topology.program(n) for n in names] if names else list(self.topology.programs)
        programs = [p for p in programs if p.port]  # the worker serves nothing
        while True:
            if self.supervisord is not None and self.supervisord.poll() is not None:
                raise RuntimeError(f"supervisord exited:\n{self.tail('supervisord')}")
            waiting = [p for p in programs if not self.serves(p)]
            if not waiting:
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                logs = "\n".join(f"--- {p.name}\n{self.tail(p.name)}" for p in waiting)
                raise RuntimeError(f"not serving after {timeout}s: {[p.name for p in waiting]}\n{logs}")
            time.sleep(0.25)

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.topology.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    # --- supervision -----------------------------------------------------------------
    def supervisorctl(self, *args: str) -> str:
        assert self.config is not None
        done = subprocess.run(
            [str(VENV_BIN / "supervisorctl"), "-c", str(self.config), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return done.stdout.strip()

    def pid(self, name: str) -> int:
        answer = self.supervisorctl("pid", name)
        return int(answer) if answer.isdigit() else 0

    def kill(self, name: str) -> int:
        """``kill -9`` the program's process; returns its pid."""
        pid = self.pid(name)
        os.kill(pid, signal.SIGKILL)
        return pid

    def wait_restarted(self, name: str, old_pid: int, timeout: float = 300) -> float:
        """Seconds from now until the supervisor has a new process for ``name`` that serves."""
        started = time.monotonic()
        program = self.topology.program(name)
        while time.monotonic() - started < timeout:
            pid = self.pid(name)
            if pid and pid != old_pid and self.serves(program):
                return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError(f"{name} not back after {timeout}s:\n{self.tail(name)}")

    # --- talking to it -----------------------------------------------------------------
    def served_by(self, session: requests.Session) -> str:
        return session.get(f"{self.url}/health", timeout=10).headers.get("X-Served-By", "")

    def addresses_on_different_nodes(self, count: int = 2) -> list[str]:
        """Loopback source addresses 127.0.1.x that nginx's hash sends to ``count`` different gateways."""
        chosen: dict[str, str] = {}
        for last in range(2, 255):
            address = f"127.0.1.{last}"
            node = self.served_by(session_from(address))
            chosen.setdefault(node, address)
            if len(chosen) == count:
                return list(chosen.values())
        raise RuntimeError(f"every address went to {list(chosen)}")
