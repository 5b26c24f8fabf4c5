"""``python -m bot``: the command line (route, kb, agents, seed, serve)."""

from bot.cli import main

raise SystemExit(main())
