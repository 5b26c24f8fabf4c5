"""The one small client for Telegram's Bot API: sendMessage, answerCallbackQuery, setWebhook.

Requests go to ``{api_url}/bot{token}/{method}`` as JSON; Telegram answers ``{"ok": true,
"result": ...}`` or ``{"ok": false, "error_code": ..., "description": ..., "parameters":
{"retry_after": ...}}``. Errors never carry the URL (it holds the bot token).
"""

from __future__ import annotations

import threading
from typing import Any

import requests

from bot.channels.base import DeliveryError

# Telegram refuses these for good: a retry cannot help (chat gone, bot blocked, bad request).
PERMANENT_CODES = {400, 401, 403, 404}


class BotApi:
    def __init__(self, token: str, api_url: str = "https://api.telegram.org", timeout: float = 15.0) -> None:
        self._base = f"{api_url.rstrip('/')}/bot{token}"
        self.timeout = timeout
        self._local = threading.local()  # requests.Session is not thread-safe

    def _http(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def call(self, method: str, params: dict[str, Any]) -> Any:
        """One Bot API method; its ``result``, or DeliveryError (permanent for 4xx but 429)."""
        try:
            response = self._http().post(f"{self._base}/{method}", json=params, timeout=self.timeout)
        except requests.RequestException as exc:
            raise DeliveryError(f"{method}: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            raise DeliveryError(f"{method}: HTTP {response.status_code}, not JSON") from None
        if isinstance(body, dict) and body.get("ok") is True:
            return body.get("result")
        code = (
            body.get("error_code", response.status_code) if isinstance(body, dict) else response.status_code
        )
        description = str(body.get("description", ""))[:120] if isinstance(body, dict) else ""
        parameters = body.get("parameters") if isinstance(body, dict) else None
        retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
        raise DeliveryError(
            f"{method}: {code} {description}".strip(),
            permanent=code in PERMANENT_CODES,
            retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
        )

    def send_message(self, chat_id: str, text: str, reply_markup: dict[str, Any] | None = None) -> Any:
        params: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if reply_markup:
            params["reply_markup"] = reply_markup
        return self.call("sendMessage", params)

    def answer_callback_query(self, callback_query_id: str, text: str | None = None) -> Any:
        params: dict[str, Any] = {"callback_query_id": callback_query_id}
        if text:
            params["text"] = text
        return self.call("answerCallbackQuery", params)

    def set_webhook(self, url: str, secret_token: str) -> Any:
        return self.call(
            "setWebhook",
            {"url": url, "secret_token": secret_token, "allowed_updates": ["message", "callback_query"]},
        )
