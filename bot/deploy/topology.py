"""What runs where: the programs of a topology, as data that the config renderers turn into files.

The production topology on one machine: nginx in front of two gateways (sticky for Socket.IO),
two Rasa servers sharing the PostgreSQL tracker store and the Redis lock store, and two action
servers behind nginx. Connections and secrets (DATABASE_URL, REDIS_URL, RASA_TOKEN, SECRET_KEY...)
are not part of it: every program inherits them from the supervisor's environment, so no secret is
written into a config file.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class EnvRef:
    """An argument taken from the supervisor's environment when it starts (never written to disk)."""

    name: str


Arg = str | EnvRef


@dataclass(frozen=True)
class Program:
    name: str  # unique, e.g. "gateway-1"
    kind: str  # gateway | rasa | actions | proxy: what a fault run kills in turn
    command: tuple[Arg, ...]
    port: int | None = None
    env: dict[str, str] = field(default_factory=dict)
    start_seconds: int = 5  # alive this long counts as started (supervisor's startsecs)
    stop_signal: str = "TERM"
    priority: int = 500  # lower starts first
    health_path: str | None = None  # GET on 127.0.0.1:port that answers 200 once it serves


@dataclass(frozen=True)
class Topology:
    name: str
    root: Path  # the checkout: working directory of every program
    run_dir: Path  # rendered configs, sockets, pid files and logs
    programs: tuple[Program, ...]
    public_port: int  # where a browser connects
    log_to_console: bool = False  # make run: every program's output on the terminal

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "log"

    @property
    def supervisor_socket(self) -> Path:
        return self.run_dir / "supervisor.sock"

    def of_kind(self, kind: str) -> list[Program]:
        return [program for program in self.programs if program.kind == kind]

    def program(self, name: str) -> Program:
        return next(program for program in self.programs if program.name == name)


@dataclass(frozen=True)
class ProductionPorts:
    proxy: int = 8080
    gateways: tuple[int, ...] = (8001, 8002)
    rasa: tuple[int, ...] = (5005, 5006)
    actions: tuple[int, ...] = (5055, 5056)
    actions_proxy: int = 5050  # nginx spreads Rasa's action calls over the action servers


def nginx_binary() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


def production_topology(
    root: Path,
    run_dir: Path,
    ports: ProductionPorts | None = None,
    model: str = "models/current.tar.gz",
) -> Topology:
    ports = ports or ProductionPorts()
    venv = root / ".venv" / "bin"
    rasa_urls = [f"http://127.0.0.1:{port}" for port in ports.rasa]
    programs: list[Program] = []
    for index, port in enumerate(ports.actions, start=1):
        programs.append(
            Program(
                name=f"actions-{index}",
                kind="actions",
                command=(str(venv / "rasa"), "run", "actions", "--actions", "actions", "-p", str(port)),
                port=port,
                env={"SANIC_HOST": "127.0.0.1", "NODE_NAME": f"actions-{index}"},
                priority=100,
                health_path="/health",
            )
        )
    for index, port in enumerate(ports.rasa, start=1):
        programs.append(
            Program(
                name=f"rasa-{index}",
                kind="rasa",
                command=(
                    str(venv / "rasa"),
                    "run",
                    "--enable-api",
                    "--auth-token",
                    EnvRef("RASA_TOKEN"),
                    "-i",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "--endpoints",
                    "endpoints.production.yml",
                    "--credentials",
                    "credentials.yml",
                    "--model",
                    model,
                ),
                port=port,
                env={"ACTION_ENDPOINT_URL": f"http://127.0.0.1:{ports.actions_proxy}/webhook"},
                start_seconds=10,
                priority=200,
                health_path="/",  # Rasa accepts connections only once the model is loaded
            )
        )
    for index, port in enumerate(ports.gateways, start=1):
        # Each gateway prefers "its" Rasa server and moves on to the next one when it is down.
        preferred = rasa_urls[(index - 1) % len(rasa_urls) :] + rasa_urls[: (index - 1) % len(rasa_urls)]
        programs.append(
            Program(
                name=f"gateway-{index}",
                kind="gateway",
                command=(
                    str(venv / "python"),
                    "-m",
                    "bot",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ),
                port=port,
                env={
                    "NODE_NAME": f"gateway-{index}",
                    "GATEWAY_HOST": "127.0.0.1",
                    "GATEWAY_PORT": str(port),
                    "TRUSTED_PROXY_HOPS": "1",  # nginx, which overwrites X-Forwarded-For
                    "RASA_URL": preferred[0],
                    "RASA_URLS": ",".join(preferred),
                    "ACTION_SERVER_URL": f"http://127.0.0.1:{ports.actions_proxy}",  # /health asks it
                },
                priority=300,
                health_path="/health",
            )
        )
    nginx_dir = run_dir / "nginx"
    programs.append(
        Program(
            name="nginx",
            kind="proxy",
            command=(nginx_binary(), "-p", str(nginx_dir), "-c", "nginx.conf", "-g", "daemon off;"),
            port=ports.proxy,
            stop_signal="QUIT",  # graceful: finish the requests under way
            start_seconds=2,
            priority=400,
        )
    )
    return Topology(
        name="production", root=root, run_dir=run_dir, programs=tuple(programs), public_port=ports.proxy
    )
