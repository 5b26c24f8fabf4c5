"""``python -m bot deploy``: render the production topology's configs (supervisord, nginx)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(commands: argparse._SubParsersAction) -> None:
    deploy = commands.add_parser("deploy", help="render process-supervision and proxy configs")
    sub = deploy.add_subparsers(dest="deploy_command", required=True)
    production = sub.add_parser(
        "production", help="configs for nginx + 2 gateways + 2 Rasa + 2 action servers (make run-prod)"
    )
    production.add_argument("--run-dir", default="var/prod", help="where configs, logs and sockets go")
    production.add_argument("--port", type=int, default=8080, help="nginx's port on 127.0.0.1")
    production.add_argument("--model", default="models/current.tar.gz")
    production.set_defaults(handler=run_production)
    site = sub.add_parser("nginx-site", help="print the nginx site for a shop's /etc/nginx/sites-available/")
    site.add_argument("--listen", default="443 ssl http2")
    site.add_argument("--server-name", default="support.example.com")
    site.set_defaults(handler=run_site)


def run_production(args: argparse.Namespace) -> int:
    from bot.deploy.configs import write_production_configs
    from bot.deploy.topology import ProductionPorts, production_topology
    from bot.settings import ROOT

    run_dir = Path(args.run_dir).resolve()
    topology = production_topology(ROOT, run_dir, ProductionPorts(proxy=args.port), model=args.model)
    print(write_production_configs(topology))
    return 0


def run_site(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from bot.deploy.nginx import SHOP_SITE, render_site

    tls = SHOP_SITE.tls if "ssl" in args.listen else ()
    site = replace(SHOP_SITE, listen=args.listen, server_name=args.server_name, tls=tls)
    print(render_site(site, rendered=False), end="")
    return 0
