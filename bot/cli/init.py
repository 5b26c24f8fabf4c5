"""``python -m bot init DIR``: a new shop's folder; ``python -m bot embed``: the widget's snippet.

``init`` asks for what it is not given as flags (name, languages, contact email, policies),
writes DIR/shop.yml and an FAQ skeleton in the shop's languages (DIR/knowledge_base/), then
trains: DIR/models/current.tar.gz and the FAQ index. ``make run SHOP=DIR`` serves it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from bot.profile.model import LANGUAGES, ProfileError
from bot.shop.skeleton import NewShop, write_shop

ROOT = Path(__file__).resolve().parents[2]


def register(commands: argparse._SubParsersAction) -> None:
    init = commands.add_parser("init", help="make a new shop's folder: profile, FAQ skeleton, trained model")
    init.add_argument("directory", type=Path)
    init.add_argument("--name", help="the shop's name, as customers know it")
    init.add_argument("--languages", help=f"comma-separated, from {','.join(LANGUAGES)}; the first is the default")
    init.add_argument("--email", help="the contact email customers write to")
    init.add_argument("--phone", default="")
    init.add_argument("--website", default="", help="https://www.your-shop.example (also allowed to embed the widget)")
    init.add_argument("--currency", default="EUR")
    init.add_argument("--timezone", default="Europe/Bratislava")
    init.add_argument("--return-days", type=int, default=None, help="return window in days (default 14)")
    init.add_argument("--refund-days", type=int, default=14)
    init.add_argument("--warranty-months", type=int, default=24)
    init.add_argument("--shipping", type=float, default=3.90, help="standard shipping price")
    init.add_argument("--free-shipping-over", type=float, default=50.0)
    init.add_argument("--colour", default="#1f6feb", help="main colour of the widget, #rrggbb")
    init.add_argument("--no-train", action="store_true", help="write the files only")
    init.add_argument("--force", action="store_true", help="overwrite an existing shop.yml")
    init.set_defaults(handler=run_init)
    embed = commands.add_parser("embed", help="print the <script> tag that puts the widget on the shop's site")
    embed.add_argument("--gateway", default="", help="the gateway's public URL (default: this machine's)")
    embed.set_defaults(handler=run_embed)


def _ask(question: str, default: str = "") -> str:
    suffix = f" [{default}]" if default else ""
    answer = input(f"{question}{suffix}: ").strip()
    return answer or default


def run_init(args: argparse.Namespace) -> int:
    directory: Path = args.directory.resolve()
    if (directory / "shop.yml").exists() and not args.force:
        print(f"{directory / 'shop.yml'} exists; use --force to overwrite it", file=sys.stderr)
        return 2
    interactive = sys.stdin.isatty()
    name, languages, email, return_days = args.name, args.languages, args.email, args.return_days
    if interactive:
        name = name or _ask("Shop name")
        languages = languages or _ask(f"Languages ({','.join(LANGUAGES)}; first = default)", "en")
        email = email or _ask("Contact email for customers")
        if return_days is None:
            return_days = int(_ask("Return window in days", "14"))
    missing = [flag for flag, value in (("--name", name), ("--languages", languages), ("--email", email)) if not value]
    if missing:
        print(f"missing {', '.join(missing)} (no terminal to ask on)", file=sys.stderr)
        return 2
    shop = NewShop(
        name=name,
        languages=[code.strip() for code in languages.split(",") if code.strip()],
        contact_email=email,
        phone=args.phone,
        website=args.website,
        currency=args.currency,
        timezone=args.timezone,
        return_window_days=14 if return_days is None else return_days,
        refund_days=args.refund_days,
        warranty_months=args.warranty_months,
        shipping_standard=args.shipping,
        free_shipping_over=args.free_shipping_over,
        primary_colour=args.colour,
    )
    try:
        profile = write_shop(directory, shop)
    except ProfileError as error:
        print(f"not written, the profile would be invalid:\n{error}", file=sys.stderr)
        return 2
    print(f"wrote {profile} and {directory / 'knowledge_base' / 'faq.yml'}")
    if not args.no_train:
        env = {**os.environ, "SHOP_DIR": str(directory)}
        result = subprocess.run(["bash", str(ROOT / "scripts" / "train.sh")], cwd=ROOT, env=env, check=False)
        if result.returncode:
            print("training failed; run `make train SHOP=...` again after fixing the output above", file=sys.stderr)
            return result.returncode
    print(f"\nNext: edit {profile} and the FAQ, then start it with:\n  make run SHOP={directory}")
    return 0


def embed_snippet(gateway: str) -> str:
    return f'<script src="{gateway.rstrip("/")}/static/widget/chat-widget.js" defer></script>'


def run_embed(args: argparse.Namespace) -> int:
    from bot.settings import load_settings

    settings = load_settings()
    gateway = args.gateway or f"http://localhost:{settings.gateway_port}"
    print(f"  Put the widget on {settings.shop.name}'s site with one tag:")
    print(f"    {embed_snippet(gateway)}")
    origins = sorted(settings.allowed_origins)
    if origins:
        print(f"  Pages allowed to embed it: {', '.join(origins)}")
    else:
        print("  No site may embed it yet: list your site in allowed_origins of shop.yml (e.g. https://www.shop.example)")
    return 0
