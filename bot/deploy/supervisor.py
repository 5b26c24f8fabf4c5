"""supervisord's config for a topology: every program restarted when it dies, none stops the others."""

from __future__ import annotations

import shlex
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.deploy.topology import Arg, EnvRef, Program, Topology

TEMPLATES = Path(__file__).resolve().parents[2] / "deploy"


def _escape(value: str) -> str:
    return value.replace("%", "%%")  # supervisor expands %(name)s in every value


def _argument(arg: Arg) -> str:
    if isinstance(arg, EnvRef):  # expanded by supervisord from its environment at start
        return f"%(ENV_{arg.name})s"
    return _escape(shlex.quote(arg))


def command_line(program: Program) -> str:
    return " ".join(_argument(arg) for arg in program.command)


def environment_line(program: Program) -> str:
    return ",".join(f'{key}="{_escape(value)}"' for key, value in sorted(program.env.items()))


def render_supervisor_config(topology: Topology) -> str:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES / "supervisor"),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # an INI file, not HTML
    )
    kinds: dict[str, list[str]] = {}
    for program in topology.programs:
        kinds.setdefault(program.kind, []).append(program.name)
    return env.get_template("supervisord.conf.j2").render(
        topology=topology,
        programs=topology.programs,
        groups=kinds,
        command_line=command_line,
        environment_line=environment_line,
        quote=_escape,
    )


def write_supervisor_config(topology: Topology) -> Path:
    topology.log_dir.mkdir(parents=True, exist_ok=True)
    path = topology.run_dir / "supervisord.conf"
    path.write_text(render_supervisor_config(topology), encoding="utf-8")
    return path
