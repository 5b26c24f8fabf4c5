"""The production topology's configs, checked by the real programs that read them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from supervisor.datatypes import RestartUnconditionally
from supervisor.options import ServerOptions

from bot.deploy.nginx import SHOP_SITE, render_site, write_nginx_config
from bot.deploy.topology import ProductionPorts, production_topology, write_production_configs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def topology(tmp_path: Path):
    return production_topology(ROOT, tmp_path / "run", ProductionPorts(proxy=18080))


def test_supervisord_reads_every_program_with_restart_and_its_environment(topology, monkeypatch) -> None:
    monkeypatch.setenv("RASA_TOKEN", "token-from-the-environment")
    path = write_production_configs(topology)
    assert "token-from-the-environment" not in path.read_text()  # secrets stay in the environment
    options = ServerOptions()
    options.configfile = str(path)
    options.process_config(do_usage=False)
    programs = {p.name: p for group in options.process_group_configs for p in group.process_configs}
    assert sorted(programs) == [
        "actions-1",
        "actions-2",
        "gateway-1",
        "gateway-2",
        "nginx",
        "rasa-1",
        "rasa-2",
        "worker",
    ]
    assert all(p.autorestart is RestartUnconditionally and p.killasgroup for p in programs.values())
    gateway = programs["gateway-2"]
    assert gateway.environment["NODE_NAME"] == "gateway-2"
    assert gateway.environment["TRUSTED_PROXY_HOPS"] == "1"
    assert gateway.environment["RASA_URLS"] == "http://127.0.0.1:5006,http://127.0.0.1:5005"
    assert "--host 127.0.0.1 --port 8002" in gateway.command
    assert "--auth-token token-from-the-environment" in programs["rasa-1"].command
    assert programs["nginx"].command.endswith("-g 'daemon off;'")


@pytest.mark.skipif(
    shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(), reason="make nginx"
)
def test_nginx_accepts_the_rendered_config(topology) -> None:
    conf = write_nginx_config(topology)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    checked = subprocess.run(
        [nginx, "-t", "-p", str(conf.parent), "-c", conf.name], capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_the_shop_site_in_deploy_is_the_rendered_template() -> None:
    """deploy/nginx/voltmart.conf is `python -m bot deploy nginx-site`: edit the template, then re-render."""
    assert (ROOT / "deploy" / "nginx" / "voltmart.conf").read_text() == render_site(SHOP_SITE, rendered=False)
