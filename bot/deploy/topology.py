"""What runs where: the programs of a topology, as data that the config renderers turn into files.

The production topology on one machine: nginx in front of two gateways (sticky for Socket.IO),
two Rasa servers sharing the PostgreSQL tracker store and the Redis lock store, and two action
servers behind nginx. Connections and secrets (DATABASE_URL, REDIS_URL, RASA_TOKEN, SECRET_KEY...)
are not part of it: every program inherits them from supervisord's environment, so no secret is
written into a config file. bot.deploy.supervisor renders it for supervisord, bot.deploy.nginx for nginx.
"""

from __future__ import annotations

import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

from bot.deploy.supervisor import Program


def command(*args: str, secrets: dict[str, str] | None = None) -> str:
    """A supervisord command line; ``secrets`` maps an argument to the environment variable that
    supervisord substitutes when it starts (``%(ENV_NAME)s``), so no secret is written to disk."""
    secrets = secrets or {}
    return " ".join(
        f"%(ENV_{secrets[arg]})s" if arg in secrets else shlex.quote(arg).replace("%", "%%") for arg in args
    )


@dataclass(frozen=True)
class Topology:
    name: str
    root: Path  # the checkout: working directory of every program
    run_dir: Path  # rendered configs (run/), logs (log/), nginx's prefix (nginx/)
    programs: tuple[Program, ...]
    public_port: int  # where a browser connects

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "log"

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
    actions_url = f"http://127.0.0.1:{ports.actions_proxy}"
    programs: list[Program] = []
    for index, port in enumerate(ports.actions, start=1):
        programs.append(
            Program(
                name=f"actions-{index}",
                kind="actions",
                command=command(
                    str(venv / "rasa"), "run", "actions", "--actions", "actions", "-p", str(port)
                ),
                port=port,
                environment={"SANIC_HOST": "127.0.0.1", "ACTIONS_WARM_UP": "1"},
                startsecs=3,
                health_path="/health",
            )
        )
    for index, port in enumerate(ports.rasa, start=1):
        programs.append(
            Program(
                name=f"rasa-{index}",
                kind="rasa",
                command=command(
                    str(venv / "python"),
                    "-m",
                    "bot.rasa_server",  # `rasa`, with bot.rasa_server.fixes
                    "run",
                    "--enable-api",  # the token comes from RASA_TOKEN (bot.rasa_server.token), not argv
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
                environment={"ACTION_ENDPOINT_URL": f"{actions_url}/webhook"},
                startsecs=3,
                health_path="/",  # Rasa accepts connections only once the model is loaded
            )
        )
    for index, port in enumerate(ports.gateways, start=1):
        # Each gateway prefers "its" Rasa server and moves on to the next one when it is down.
        first = (index - 1) % len(rasa_urls)
        preferred = rasa_urls[first:] + rasa_urls[:first]
        programs.append(
            Program(
                name=f"gateway-{index}",
                kind="gateway",
                command=command(
                    str(venv / "python"), "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)
                ),
                port=port,
                environment={
                    "NODE_NAME": f"gateway-{index}",
                    "GATEWAY_HOST": "127.0.0.1",
                    "GATEWAY_PORT": str(port),
                    "TRUSTED_PROXY_HOPS": "1",  # nginx, which overwrites X-Forwarded-For
                    "RASA_URL": preferred[0],
                    "RASA_URLS": ",".join(preferred),
                    "ACTION_SERVER_URL": actions_url,  # /health asks the action servers through nginx
                },
                startsecs=2,
                health_path="/health",
            )
        )
    # One worker for the whole topology: its jobs (retention purge, mail) are idempotent anyway.
    programs.append(
        Program(
            name="worker",
            kind="worker",
            command=command(str(venv / "python"), "-m", "bot", "worker"),
            startsecs=2,
        )
    )
    programs.append(
        Program(
            name="nginx",
            kind="proxy",
            command=command(
                nginx_binary(), "-p", str(run_dir / "nginx"), "-c", "nginx.conf", "-g", "daemon off;"
            ),
            port=ports.proxy,
            stopsignal="QUIT",
            startsecs=2,
        )
    )
    return Topology(
        name="production", root=root, run_dir=run_dir, programs=tuple(programs), public_port=ports.proxy
    )
