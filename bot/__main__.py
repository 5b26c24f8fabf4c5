"""``python -m bot``: the command line (route, kb, agents, seed, serve, ...)."""

import sys

if sys.argv[1:2] == ["serve"]:
    # The gateway runs on gevent: patch the standard library before anything imports it.
    from gevent import monkey

    monkey.patch_all()

from bot.cli import main

raise SystemExit(main())
