"""Client for the Rasa servers' HTTP API (REST channel and tracker endpoints).

Several servers share one tracker store and lock store in production: a call
goes to this node's preferred server and moves on to the next one when it
can't be reached. Errors never carry the URL (it holds the token and the
conversation id).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import requests


class RasaUnavailable(Exception):
    pass


def bot_replies(replies: list[dict]) -> list[dict[str, Any]]:
    """Rasa REST replies -> our message shape (text + buttons, nothing executable)."""
    stored = []
    for reply in replies:
        custom = reply.get("custom") if isinstance(reply.get("custom"), dict) else {}
        text = reply.get("text") or str(custom.get("text") or "")
        buttons = [
            {"title": str(b.get("title", ""))[:80], "payload": str(b.get("payload", ""))[:200]}
            for b in reply.get("buttons") or []
            if isinstance(b, dict)
        ]
        if text or buttons:
            stored.append({"text": text, "buttons": buttons or None})
    return stored


def _describe(exc: Exception) -> str:
    """What went wrong, without the request's URL."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code}"
    return type(exc).__name__


class RasaClient:
    def __init__(self, base_urls: str | Sequence[str], token: str | None = None, timeout: float = 30.0) -> None:
        urls = [base_urls] if isinstance(base_urls, str) else list(base_urls)
        self.base_urls = [url.rstrip("/") for url in urls]
        self.timeout = timeout
        self._auth = {"token": token} if token else {}
        self._local = threading.local()  # requests.Session is not thread-safe

    @property
    def base_url(self) -> str:
        return self.base_urls[0]

    def _http(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _post(self, path: str, *, json: Any, auth: bool, timeout: float | None = None) -> requests.Response:
        last: Exception | None = None
        for base in self.base_urls:
            try:
                response = self._http().post(
                    f"{base}{path}",
                    json=json,
                    params=self._auth if auth else None,
                    timeout=timeout or self.timeout,
                )
            except requests.ConnectionError as exc:  # this server is down: try the next one
                last = exc
                continue
            except requests.RequestException as exc:
                raise RasaUnavailable(_describe(exc)) from None
            if response.status_code in (502, 503):
                last = requests.HTTPError(response=response)
                continue
            try:
                response.raise_for_status()
            except requests.HTTPError as exc:
                raise RasaUnavailable(_describe(exc)) from None
            return response
        raise RasaUnavailable(_describe(last) if last else "no Rasa server configured") from None

    def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict]:
        """One customer message in, the bot's replies out."""
        response = self._post(
            "/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": metadata or {}},
            auth=False,
        )
        try:
            return response.json() or []
        except ValueError:
            raise RasaUnavailable("invalid JSON from Rasa") from None

    def resume(self, sender: str) -> None:
        """Un-pause a conversation the bot handed to a person."""
        self._events(sender, [{"event": "resume"}])

    def resume_and_run(self, sender: str, action: str) -> list[dict]:
        """Resume a paused conversation and run one action (e.g. asking for a rating).

        /execute does not append ``action_listen``; without it no rule matches the
        customer's next message, so it is added here.
        """
        self.resume(sender)
        response = self._post(f"/conversations/{sender}/execute", json={"name": action}, auth=True)
        try:
            messages = response.json().get("messages") or []
        except (ValueError, AttributeError):
            raise RasaUnavailable("invalid JSON from Rasa") from None
        self._events(sender, [{"event": "action", "name": "action_listen"}])
        return messages

    def _events(self, sender: str, events: list[dict]) -> None:
        self._post(f"/conversations/{sender}/tracker/events", json=events, auth=True)

    def status(self) -> dict[str, Any]:
        servers = []
        for base in self.base_urls:
            try:
                response = self._http().get(f"{base}/status", params=self._auth, timeout=3)
                response.raise_for_status()
                servers.append({"status": "ok", "model": (response.json() or {}).get("model_file")})
            except (requests.RequestException, ValueError) as exc:
                servers.append({"status": "down", "error": _describe(exc)})
        up = [s for s in servers if s["status"] == "ok"]
        summary: dict[str, Any] = {"status": "ok" if up else "down", **(up[0] if up else servers[0])}
        if len(servers) > 1:
            summary["servers"] = servers
        return summary
