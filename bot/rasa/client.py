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


class RasaTimedOut(RasaUnavailable):
    """The request reached a Rasa server but no answer came in time: it may have been processed."""


def bot_replies(replies: list[dict]) -> list[dict[str, Any]]:
    """Rasa REST replies -> our message shape (text, buttons, the FAQ entry; nothing executable)."""
    stored = []
    for reply in replies:
        custom = reply.get("custom") if isinstance(reply.get("custom"), dict) else {}
        text = reply.get("text") or str(custom.get("text") or "")
        buttons = [
            {"title": str(b.get("title", ""))[:80], "payload": str(b.get("payload", ""))[:200]}
            for b in reply.get("buttons") or []
            if isinstance(b, dict)
        ]
        # An FAQ answer names its entry, so the widget can ask "was this helpful?" about it.
        meta = {key: custom[key] for key in ("faq_id", "language") if isinstance(custom.get(key), str)}
        if text or buttons:
            stored.append({"text": text, "buttons": buttons or None, "meta": meta or None})
    return stored


def _describe(exc: Exception) -> str:
    """What went wrong, without the request's URL."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code}"
    return type(exc).__name__


class RasaClient:
    def __init__(self, base_urls: str | Sequence[str], token: str | None = None, timeout: float = 60.0) -> None:
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
            except requests.ConnectTimeout as exc:  # never reached it: try the next one
                last = exc
                continue
            except requests.ReadTimeout:
                raise RasaTimedOut("no answer in time") from None
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

    def replies_to_last_message(self, sender: str, text: str) -> list[dict] | None:
        """The bot's replies to ``text`` from the tracker, if it is the last message Rasa processed.

        After a timed-out send this tells "processed, answer lost in transit" (replies)
        from "never processed" (None), so the message is neither lost nor sent twice.
        """
        try:
            response = self._http().get(
                f"{self.base_url}/conversations/{sender}/tracker",
                params={**self._auth, "include_events": "AFTER_RESTART"},
                timeout=self.timeout,
            )
            response.raise_for_status()
            events = (response.json() or {}).get("events") or []
        except (requests.RequestException, ValueError) as exc:
            raise RasaUnavailable(_describe(exc)) from None
        last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=None)
        if last_user is None or (events[last_user].get("text") or "").strip() != text.strip():
            return None
        replies = []
        for event in events[last_user + 1 :]:
            if event.get("event") == "bot":
                data = event.get("data") or {}
                replies.append({"text": event.get("text"), "buttons": data.get("buttons"), "custom": data.get("custom")})
        return replies

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

    def warm_up(self, base: str) -> bool:
        """Parse one text on ``base``: a Rasa server's first parse builds TensorFlow's graphs and
        takes seconds, which should not be a customer's wait. Nothing is stored (no tracker)."""
        try:
            response = self._http().post(
                f"{base}/model/parse", json={"text": "hello"}, params=self._auth, timeout=self.timeout
            )
            return response.status_code == 200
        except requests.RequestException:
            return False

    def is_up(self, base: str) -> bool:
        try:
            return self._http().get(f"{base}/", timeout=3).status_code == 200
        except requests.RequestException:
            return False


class RasaWarmUp:
    """Warms each Rasa server up when it comes up: at start, and after a crash and restart."""

    def __init__(self, client: RasaClient) -> None:
        self._client = client
        self._warm: dict[str, bool] = {}

    def check(self) -> list[str]:
        """One look at every server; returns those warmed up just now."""
        warmed = []
        for base in self._client.base_urls:
            if not self._client.is_up(base):
                self._warm[base] = False  # down: it will be cold when it returns
            elif not self._warm.get(base):
                self._warm[base] = self._client.warm_up(base)
                if self._warm[base]:
                    warmed.append(base)
        return warmed

