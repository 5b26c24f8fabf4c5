"""A local stand-in for Telegram's Bot API (no network here), and updates in Telegram's format.

It answers ``POST /bot<token>/<method>`` the way https://core.telegram.org/bots/api documents:
``{"ok": true, "result": ...}``, or ``{"ok": false, "error_code": ..., "description": ...}``
when told to fail. Every call is recorded, so a test reads what the customer's Telegram got.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_message_ids = itertools.count(1000)


class BotApiStandIn:
    def __init__(self, token: str, port: int = 0) -> None:
        self.token = token
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_with: int | None = None  # e.g. 500: answer every call with this error
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def do_POST(self) -> None:
                prefix = f"/bot{stand_in.token}/"
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not self.path.startswith(prefix):
                    self._json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                    return
                method = self.path[len(prefix) :]
                params = json.loads(body or b"{}")
                if stand_in.fail_with is not None:
                    code = stand_in.fail_with
                    self._json(code, {"ok": False, "error_code": code, "description": "Internal Server Error"})
                    return
                with stand_in._lock:
                    stand_in.calls.append((method, params))
                self._json(200, {"ok": True, "result": stand_in._result(method, params)})

            def _json(self, status: int, payload: object) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def _result(method: str, params: dict[str, Any]) -> Any:
        if method == "sendMessage":  # a Message object
            return {
                "message_id": next(_message_ids),
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "text": params.get("text", ""),
            }
        return True  # answerCallbackQuery, setWebhook

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                params
                for method, params in self.calls
                if method == "sendMessage" and (chat_id is None or str(params["chat_id"]) == str(chat_id))
            ]

    def wait_for(self, predicate: Any, timeout: float = 60.0) -> list[dict[str, Any]]:
        """The sendMessage calls once ``predicate(calls)`` holds; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = self.sent()
            if predicate(sent):
                return sent
            time.sleep(0.1)
        raise AssertionError(f"the Bot API did not get the expected messages; it got {self.sent()}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


_update_ids = itertools.count(700_000_000)


def text_update(chat_id: int, text: str, update_id: int | None = None, language: str = "en") -> dict[str, Any]:
    """An Update with a private text message, as Telegram sends it to a webhook."""
    return {
        "update_id": update_id if update_id is not None else next(_update_ids),
        "message": {
            "message_id": next(_message_ids),
            "from": {"id": chat_id, "is_bot": False, "first_name": "Anna", "language_code": language},
            "chat": {"id": chat_id, "first_name": "Anna", "type": "private"},
            "date": int(time.time()),
            "text": text,
            **({"entities": [{"offset": 0, "length": len(text), "type": "bot_command"}]} if text.startswith("/") else {}),
        },
    }


def button_update(chat_id: int, callback_data: str, update_id: int | None = None) -> dict[str, Any]:
    """An Update with a callback_query: the customer pressed an inline keyboard button."""
    return {
        "update_id": update_id if update_id is not None else next(_update_ids),
        "callback_query": {
            "id": str(next(_message_ids) * 7919),
            "from": {"id": chat_id, "is_bot": False, "first_name": "Anna"},
            "message": {
                "message_id": next(_message_ids),
                "chat": {"id": chat_id, "type": "private"},
                "date": int(time.time()),
                "text": "…",
            },
            "chat_instance": "-4200000000000000000",
            "data": callback_data,
        },
    }
