"""A bounded asyncio load client: simulated widgets and agents against a running gateway.

Every simulated visitor has its own loopback source address (127.0.x.y), so
per-address rate limits see distinct visitors. Widgets talk to the gateway
exactly as the browser client does: POST /api/session, a Socket.IO connection
(WebSocket) with ``auth={session_id, after}``, POST /api/chat.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import socketio

if not hasattr(aiohttp, "ClientWSTimeout"):
    # python-engineio's asyncio client names aiohttp>=3.10's timeout class; Rasa pins aiohttp 3.9,
    # whose ws_connect takes the same close timeout as a plain number.
    aiohttp.ClientWSTimeout = lambda ws_close=10.0, **_: ws_close  # type: ignore[attr-defined]

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CSRF_FORM = re.compile(r'name="csrf_token" value="([^"]+)"')


def visitor_address(index: int) -> str:
    """127.0.1.1, 127.0.1.2, ... 127.0.1.250, 127.0.2.1, ...: one loopback address per visitor."""
    return f"127.0.{1 + index // 250}.{1 + index % 250}"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[rank]


@dataclass
class Figures:
    chat_ms: list[float] = field(default_factory=list)
    delivery_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)

    def chat_summary(self) -> str:
        ms = self.chat_ms
        return (
            f"{len(ms)} messages: p50 {percentile(ms, 50):.0f} ms, p95 {percentile(ms, 95):.0f} ms, "
            f"p99 {percentile(ms, 99):.0f} ms, max {max(ms, default=float('nan')):.0f} ms"
        )

    def delivery_summary(self) -> str:
        ms = self.delivery_ms
        if not ms:
            return "no agent messages measured"
        return (
            f"{len(ms)} messages: p50 {percentile(ms, 50):.0f} ms, p95 {percentile(ms, 95):.0f} ms, "
            f"p99 {percentile(ms, 99):.0f} ms, max {max(ms):.0f} ms"
        )


class Widget:
    """One visitor's widget: a session, a pushed connection, and what it sent and received."""

    def __init__(self, base_url: str, index: int) -> None:
        self.base_url = base_url.rstrip("/")
        self.address = visitor_address(index)
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=(self.address, 0), limit=4),
            timeout=aiohttp.ClientTimeout(total=60),
        )
        self.session_id = ""
        self.sent: list[str] = []
        self.pushed: Counter = Counter()  # message id -> times pushed
        self.on_agent_message: Any = None
        self.sio: socketio.AsyncClient | None = None

    async def open(self) -> None:
        async with self.http.post(f"{self.base_url}/api/session") as response:
            response.raise_for_status()
            self.session_id = (await response.json())["session_id"]

    async def connect(self) -> None:
        sio = socketio.AsyncClient(http_session=self.http, reconnection=True, reconnection_delay=0.5)

        @sio.on("message")
        async def message(data: dict) -> None:
            self.pushed[data.get("id")] += 1
            if data.get("sender") == "agent" and self.on_agent_message is not None:
                self.on_agent_message(data)

        @sio.on("messages")
        async def backlog(data: dict) -> None:
            for item in data.get("messages") or []:
                self.pushed[item.get("id")] += 1

        await sio.connect(
            self.base_url,
            auth={"session_id": self.session_id, "after": 0},
            transports=["websocket"],
            wait_timeout=20,
        )
        self.sio = sio

    async def say(self, text: str, figures: Figures) -> dict | None:
        client_id = secrets.token_hex(8)
        start = time.perf_counter()
        try:
            async with self.http.post(
                f"{self.base_url}/api/chat",
                json={"session_id": self.session_id, "text": text, "client_id": client_id},
            ) as response:
                body = await response.json(content_type=None)
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            figures.errors[type(exc).__name__] += 1
            return None
        figures.chat_ms.append((time.perf_counter() - start) * 1000)
        figures.statuses[status] += 1
        if status in (200, 202):
            self.sent.append(text)
        return body

    async def history(self) -> list[dict]:
        messages: list[dict] = []
        after = 0
        while True:
            async with self.http.get(
                f"{self.base_url}/api/messages", params={"session_id": self.session_id, "after": after}
            ) as response:
                page = (await response.json())["messages"]
            if not page:
                return messages
            messages.extend(page)
            after = page[-1]["id"]

    async def close(self) -> None:
        if self.sio is not None:
            await self.sio.disconnect()
        await self.http.close()


def check_history(widget: Widget, history: list[dict], expect_answers: bool) -> tuple[int, int, int]:
    """(lost, duplicated, unanswered) customer messages, from the stored history."""
    stored = [m["text"] for m in history if m["sender"] == "customer"]
    sent = Counter(widget.sent)
    seen = Counter(stored)
    lost = sum((sent - seen).values())
    duplicated = sum((seen - sent).values())
    unanswered = 0
    if expect_answers:
        for i, message in enumerate(history):
            if message["sender"] != "customer":
                continue
            following = history[i + 1 :]
            nxt = next((m for m in following if m["sender"] != "customer"), None)
            before_next = next((m for m in following if m["sender"] == "customer"), None)
            if nxt is None or (before_next is not None and before_next["id"] < nxt["id"]):
                unanswered += 1
    return lost, duplicated, unanswered


class Agent:
    """An agent in the console: logs in, claims handoffs, replies."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.username, self.password = username, password
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=("127.0.0.2", 0)),
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=aiohttp.ClientTimeout(total=60),
        )
        self.csrf = ""

    async def login(self) -> None:
        async with self.http.get(f"{self.base_url}/agent/login") as page:
            token = CSRF_FORM.search(await page.text()).group(1)
        form = {"csrf_token": token, "username": self.username, "password": self.password, "next": ""}
        async with self.http.post(f"{self.base_url}/agent/login", data=form) as response:
            if response.status >= 400:
                raise RuntimeError(f"agent login failed: HTTP {response.status}")
        async with self.http.get(f"{self.base_url}/agent/") as page:
            self.csrf = CSRF_META.search(await page.text()).group(1)

    async def queue(self) -> dict:
        async with self.http.get(f"{self.base_url}/agent/queue.json") as response:
            return await response.json()

    async def claim(self, handoff_id: int) -> None:
        async with self.http.post(
            f"{self.base_url}/agent/handoffs/{handoff_id}/claim",
            headers={"X-CSRFToken": self.csrf, "Accept": "application/json"},
            json={},
        ) as response:
            response.raise_for_status()

    async def send(self, handoff_id: int, text: str) -> int:
        async with self.http.post(
            f"{self.base_url}/agent/handoffs/{handoff_id}/messages",
            headers={"X-CSRFToken": self.csrf},
            json={"text": text},
        ) as response:
            return response.status

    async def close(self) -> None:
        await self.http.close()
