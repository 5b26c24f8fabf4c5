"""The production topology through nginx: a customer and an agent on different gateways chat both ways.

nginx -> 2 gateways -> 2 Rasa servers (PostgreSQL tracker store, Redis lock store) -> nginx -> 2 action
servers, all under supervisord (tests/support/production.py). Each side is one loopback source address
(127.0.1.x) chosen so that nginx's consistent hash puts them on different gateways; their Socket.IO
connections use long-polling, which only works when nginx keeps every request of a session on one node.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
import requests
import socketio
from sqlalchemy import create_engine, text

import bench.loadclient  # noqa: F401 - lets python-engineio's asyncio client run on Rasa's aiohttp 3.9
from bot.handoff.agents import upsert_agent
from tests.support.production import ProductionStack, session_from

pytestmark = pytest.mark.stack
PASSWORD = "correct horse battery staple"
FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProductionStack]:
    stack = ProductionStack(Path(tmp_path_factory.mktemp("production"))).start()
    try:
        upsert_agent(stack.env["DATABASE_URL"], "alice", PASSWORD, "Alice")
        yield stack
    finally:
        stack.stop()


def _login(stack: ProductionStack, http: requests.Session, username: str, password: str) -> requests.Response:
    page = http.get(f"{stack.url}/agent/login", timeout=10)
    token = FORM_TOKEN.search(page.text).group(1)
    return http.post(
        f"{stack.url}/agent/login",
        data={"username": username, "password": password, "csrf_token": token},
        timeout=30,
    )


def _pushed_event(inbox: queue.Queue, wanted: Callable[[dict], bool], timeout: float = 20) -> dict:
    """The first pushed event that ``wanted`` accepts (others are skipped)."""
    while True:
        event = inbox.get(timeout=timeout)
        if wanted(event):
            return event


def _pushed(inbox: queue.Queue, sender: str, text: str) -> dict:
    return _pushed_event(inbox, lambda m: m.get("sender") == sender and m.get("text") == text)


def _handoff_of(stack: ProductionStack, conversation_id: str) -> int:
    engine = create_engine(stack.env["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT id FROM handoffs WHERE conversation_id = :c"), {"c": conversation_id}
            ).scalar_one()
    finally:
        engine.dispose()


def test_customer_and_agent_on_different_gateways_chat_both_ways(production: ProductionStack) -> None:
    customer_address, agent_address = production.addresses_on_different_nodes()
    customer_http, agent_http = session_from(customer_address), session_from(agent_address)
    customer_node, agent_node = production.served_by(customer_http), production.served_by(agent_http)
    assert {customer_node, agent_node} == {"gateway-1", "gateway-2"}

    # The agent logs in (CSRF) and listens on the agents' room through its own gateway.
    assert _login(production, agent_http, "alice", PASSWORD).url.endswith("/agent/")
    csrf = META_TOKEN.search(agent_http.get(f"{production.url}/agent/", timeout=10).text).group(1)
    agent_inbox: queue.Queue = queue.Queue()
    agent_events: queue.Queue = queue.Queue()
    agent_sio = socketio.Client(http_session=agent_http, reconnection=False)
    agent_sio.on("message", agent_inbox.put)
    agent_sio.on("queue", agent_events.put)
    agent_sio.connect(
        production.url, auth={"role": "agent"}, headers={"Origin": production.url}, transports=["polling"]
    )

    # The customer opens the widget: a session and a pushed connection through the other gateway.
    session_id = customer_http.post(f"{production.url}/api/session", timeout=10).json()["session_id"]
    customer_inbox: queue.Queue = queue.Queue()
    customer_sio = socketio.Client(http_session=customer_http, reconnection=False)
    customer_sio.on("message", customer_inbox.put)
    customer_sio.connect(production.url, auth={"session_id": session_id, "after": 0}, transports=["polling"])
    try:
        answer = customer_http.post(
            f"{production.url}/api/chat",
            json={"session_id": session_id, "text": "I want to talk to a person", "client_id": "c-1"},
            timeout=60,
        )
        assert answer.status_code == 200 and answer.headers["X-Served-By"] == customer_node
        assert answer.json()["mode"] == "handoff"
        # The customer's gateway announces the handoff; the agent's gateway pushes it (through Redis).
        handoff_id = _handoff_of(production, session_id)
        _pushed_event(agent_events, lambda event: event.get("handoff_id") == handoff_id)
        waiting = agent_http.get(f"{production.url}/agent/queue.json", timeout=10).json()["waiting"]
        assert handoff_id in [row["id"] for row in waiting]
        claimed = agent_http.post(
            f"{production.url}/agent/handoffs/{handoff_id}/claim",
            headers={"X-CSRFToken": csrf, "Accept": "application/json"},
            json={},
            timeout=10,
        )
        assert claimed.status_code == 200 and claimed.headers["X-Served-By"] == agent_node
        watched = agent_sio.call("watch", {"handoff_id": handoff_id, "after": 0}, timeout=10)
        assert "I want to talk to a person" in [m["text"] for m in watched["messages"]]

        # agent -> customer: stored on the agent's gateway, pushed by the customer's.
        sent = agent_http.post(
            f"{production.url}/agent/handoffs/{handoff_id}/messages",
            headers={"X-CSRFToken": csrf},
            json={"text": "Hi, I'm Alice. How can I help?"},
            timeout=10,
        )
        assert sent.status_code == 200 and sent.headers["X-Served-By"] == agent_node
        pushed = _pushed(customer_inbox, "agent", "Hi, I'm Alice. How can I help?")
        assert pushed["agent_name"] == "Alice"

        # customer -> agent: stored on the customer's gateway, pushed by the agent's.
        reply = customer_http.post(
            f"{production.url}/api/chat",
            json={"session_id": session_id, "text": "My kettle leaks", "client_id": "c-2"},
            timeout=60,
        )
        assert reply.status_code in (200, 202) and reply.headers["X-Served-By"] == customer_node
        _pushed(agent_inbox, "customer", "My kettle leaks")

        history = customer_http.get(
            f"{production.url}/api/messages", params={"session_id": session_id, "after": 0}, timeout=10
        ).json()["messages"]
        texts = [(m["sender"], m["text"]) for m in history]
        assert ("agent", "Hi, I'm Alice. How can I help?") in texts
        assert texts.count(("customer", "My kettle leaks")) == 1
    finally:
        customer_sio.disconnect()
        agent_sio.disconnect()


def test_websocket_passes_through_nginx(production: ProductionStack) -> None:
    """The widget's own transport: a Socket.IO connection upgraded to WebSocket through the proxy."""
    session_id = requests.post(f"{production.url}/api/session", timeout=10).json()["session_id"]

    async def connect() -> tuple[str, dict]:
        connector = aiohttp.TCPConnector(local_addr=("127.0.1.200", 0))
        async with aiohttp.ClientSession(connector=connector) as http:
            sio = socketio.AsyncClient(http_session=http, reconnection=False)
            backlog: asyncio.Queue = asyncio.Queue()
            sio.on("messages", backlog.put)
            await sio.connect(
                production.url, auth={"session_id": session_id, "after": 0}, transports=["websocket"]
            )
            try:
                return sio.transport(), await asyncio.wait_for(backlog.get(), timeout=20)
            finally:
                await sio.disconnect()

    # On a thread of its own: an earlier browser test may leave Playwright's loop running on this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        transport, first = pool.submit(asyncio.run, connect()).result(timeout=60)
    assert transport == "websocket"
    assert first["mode"] == "bot"


def test_client_address_comes_from_nginx_and_a_forged_header_is_ignored(production: ProductionStack) -> None:
    """Failed logins are limited per client address: a forged X-Forwarded-For doesn't reset the count."""
    attacker = session_from("127.0.1.201")
    for attempt in range(5):
        attacker.headers["X-Forwarded-For"] = f"203.0.113.{attempt}"
        assert _login(production, attacker, f"nobody{attempt}", "wrong password").status_code == 401
    attacker.headers["X-Forwarded-For"] = "203.0.113.99"
    assert _login(production, attacker, "nobody-else", "wrong password").status_code == 429
    # Another visitor's address is not blocked, whichever gateway it lands on.
    assert _login(production, session_from("127.0.1.202"), "nobody-else", "wrong password").status_code == 401
