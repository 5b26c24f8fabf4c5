"""``python -m bot serve``: the web gateway on gevent's WSGI server.

One greenlet per connection, so an open widget or console costs no thread;
Socket.IO (WebSocket or long-polling) and the HTTP API share the port.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.composition import Services


def register(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="run the web gateway")
    serve.add_argument("--host", help="default: GATEWAY_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default: GATEWAY_PORT or 8000")
    serve.set_defaults(handler=run)


def banner(services: Services, port: int) -> list[str]:
    """What the gateway prints at start: where it listens, and whether mail really leaves."""
    from bot.shop.mailer import mail_status

    settings = services.settings
    node = settings.realtime.node_name
    mail = mail_status(services.database_url, settings.smtp, settings.dev_outbox)
    return [
        f"gateway {node}: widget at http://localhost:{port}/ , agent console at /agent",
        f"gateway {node}: {mail.describe()}",
    ]


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
            if services.channels:  # replies for Telegram (email ...) not sent yet, or stored elsewhere
                try:
                    services.outbound.deliver_due()
                except Exception:
                    logging.getLogger(__name__).exception("outbound sweep failed")

    from bot.handoff.tickets import UnclaimedSweep

    def expire_unclaimed_forever() -> None:
        """Without Redis only the gateway reaches the widgets, so it sweeps for unclaimed
        handoffs itself (with Redis the worker does; see bot.worker.unclaimed_handoffs)."""
        sweep = UnclaimedSweep(services.handoff, services.messages, services.mail_delivered)
        while True:
            gevent.sleep(settings.handoff.unclaimed_check_seconds)
            try:
                sweep.run_once()
            except Exception as exc:
                logging.getLogger(__name__).error("unclaimed-handoff sweep failed (%s)", type(exc).__name__)

    from bot.rasa.client import RasaWarmUp

    def warm_rasa_forever() -> None:
        warm_up = RasaWarmUp(services.rasa)
        while True:
            for base in warm_up.check():
                logging.getLogger(__name__).info("warmed up the Rasa server at %s", base)
            gevent.sleep(settings.realtime.relay_retry_seconds)

    from bot.web.live_connections import EXTENSION, SWEEP_SECONDS

    def close_stale_connections_forever() -> None:
        """Sockets of sessions revoked, ended, erased or expired elsewhere close here too."""
        live = app.extensions[EXTENSION]
        while True:
            gevent.sleep(SWEEP_SECONDS)
            try:
                live.sweep()
            except Exception as exc:
                logging.getLogger(__name__).error("socket sweep failed (%s)", type(exc).__name__)

    services.messages.release_claims_of(settings.realtime.node_name)  # a crash of this node left them
    gevent.spawn(warm_rasa_forever)
    gevent.spawn(deliver_waiting_forever)
    gevent.spawn(close_stale_connections_forever)
    if not settings.realtime.redis_url:
        gevent.spawn(expire_unclaimed_forever)
    host = args.host or settings.gateway_host
    port = args.port or settings.gateway_port
    for line in banner(services, port):
        print(line, flush=True)
    WSGIServer((host, port), app, log=None, error_log=logging.getLogger("gateway")).serve_forever()
    return 0
