"""Client for the Rasa server's HTTP API (REST channel and tracker endpoints)."""

from __future__ import annotations

from typing import Any

import requests


class RasaUnavailable(Exception):
    pass


class RasaClient:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._auth = {"token": token} if token else {}
        self._http = requests.Session()

    def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict]:
        """One customer message in, the bot's replies out."""
        try:
            response = self._http.post(
                f"{self.base_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": text, "metadata": metadata or {}},
                timeout=self.timeout,
            )
            response.raise_for_status()
            return response.json() or []
        except (requests.RequestException, ValueError) as exc:
            raise RasaUnavailable(str(exc)) from exc

    def resume(self, sender: str) -> None:
        """Un-pause a conversation the bot handed to a person."""
        self._events(sender, [{"event": "resume"}])

    def resume_and_run(self, sender: str, action: str) -> list[dict]:
        """Resume a paused conversation and run one action (e.g. asking for a rating).

        /execute does not append ``action_listen``; without it no rule matches the
        customer's next message, so it is added here.
        """
        try:
            self.resume(sender)
            response = self._http.post(
                f"{self.base_url}/conversations/{sender}/execute",
                json={"name": action},
                params=self._auth,
                timeout=self.timeout,
            )
            response.raise_for_status()
            messages = response.json().get("messages") or []
            self._events(sender, [{"event": "action", "name": "action_listen"}])
            return messages
        except (requests.RequestException, ValueError) as exc:
            raise RasaUnavailable(str(exc)) from exc

    def _events(self, sender: str, events: list[dict]) -> None:
        try:
            self._http.post(
                f"{self.base_url}/conversations/{sender}/tracker/events",
                json=events,
                params=self._auth,
                timeout=self.timeout,
            ).raise_for_status()
        except requests.RequestException as exc:
            raise RasaUnavailable(str(exc)) from exc

    def status(self) -> dict[str, Any]:
        try:
            response = self._http.get(f"{self.base_url}/status", params=self._auth, timeout=3)
            response.raise_for_status()
            return {"status": "ok", "model": (response.json() or {}).get("model_file")}
        except (requests.RequestException, ValueError) as exc:
            return {"status": "down", "error": type(exc).__name__}
