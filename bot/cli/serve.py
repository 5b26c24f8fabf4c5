"""``python -m bot serve``: the web gateway on gevent's WSGI server.

One greenlet per connection, so an open widget or console costs no thread;
Socket.IO (WebSocket or long-polling) and the HTTP API share the port.
"""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="run the web gateway")
    serve.add_argument("--host", help="default: GATEWAY_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default: GATEWAY_PORT or 8000")
    serve.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import logging

    import gevent
    from gevent.pywsgi import WSGIServer

    from bot.composition import build_services
    from bot.settings import load_settings
    from bot.web import create_app
    from bot.web.realtime import create_socketio

    logging.getLogger().setLevel(logging.INFO)
    settings = load_settings()
    services = build_services(settings)
    app = create_app(services)
    create_socketio(app, services)
    relay = app.extensions["relay"]

    def deliver_waiting_forever() -> None:
        """Messages kept while Rasa was down (or claimed by a process that died) are delivered here."""
        while True:
            gevent.sleep(settings.realtime.relay_retry_seconds)
            try:
                relay.deliver_waiting()
            except Exception:
                logging.getLogger(__name__).exception("relay sweep failed")

    gevent.spawn(deliver_waiting_forever)
    host = args.host or settings.gateway_host
    port = args.port or settings.gateway_port
    print(
        f"gateway {settings.realtime.node_name}: widget at http://localhost:{port}/ , agent console at /agent",
        flush=True,
    )
    WSGIServer((host, port), app, log=None, error_log=logging.getLogger("gateway")).serve_forever()
    return 0
