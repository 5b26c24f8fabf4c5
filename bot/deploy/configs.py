"""Writing the production topology's configuration files: nginx's and supervisord's."""

from __future__ import annotations

from pathlib import Path

from bot.deploy.nginx import write_nginx_config
from bot.deploy.supervisor import write_supervisor_config
from bot.deploy.topology import Topology


def write_production_configs(topology: Topology) -> Path:
    """nginx's config and supervisord's for the topology; returns supervisord's."""
    write_nginx_config(topology)
    return write_supervisor_config(list(topology.programs), topology.run_dir, topology.root)
