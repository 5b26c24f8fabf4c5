"""An agent using the real agent console over HTTP (login, CSRF, claim, reply, resolve).

Browser tests act as the agent through the gateway, not the database, so what the
agent does is pushed to the widget exactly as in production.
"""

from __future__ import annotations

import re
from typing import Any

import requests

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

    def close(self) -> None:
        self.http.close()
