"""``python -m bot serve``: the web gateway under waitress (a production WSGI server)."""

from __future__ import annotations

import argparse
import os


def register(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="run the web gateway")
    serve.add_argument("--host", default=os.environ.get("GATEWAY_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--threads", type=int, default=int(os.environ.get("GATEWAY_THREADS", "32")))
    serve.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import logging

    from waitress import serve

    from bot.web import create_app

    logging.getLogger().setLevel(logging.INFO)
    app = create_app()
    print(f"gateway: widget at http://localhost:{args.port}/ , agent console at /agent", flush=True)
    serve(app, host=args.host, port=args.port, threads=args.threads, ident="voltmart")
    return 0
