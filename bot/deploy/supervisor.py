"""The supervisord configuration for a set of programs (``make run``, ``make run-prod``, tests).

Secrets never enter the file nor a command line: programs inherit the environment
supervisord was started with, and read them from there (Rasa's token: bot.rasa_server.token).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "supervisord.conf.j2"


@dataclass(frozen=True)
class Program:
    name: str
    command: str
    # Seconds a program must stay up to count as started (Rasa loads its model first).
    startsecs: int = 5
    environment: dict[str, str] = field(default_factory=dict)
    stopsignal: str = "TERM"  # nginx: QUIT, to finish the requests under way
    # What the production topology's tests and fault benchmark need to know about a program:
    kind: str = ""  # gateway | rasa | actions | proxy | worker
    port: int | None = None
    health_path: str | None = None  # GET 127.0.0.1:port+path answers 200 once it serves


def _environment(values: dict[str, str]) -> str:
    # supervisord's syntax: KEY="value",KEY2="value2" (a literal % is written %%)
    return ",".join(f'{key}="{value.replace("%", "%%")}"' for key, value in values.items())


def render_supervisor_config(programs: list[Program], var_dir: Path, root: Path = ROOT) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATE.parent), undefined=StrictUndefined, autoescape=False)
    return env.get_template(TEMPLATE.name).render(
        root=root,
        log_dir=var_dir / "log",
        run_dir=var_dir / "run",
        programs=[
            {
                "name": p.name,
                "command": p.command,
                "startsecs": p.startsecs,
                "stopsignal": p.stopsignal,
                "environment": _environment(p.environment),
            }
            for p in programs
        ],
    )


def write_supervisor_config(programs: list[Program], var_dir: Path, root: Path = ROOT) -> Path:
    for sub in ("log", "run"):
        (var_dir / sub).mkdir(parents=True, exist_ok=True)
    path = var_dir / "run" / "supervisord.conf"
    path.write_text(render_supervisor_config(programs, var_dir, root), encoding="utf-8")
    return path


def embedded_programs(
    venv_bin: Path, *, rasa_port: int, action_port: int, gateway_port: int
) -> list[Program]:
    """`make run`: one Rasa server, one action server, one gateway and the worker, on SQLite."""
    return [
        Program(
            "rasa",
            f"{venv_bin}/python -m bot.rasa_server run --enable-api -i 127.0.0.1 -p {rasa_port} "
            "--endpoints %(ENV_RASA_ENDPOINTS)s --credentials credentials.yml --model %(ENV_RASA_MODEL)s",
            startsecs=3,
        ),
        Program(
            "actions",
            f"{venv_bin}/rasa run actions --actions actions -p {action_port}",
            startsecs=3,
            environment={"ACTIONS_WARM_UP": "1"},
        ),
        Program("gateway", f"{venv_bin}/python -m bot serve --port {gateway_port}", startsecs=2),
        # Periodic jobs: the privacy retention purge, mail delivery (bot.worker).
        Program("worker", f"{venv_bin}/python -m bot worker", startsecs=2),
    ]
