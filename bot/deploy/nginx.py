"""nginx in front of the gateways: a site a shop includes, and a whole config for make run-prod."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.deploy.topology import ProductionPorts, Topology
from bot.settings import AttachmentSettings

# The upload paths (widget and console attachments) take a file plus its form; 1 MB to spare.
UPLOAD_BODY_MB = AttachmentSettings().max_file_bytes // (1024 * 1024) + 1

TEMPLATES = Path(__file__).resolve().parents[2] / "deploy" / "nginx"


@dataclass(frozen=True)
class Site:
    listen: str
    gateway_ports: tuple[int, ...]
    action_ports: tuple[int, ...]
    actions_proxy_port: int
    server_name: str = ""
    tls: tuple[str, ...] = ()  # ssl_certificate ... lines for a public site
    upload_body_mb: int = UPLOAD_BODY_MB


# What deploy/nginx/support-bot.conf holds: the site a shop copies to /etc/nginx/sites-available/.
SHOP_SITE = Site(
    listen="443 ssl http2",
    server_name="support.example.com",
    tls=(
        "ssl_certificate /etc/letsencrypt/live/support.example.com/fullchain.pem;",
        "ssl_certificate_key /etc/letsencrypt/live/support.example.com/privkey.pem;",
    ),
    gateway_ports=ProductionPorts.gateways,
    action_ports=ProductionPorts.actions,
    actions_proxy_port=ProductionPorts.actions_proxy,
)


def _templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # nginx config, not HTML
    )


def render_site(site: Site, *, rendered: bool = True) -> str:
    return _templates().get_template("site.conf.j2").render(rendered=rendered, **site.__dict__)


def site_for(topology: Topology) -> Site:
    proxy = topology.program("nginx")
    return Site(
        listen=f"127.0.0.1:{proxy.port}",
        gateway_ports=tuple(p.port for p in topology.of_kind("gateway") if p.port),
        action_ports=tuple(p.port for p in topology.of_kind("actions") if p.port),
        actions_proxy_port=_actions_proxy_port(topology),
    )


def _actions_proxy_port(topology: Topology) -> int:
    url = topology.of_kind("rasa")[0].environment["ACTION_ENDPOINT_URL"]
    return int(url.rsplit(":", 1)[1].split("/", 1)[0])


def write_nginx_config(topology: Topology) -> Path:
    """nginx.conf + site.conf under run_dir/nginx, for `nginx -p <that> -c nginx.conf`."""
    prefix = topology.run_dir / "nginx"
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / "tmp" / sub).mkdir(parents=True, exist_ok=True)
    (prefix / "logs").mkdir(exist_ok=True)  # nginx opens logs/error.log before reading the config
    topology.log_dir.mkdir(parents=True, exist_ok=True)
    (prefix / "site.conf").write_text(render_site(site_for(topology)), encoding="utf-8")
    conf = prefix / "nginx.conf"
    conf.write_text(
        _templates().get_template("nginx.conf.j2").render(prefix=prefix, log_dir=topology.log_dir),
        encoding="utf-8",
    )
    return conf
