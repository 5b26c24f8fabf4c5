"""One HTTP client per external order system: timeouts, and retries with back-off.

Retries are urllib3's ``Retry`` (a well-kept implementation of back-off that honours
``Retry-After``) mounted on a requests session, rather than a hand-written loop. A
Retry-After longer than ``max_wait`` is cut to it: a customer is waiting in the chat.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from bot.shop.store import StoreUnavailable

log = logging.getLogger(__name__)
RETRY_STATUSES = (429, 500, 502, 503, 504)


class HttpApi:
    """A JSON API at ``base_url``; ``request`` returns the response or raises StoreUnavailable."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_wait: int = 5,
        auth: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        retry = Retry(
            total=retries,
            connect=retries,
            read=0,  # a read timeout may mean the write happened: do not repeat it
            status=retries,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=None,  # any method: 429/5xx answers mean "not done, try again"
            backoff_factor=backoff,
            backoff_max=max_wait,
            respect_retry_after_header=True,
            retry_after_max=int(max_wait),
            raise_on_status=False,
        )
        self.session = requests.Session()
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        self.session.auth = auth
        self.session.headers.update({"Accept": "application/json", **(headers or {})})

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        url = f"{self.base_url}{path}"
        try:
            response = self.session.request(
                method, url, params=params, json=json, data=data, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:
            # The URL and the exception's type only: a message could carry query parameters.
            log.warning("order system unreachable: %s %s (%s)", method, path, type(exc).__name__)
            raise StoreUnavailable(f"{method} {path}: {type(exc).__name__}") from exc
        if response.status_code in RETRY_STATUSES:
            log.warning("order system answered %s to %s %s after retries", response.status_code, method, path)
            raise StoreUnavailable(f"{method} {path}: HTTP {response.status_code}")
        return response
