"""The production topology's configs, checked by the real programs that read them."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
from supervisor.datatypes import RestartUnconditionally
from supervisor.options import ServerOptions

from bot.deploy.configs import write_production_configs
from bot.deploy.nginx import SHOP_SITE, render_site, write_nginx_config
from bot.deploy.topology import ProductionPorts, production_topology

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
    assert "token-from-the-environment" not in programs["rasa-1"].command  # read from RASA_TOKEN, not argv
    assert "--auth-token" not in programs["rasa-1"].command
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
    """deploy/nginx/support-bot.conf is `python -m bot deploy nginx-site`: edit the template, then re-render."""
    assert (ROOT / "deploy" / "nginx" / "support-bot.conf").read_text() == render_site(SHOP_SITE, rendered=False)


def test_nginx_refuses_a_too_large_upload_in_json_and_lets_a_photo_through(tmp_path: Path) -> None:
    """The real nginx with the rendered config; no gateway behind it (a request let through gets 502)."""
    from tests.support.stack import free_port

    ports = ProductionPorts(proxy=free_port())
    conf = write_nginx_config(production_topology(ROOT, tmp_path / "run", ports))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen(
        [nginx, "-p", str(conf.parent), "-c", conf.name, "-g", "daemon off;"], stderr=subprocess.DEVNULL
    )
    try:
        base = f"http://127.0.0.1:{ports.proxy}"
        for _ in range(50):
            try:
                requests.get(base + "/health", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        too_big = requests.post(base + "/api/attachments", files={"file": ("a.jpg", bytes(12 * 1024 * 1024))})
        assert too_big.status_code == 413
        assert too_big.json() == {"error": "the file is too large (at most 10 MB)", "reason": "too_large"}
        photo = requests.post(base + "/api/attachments", files={"file": ("a.jpg", bytes(2 * 1024 * 1024))})
        assert photo.status_code == 502  # past the size check, on to the (absent) gateway
        chat = requests.post(base + "/api/chat", data=bytes(200 * 1024))
        assert chat.status_code == 413  # everything else keeps its 64 KiB limit
    finally:
        process.terminate()
        process.wait(timeout=10)
