"""An agent using the real agent console over HTTP (login, CSRF, claim, reply, resolve).

Browser tests act as the agent through the gateway, not the database, so what the
agent does is pushed to the widget exactly as in production.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
import socketio

FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class AgentConsole:
    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()
        page = self.http.get(f"{self.base_url}/agent/login", timeout=10)
        page.raise_for_status()
        form_token = FORM_TOKEN.search(page.text)
        assert form_token, "no CSRF token on the login page"
        login = self.http.post(
            f"{self.base_url}/agent/login",
            data={"username": username, "password": password, "csrf_token": form_token.group(1)},
            allow_redirects=False,
            timeout=10,
        )
        assert login.status_code == 303, f"agent login failed: HTTP {login.status_code}"
        queue = self.http.get(f"{self.base_url}/agent/", timeout=10)
        meta_token = META_TOKEN.search(queue.text)
        assert meta_token, "no CSRF token on the queue page"
        self.token = meta_token.group(1)

    def _post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.post(
            f"{self.base_url}{path}",
            json=body or {},
            headers={"Accept": "application/json", "X-CSRFToken": self.token},
            timeout=60,
        )
        assert response.ok, f"{path}: HTTP {response.status_code} {response.text[:200]}"
        return response.json()

    def claim(self, handoff_id: int) -> None:
        self._post(f"/agent/handoffs/{handoff_id}/claim")

    def reply(self, handoff_id: int, text: str) -> dict[str, Any]:
        return self._post(f"/agent/handoffs/{handoff_id}/messages", {"text": text})["message"]

    def resolve(self, handoff_id: int) -> dict[str, Any]:
        """Resolves; the gateway then has the bot ask the customer for a rating."""
        return self._post(f"/agent/handoffs/{handoff_id}/resolve")

    def watch(self, handoff_id: int) -> LiveConsole:
        """The console's live connection (Socket.IO, as the logged-in agent) on one conversation."""
        cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.http.cookies)
        return LiveConsole(self.base_url, cookies, handoff_id)

    def close(self) -> None:
        self.http.close()


class LiveConsole:
    def __init__(self, base_url: str, cookies: str, handoff_id: int) -> None:
        self.events: list[tuple[str, Any]] = []
        self._changed = threading.Condition()
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", self._record)
        self.client.connect(
            base_url,
            headers={"Cookie": cookies, "Origin": base_url},
            auth={"role": "agent"},
            transports=["polling"],
            wait_timeout=10,
        )
        answer = self.client.call("watch", {"handoff_id": handoff_id}, timeout=10)
        assert "error" not in answer, answer

    def _record(self, event: str, data: Any = None) -> None:
        with self._changed:
            self.events.append((event, data))
            self._changed.notify_all()

    def typing(self, typing: bool) -> None:
        self.client.emit("typing", {"typing": typing})

    def wait_for(self, matches: Callable[[str, Any], bool], timeout: float = 10) -> tuple[str, Any]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for event, data in self.events:
                    if matches(event, data):
                        return event, data
                left = deadline - time.monotonic()
                assert left > 0, f"no matching event in {self.events}"
                self._changed.wait(left)

    def close(self) -> None:
        self.client.disconnect()


def agents_offline(database_url: str, *usernames: str) -> None:
    """Set these agents (all, when none is named) offline: a console login keeps one online for 90 s,
    and later tests expect nobody online."""
    from sqlalchemy import update

    from bot.db import session_scope
    from bot.handoff.models import Agent

    query = update(Agent)
    if usernames:
        query = query.where(Agent.username.in_(usernames))
    with session_scope(database_url) as session:
        session.execute(query.values(last_seen_at=None, presence="offline"))
