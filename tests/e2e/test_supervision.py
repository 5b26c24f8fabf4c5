"""A process that dies is restarted by supervisord; the customer's message waits and is answered once.

Also: pushed messages reach a widget's Socket.IO connection (long-polling
transport here, as behind a proxy that blocks WebSocket).
"""

from __future__ import annotations

import queue
import time

import pytest
import requests
import socketio

from tests.support.stack import Stack

pytestmark = pytest.mark.stack


def connect_widget(stack: Stack, session_id: str, after: int = 0) -> tuple[socketio.Client, queue.Queue]:
    received: queue.Queue = queue.Queue()
    client = socketio.Client(reconnection=True)
    client.on("message", lambda data: received.put(("message", data)))
    client.on("status", lambda data: received.put(("status", data)))
    client.on("messages", lambda data: received.put(("messages", data)))
    client.connect(stack.url, auth={"session_id": session_id, "after": after}, transports=["polling"])
    return client, received


def next_event(received: queue.Queue, kind: str, timeout: float, where=lambda data: True) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            event, data = received.get(timeout=max(deadline - time.monotonic(), 0.1))
        except queue.Empty:
            break
        if event == kind and where(data):
            return data
    raise AssertionError(f"no {kind} event within {timeout} s")


def test_unknown_session_cannot_connect(stack: Stack) -> None:
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(stack.url, auth={"session_id": "A" * 32}, transports=["polling"])


def test_resume_sends_what_was_missed(stack: Stack) -> None:
    session = stack.new_session()
    stack.say(session, "hello")
    history = requests.get(f"{stack.url}/api/messages", params={"session_id": session}, timeout=10).json()
    first_id = history["messages"][0]["id"]
    client, received = connect_widget(stack, session, after=first_id)
    try:
        backlog = next_event(received, "messages", 20)
        assert [m["id"] for m in backlog["messages"]] == [m["id"] for m in history["messages"][1:]]
        assert backlog["mode"] == "bot"
    finally:
        client.disconnect()


def warm_ups(stack: Stack) -> int:
    """Rasa warm-ups in the gateway's whole log (earlier tests restart Rasa and the gateway too)."""
    log = stack.workdir / "var" / "log" / "gateway.log"
    return log.read_text(errors="replace").count("warmed up the Rasa server") if log.exists() else 0


def test_killed_rasa_is_restarted_and_the_waiting_message_is_answered_once(stack: Stack) -> None:
    session = stack.new_session()
    assert stack.say(session, "hello")
    client, received = connect_widget(stack, session)
    try:
        next_event(received, "messages", 20)
        deadline = time.monotonic() + 60
        while not warm_ups(stack):  # the running Rasa server was warmed up (at start)
            assert time.monotonic() < deadline, stack.tail("gateway")
            time.sleep(0.5)
        warmed_before = warm_ups(stack)
        old_pid = stack.kill("rasa")
        response = requests.post(
            f"{stack.url}/api/chat",
            json={"session_id": session, "text": "How long does delivery take?", "client_id": "kill-1"},
            timeout=60,
        )
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "pending" and "reconnecting" in response.json()["notice"]
        next_event(received, "status", 20, where=lambda data: data["relay"] == "pending")
        # The retry of the same message while Rasa is down is not stored or relayed twice.
        again = requests.post(
            f"{stack.url}/api/chat",
            json={"session_id": session, "text": "How long does delivery take?", "client_id": "kill-1"},
            timeout=60,
        )
        assert again.status_code == 202
        answer = next_event(received, "message", 240, where=lambda data: data["sender"] == "bot")
        assert "business day" in answer["text"]
        new_pid = stack.pid("rasa")
        assert new_pid and new_pid != old_pid  # supervisord started a new Rasa server
        stack.wait_healthy(240)
    finally:
        client.disconnect()
    history = requests.get(f"{stack.url}/api/messages", params={"session_id": session}, timeout=10).json()
    senders = [(m["sender"], m["text"]) for m in history["messages"]]
    asked = [text for sender, text in senders if sender == "customer"]
    assert asked == ["hello", "How long does delivery take?"]
    answers = [text for sender, text in senders if sender == "bot" and "business day" in text]
    assert len(answers) == 1  # answered exactly once
    # And the conversation goes on.
    assert "business day" in " ".join(m["text"] for m in stack.say(session, "How long does delivery take?"))
    # The gateway warmed the new Rasa server up, as it did the first one at start, so its
    # slow first parse was nobody's wait.
    deadline = time.monotonic() + 60
    while warm_ups(stack) <= warmed_before:
        assert time.monotonic() < deadline, stack.tail("gateway")
        time.sleep(0.5)


@pytest.mark.parametrize("query", ["wait=nan", "wait=inf", "after=nan", "after=1e400", "after=1180591620717411303424"])
def test_non_finite_wait_or_after_is_refused_at_once(stack: Stack, query: str) -> None:
    session = stack.new_session()
    started = time.monotonic()
    response = requests.get(f"{stack.url}/api/messages?session_id={session}&{query}", timeout=10)
    assert response.status_code == 400 and "must be a number" in response.json()["error"]
    assert time.monotonic() - started < 5  # never a hanging request
