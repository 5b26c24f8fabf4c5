"""``python -m bot telegram set-webhook URL``: tell Telegram where to send updates, with the secret.

Telegram then sends every update to URL (the gateway's /channels/telegram/webhook, behind HTTPS)
with the secret in X-Telegram-Bot-Api-Secret-Token; the gateway refuses requests without it.
"""

from __future__ import annotations

import argparse
import re
import sys

# setWebhook's secret_token: 1-256 characters of A-Z, a-z, 0-9, _ and -.
SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def register(commands: argparse._SubParsersAction) -> None:
    telegram = commands.add_parser("telegram", help="the Telegram channel")
    sub = telegram.add_subparsers(dest="telegram_command", required=True)
    hook = sub.add_parser("set-webhook", help="register the gateway's webhook URL with Telegram")
    hook.add_argument("url", help="https://<your host>/channels/telegram/webhook")
    hook.set_defaults(handler=run_set_webhook)


def run_set_webhook(args: argparse.Namespace) -> int:
    from bot.channels.base import DeliveryError
    from bot.channels.telegram.api import BotApi
    from bot.settings import load_settings

    telegram = load_settings().telegram
    if telegram is None:
        print("set TELEGRAM_BOT_TOKEN (from @BotFather) and TELEGRAM_WEBHOOK_SECRET first", file=sys.stderr)
        return 2
    if not SECRET_TOKEN.match(telegram.webhook_secret):
        print("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -", file=sys.stderr)
        return 2
    if not args.url.startswith("https://"):
        print("Telegram sends updates only to an https:// URL", file=sys.stderr)
        return 2
    try:
        BotApi(telegram.bot_token, telegram.api_url).set_webhook(args.url, telegram.webhook_secret)
    except DeliveryError as exc:
        print(f"Telegram refused: {exc.reason}", file=sys.stderr)
        return 1
    print(f"webhook set: {args.url}")
    return 0
