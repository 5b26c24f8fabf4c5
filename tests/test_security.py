"""Every finding of the black-box probe (issue 13), reproduced against the real stack.

The stack here is its own (not the shared one): these tests lock order numbers,
emails and client addresses on purpose, and run with the limits of settings.yml.
Each test is named after the row of the probe's table it keeps closed.
"""

from __future__ import annotations

import asyncore
import json
import re
import secrets
import smtpd
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.privacy import conversation_ref
from tests.support.stack import ROOT, VENV_BIN, Stack

pytestmark = pytest.mark.stack
ANNA, ANNAS_ORDER = "anna.kovacova@example.sk", "482913"
PETER, PETERS_ORDER = "peter.novak@example.com", "593011"
HEALTH_TOKEN = secrets.token_hex(16)


class MailCatcher(smtpd.SMTPServer):
    """A real SMTP server on loopback, so the outbox is really sent."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), None)
        self.port = self.socket.getsockname()[1]
        self.received: list[bytes] = []
        self._loop = threading.Thread(target=asyncore.loop, kwargs={"timeout": 0.1}, daemon=True)
        self._loop.start()

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs) -> None:
        self.received.append(data if isinstance(data, bytes) else data.encode())


@pytest.fixture(scope="module")
def mail() -> Iterator[MailCatcher]:
    catcher = MailCatcher()
    yield catcher
    catcher.close()


@pytest.fixture(scope="module")
def secure_stack(tmp_path_factory: pytest.TempPathFactory, mail: MailCatcher) -> Iterator[Stack]:
    env = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(mail.port),
        "SMTP_STARTTLS": "0",
        # As behind a reverse proxy: each test poses as its own client address (X-Forwarded-For).
        "TRUSTED_PROXY_HOPS": "1",
        "HEALTH_TOKEN": HEALTH_TOKEN,
    }
    running = Stack(tmp_path_factory.mktemp("security"), extra_env=env, real_address_limits=True).start()
    try:
        yield running
    finally:
        running.stop()


# --- helpers -------------------------------------------------------------
class Customer:
    """One browser: its own client address, talking to the gateway like the widget does."""

    def __init__(self, stack: Stack, address: str) -> None:
        self.stack, self.address = stack, address
        self.headers = {"X-Forwarded-For": address}

    def new_session(self) -> str:
        response = requests.post(f"{self.stack.url}/api/session", headers=self.headers, timeout=10)
        response.raise_for_status()
        return response.json()["session_id"]

    def post(self, session: str, text: str, client_id: str | None = None) -> requests.Response:
        body = {"session_id": session, "text": text, "client_id": client_id or secrets.token_hex(8)}
        return requests.post(f"{self.stack.url}/api/chat", json=body, headers=self.headers, timeout=60)

    def messages(self, session: str, text: str) -> list[dict]:
        response = self.post(session, text)
        response.raise_for_status()
        return [m for m in response.json()["messages"] if m["sender"] != "customer"]

    def say(self, session: str, text: str) -> str:
        """The bot's answer to one customer message, as one string."""
        return " | ".join(m["text"] for m in self.messages(session, text))


def addresses() -> Iterator[str]:
    for n in range(1, 255):
        yield f"198.51.100.{n}"


ADDRESS = addresses()


def customer(stack: Stack) -> Customer:
    return Customer(stack, next(ADDRESS))


def app_db(stack: Stack) -> sqlite3.Connection:
    return sqlite3.connect(stack.workdir / "var" / "app.db", timeout=15)


def tracker_db(stack: Stack) -> sqlite3.Connection:
    return sqlite3.connect(stack.env["RASA_TRACKER_DB"], timeout=15)


def rasa_tracker(stack: Stack, session: str) -> dict:
    response = requests.get(
        f"{stack.env['RASA_URL']}/conversations/{session}/tracker",
        params={"token": stack.env["RASA_TOKEN"]},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "python"), "-m", "bot", *args],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def fail_once(client: Customer, email_first: bool, number: str, email: str) -> str:
    """One wrong pair, in a session of its own; returns the last answer."""
    session = client.new_session()
    if email_first:
        client.say(session, f"where is my order? my email is {email}")
        return client.say(session, number)
    client.say(session, f"where is my order {number}?")
    return client.say(session, email)


# --- order verification can be guessed without limit ----------------------
def test_verification_failures_count_on_every_path_and_nothing_resets_them(secure_stack: Stack) -> None:
    browser = customer(secure_stack)
    # Email first, then a wrong number: the path that was not counted.
    session = browser.new_session()
    browser.say(session, f"where is my order? my email is {ANNA}")
    assert "couldn't find an order" in browser.say(session, "111111")
    # "stop" used to reset the counter to 0.
    browser.say(session, "stop")
    browser.say(session, "where is my order?")
    browser.say(session, "222222")
    assert "couldn't find an order" in browser.say(session, ANNA)
    # /restart, and a new session from another address, used to start again.
    browser.say(session, "/restart")
    assert "too many attempts" in fail_once(customer(secure_stack), False, "333333", ANNA)
    # Now the right pair, from a fresh session and address, shows nothing and offers a person.
    answer = fail_once(customer(secure_stack), False, ANNAS_ORDER, ANNA)
    assert "too many attempts" in answer and "try again in about" in answer
    assert "GLS482913SK" not in answer and "kettle" not in answer.lower()


def test_a_known_order_number_cannot_be_probed_with_guessed_emails(secure_stack: Stack) -> None:
    for n in range(3):
        fail_once(customer(secure_stack), n % 2 == 0, PETERS_ORDER, f"guess{n}@example.com")
    # The right pair in one message: refused as soon as the locked number is named.
    owner = customer(secure_stack)
    [locked] = owner.messages(owner.new_session(), f"where is my order {PETERS_ORDER}? {PETER}")
    assert "too many attempts" in locked["text"] and "QLED" not in locked["text"]
    assert [b["title"] for b in locked["buttons"]] == ["Talk to a person", "No, thanks"]
    # A return on that order is refused too (no RMA on someone else's order).
    session = owner.new_session()
    owner.say(session, "I want to return something")
    assert "too many attempts" in owner.say(session, PETERS_ORDER)
    with app_db(secure_stack) as db:
        assert db.execute("SELECT count(*) FROM returns").fetchone() == (0,)


def test_one_address_cannot_guess_across_orders_and_emails(secure_stack: Stack) -> None:
    guesser = customer(secure_stack)
    for n in range(10):  # verification.max_failures_per_client
        fail_once(guesser, False, f"{100000 + n}", f"someone{n}@example.com")
    assert "too many attempts" in fail_once(guesser, False, "617245", "ivan.petrov@example.ru")
    # The same pair from another address works: the limit is per address, not global.
    assert "617245" in fail_once(customer(secure_stack), False, "617245", "ivan.petrov@example.ru")


# --- customers can send Rasa intents directly -------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "/greet",
        "/restart",
        "/back",
        "/session_start",
        '/order_status{"order_number": "482913"}',
        '/greet{"language": "ru"}',
        '/rate{"rating": 5}',
    ],
)
def test_typed_intents_reach_the_nlu_as_plain_text(secure_stack: Stack, text: str) -> None:
    browser = customer(secure_stack)
    session = browser.new_session()
    browser.say(session, text)
    tracker = rasa_tracker(secure_stack, session)
    latest = tracker["latest_message"]
    assert latest["text"].lstrip("\u2060") == text and latest["text"] != text  # escaped
    assert latest["intent"].get("confidence", 0) < 1.0  # the NLU's guess, not a command
    # Entities come from the NLU reading the words, never from the JSON of a command.
    assert all(e.get("extractor") != "RegexMessageHandler" for e in latest["entities"]), latest["entities"]
    assert tracker["slots"]["language"] != "ru" and tracker["slots"]["email"] is None


def test_an_offered_button_is_a_command_only_while_it_is_open(secure_stack: Stack) -> None:
    browser = customer(secure_stack)
    session = browser.new_session()
    [offer] = browser.messages(session, "what's the weather in Paris tomorrow?")
    assert "/deny" in [b["payload"] for b in offer["buttons"]]
    browser.say(session, "/deny")  # the click
    latest = rasa_tracker(secure_stack, session)["latest_message"]
    assert latest["text"] == "/deny" and latest["intent"] == {"name": "deny", "confidence": 1.0}
    browser.say(session, "/deny")  # answered already: plain text now
    latest = rasa_tracker(secure_stack, session)["latest_message"]
    assert latest["text"] == "\u2060/deny" and latest["intent"].get("confidence", 0) < 1.0


# --- card numbers reach the Rasa tracker --------------------------------------
def test_card_numbers_never_reach_rasa_the_return_or_the_handoff(secure_stack: Stack) -> None:
    browser = customer(secure_stack)
    session = browser.new_session()
    browser.say(session, "I want to return my headphones from order 731640")
    browser.say(session, PETER)  # the headphones were named already: the bot asks for the reason
    answer = browser.say(
        session, "faulty, the left earcup is silent, card 4111 1111 1111 1111 exp 12/29 cvv 123"
    )
    assert "RMA-" in answer
    browser.say(session, "I want to talk to a person")
    with app_db(secure_stack) as db:
        reason = db.execute("SELECT reason FROM returns").fetchone()[0]
        contexts = json.dumps(
            [r[0] for r in db.execute("SELECT context FROM handoffs WHERE conversation_id = ?", (session,))]
        )
        stored = json.dumps(
            [r[0] for r in db.execute("SELECT text FROM chat_messages WHERE conversation_id = ?", (session,))]
        )
    with tracker_db(secure_stack) as db:
        tracker = json.dumps(
            [r[0] for r in db.execute("SELECT data FROM events WHERE sender_id = ?", (session,))]
        )
    for where in (reason, contexts, stored, tracker):
        assert "4111" not in where and "[card number removed]" in where
    [context] = [json.loads(c) for c in json.loads(contexts)]
    assert any(line.get("redacted") for line in context["transcript"])  # the agent sees it was removed
    assert "client_ip" not in json.dumps(context)


# --- reset tokens in plain text -------------------------------------------
def test_the_outbox_never_holds_a_usable_reset_token(secure_stack: Stack, mail: MailCatcher) -> None:
    browser = customer(secure_stack)
    session = browser.new_session()
    browser.say(session, "I forgot my password")
    assert "If an account exists" in browser.say(session, "ivan.petrov@example.ru")
    sent = [m for m in mail.received if b"ivan.petrov@example.ru" in m]
    assert sent, "the reset mail was not delivered over SMTP"
    token = re.search(rb"token=([\w-]+)", sent[-1]).group(1).decode()
    with app_db(secure_stack) as db:
        rows = db.execute("SELECT subject, body, sent_at FROM outbox").fetchall()
        tokens = json.dumps([list(r) for r in db.execute("SELECT * FROM password_reset_tokens")], default=str)
    assert rows and all(body == "" and sent_at for _, body, sent_at in rows)
    assert token not in json.dumps(rows) and token not in tokens


# --- secrets in logs --------------------------------------------------------
def test_logs_carry_no_token_or_session_id_when_rasa_is_unreachable(secure_stack: Stack) -> None:
    browser = customer(secure_stack)
    session = browser.new_session()
    with app_db(secure_stack) as db:  # a handoff was resolved while Rasa was down: its tracker needs a resume
        db.execute("UPDATE conversations SET rasa_paused = 1 WHERE id = ?", (session,))
    secure_stack.stop_process("rasa")
    try:
        response = browser.post(session, "hello, is anyone there?")
        assert response.status_code == 202 and response.json()["status"] == "pending"
        time.sleep(3)  # the relay's background sweep retries (and logs) meanwhile
    finally:
        secure_stack.restart("rasa")
    logs = "".join(
        path.read_text(errors="replace") for path in (secure_stack.workdir / "var" / "log").glob("*.log")
    )
    assert "rasa unavailable" in logs  # the failure is logged...
    assert secure_stack.env["RASA_TOKEN"] not in logs and session not in logs  # ...without secrets
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # and the kept message is answered once Rasa is back
        history = requests.get(
            f"{secure_stack.url}/api/messages",
            params={"session_id": session},
            headers=browser.headers,
            timeout=10,
        ).json()["messages"]
        if any(m["sender"] == "bot" for m in history):
            break
        time.sleep(1)
    assert [m["sender"] for m in history][:2] == ["customer", "bot"]


# --- 500 instead of 400 ---------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "words"),
    [
        pytest.param(
            '{"session_id": "%s", "text": "hi \\ud800 there"}', "invalid characters", id="lone surrogate"
        ),
        pytest.param('{"session_id": "%s", "text": "hi \\u0000 there"}', "NUL", id="NUL byte"),
        pytest.param(
            '{"session_id": "%s", "text": ' + "[" * 5000 + "]" * 5000 + "}", "send JSON", id="deep nesting"
        ),
        pytest.param(
            '{"session_id": "%s", "text": "x", "client_id": 1180591620717411303424}',
            "client_id",
            id="huge number",
        ),
        pytest.param('{"session_id": "%s", "text": ["hi"]}', "must be text", id="text not a string"),
        pytest.param('{"session_id": ["%s"], "text": "hi"}', "session_id", id="session_id not a string"),
        pytest.param('["%s"]', "send JSON", id="not an object"),
    ],
)
def test_bad_chat_input_is_a_4xx_with_a_plain_message(secure_stack: Stack, raw: str, words: str) -> None:
    browser = customer(secure_stack)
    body = raw.replace("%s", browser.new_session(), 1)
    response = requests.post(
        f"{secure_stack.url}/api/chat",
        data=body.encode(),
        headers={**browser.headers, "Content-Type": "application/json"},
        timeout=30,
    )
    assert 400 <= response.status_code < 500 and words in response.json()["error"]


@pytest.mark.parametrize(
    "query", ["after=1180591620717411303424", "after=nan", "wait=1e999", "after=%00", "after=-1"]
)
def test_bad_history_queries_are_a_4xx(secure_stack: Stack, query: str) -> None:
    browser = customer(secure_stack)
    response = requests.get(
        f"{secure_stack.url}/api/messages?session_id={browser.new_session()}&{query}",
        headers=browser.headers,
        timeout=10,
    )
    assert response.status_code == 400 and "must be a number" in response.json()["error"]


# --- races --------------------------------------------------------------------
def test_parallel_first_messages_and_parallel_copies_of_one_client_id(secure_stack: Stack) -> None:
    browser = customer(secure_stack)
    session = browser.new_session()
    with ThreadPoolExecutor(max_workers=4) as pool:  # a new session's first messages at once
        first = list(pool.map(lambda n: browser.post(session, f"hello number {n}"), range(4)))
    assert all(r.status_code in (200, 202) for r in first), [r.status_code for r in first]
    session = browser.new_session()
    with ThreadPoolExecutor(max_workers=4) as pool:  # one message, retried four times at once
        copies = list(
            pool.map(lambda _: browser.post(session, "where is my order", "same-client-id"), range(4))
        )
    assert all(r.status_code in (200, 202) for r in copies), [r.status_code for r in copies]
    with app_db(secure_stack) as db:
        stored = db.execute(
            "SELECT count(*) FROM chat_messages WHERE conversation_id = ? AND sender = 'customer'", (session,)
        ).fetchone()
    events = rasa_tracker(secure_stack, session)["events"]
    relayed = [e for e in events if e["event"] == "user" and e.get("text") == "where is my order"]
    assert stored == (1,) and len(relayed) == 1


# --- session ids ------------------------------------------------------------------
def test_only_issued_live_sessions_are_accepted_and_end_chat_clears_the_identity(secure_stack: Stack) -> None:
    browser = customer(secure_stack)
    forged = secrets.token_urlsafe(24)
    assert browser.post(forged, "hello").status_code == 404
    # Idle for longer than sessions.idle_minutes: refused, and its history with it.
    idle = browser.new_session()
    browser.say(idle, "hello")
    with app_db(secure_stack) as db:
        db.execute(
            "UPDATE conversations SET last_activity_at = datetime('now', '-121 minutes') WHERE id = ?",
            (idle,),
        )
    assert browser.post(idle, "hello again").status_code == 410
    history = requests.get(f"{secure_stack.url}/api/messages", params={"session_id": idle}, timeout=10)
    assert history.status_code == 410
    # A verified customer ends the chat: the id is dead, the next person starts unverified.
    session = browser.new_session()
    browser.say(session, "where is my order 617245?")
    assert "617245" in browser.say(session, "ivan.petrov@example.ru")
    ended = requests.post(f"{secure_stack.url}/api/session/end", json={"session_id": session}, timeout=10)
    assert ended.status_code == 200
    assert browser.post(session, "where is my order?").status_code == 410
    next_person = browser.new_session()
    assert "order number" in browser.say(next_person, "where is my order?")
    assert rasa_tracker(secure_stack, next_person)["slots"]["verified_order"] is None


# --- queue flooding ---------------------------------------------------------------
def test_handoffs_are_limited_per_address_and_per_session(secure_stack: Stack) -> None:
    def handoffs_opened(sessions: list[str]) -> int:
        """Handoffs these sessions opened (a delayed one from an earlier test must not count)."""
        with app_db(secure_stack) as db:
            marks = ",".join("?" * len(sessions))
            query = f"SELECT count(*) FROM handoff_requests WHERE conversation_id IN ({marks})"
            return db.execute(query, sessions).fetchone()[0]

    flooder = customer(secure_stack)
    flooder_sessions = [flooder.new_session() for _ in range(6)]
    answers = [flooder.say(session, "I want to talk to a person") for session in flooder_sessions]
    assert all("asked for a person several times" not in a for a in answers[:5])
    assert "asked for a person several times" in answers[5]
    other = customer(secure_stack)
    other_session = other.new_session()
    assert "asked for a person several times" not in other.say(other_session, "I want a person")
    # five from the flooder, one from the other customer
    assert handoffs_opened(flooder_sessions) == 5 and handoffs_opened([other_session]) == 1
    # One session asking again and again (the offline ticket is closed each time by "stop").
    asker, session = customer(secure_stack), None
    session = asker.new_session()
    said = []
    for _ in range(4):
        said.append(asker.say(session, "I want to talk to a person"))
        asker.say(session, "stop")
    assert "asked for a person several times" in said[3]
    assert all("asked for a person several times" not in a for a in said[:3])


# --- privacy: retention, export, erasure -----------------------------------
def test_one_customers_data_can_be_exported_and_erased_with_rasas_tracker(secure_stack: Stack) -> None:
    browser = customer(secure_stack)
    email = "kiss.eszter@example.hu"
    session = browser.new_session()
    browser.say(session, "where is my order 705528?")
    assert "705528" in browser.say(session, email)
    exported = json.loads(cli(secure_stack, "privacy", "export", email).stdout)
    [conversation] = [c for c in exported["conversations"] if c["ref"] == conversation_ref(session)]
    assert any(m["text"] == email for m in conversation["messages"])
    assert any(e.get("event") == "user" for e in conversation["rasa_tracker_events"])
    erased = json.loads(cli(secure_stack, "privacy", "erase", email, "--yes").stdout)
    assert erased["erased"]["conversations"] >= 1 and erased["erased"]["rasa_events"] > 0
    with tracker_db(secure_stack) as db:
        assert db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (session,)).fetchone() == (0,)
    with app_db(secure_stack) as db:
        left = db.execute(
            "SELECT count(*) FROM chat_messages WHERE conversation_id = ?", (session,)
        ).fetchone()
    assert left == (0,)
    assert json.loads(cli(secure_stack, "privacy", "export", email).stdout)["conversations"] == []


def test_conversations_past_the_retention_period_are_purged(secure_stack: Stack) -> None:
    browser = customer(secure_stack)
    old, recent = browser.new_session(), browser.new_session()
    browser.say(old, "hello")
    browser.say(recent, "hello")
    with app_db(secure_stack) as db:
        db.execute(
            "UPDATE conversations SET last_activity_at = datetime('now', '-100 days') WHERE id = ?", (old,)
        )
    purged = json.loads(cli(secure_stack, "privacy", "purge").stdout)["purged"]
    assert purged["conversations"] >= 1 and purged["rasa_events"] > 0
    with app_db(secure_stack) as db:
        ids = {row[0] for row in db.execute("SELECT id FROM conversations")}
    with tracker_db(secure_stack) as db:
        senders = {row[0] for row in db.execute("SELECT DISTINCT sender_id FROM events")}
    assert old not in ids and old not in senders
    assert recent in ids and recent in senders
    # The same job runs on a schedule in the worker the supervisor keeps up.
    assert "RUNNING" in secure_stack.ctl("status", "worker")


# --- headers ------------------------------------------------------------------------
def test_content_security_policy_is_complete(secure_stack: Stack) -> None:
    for path in ("/", "/demo", "/agent/login", "/api/messages"):
        csp = requests.get(f"{secure_stack.url}{path}", timeout=10).headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
        assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
        assert directives["form-action"] == "'self'" and directives["frame-ancestors"] == "'self'"


def test_health_details_only_for_loopback_or_with_the_token(secure_stack: Stack) -> None:
    public = requests.get(
        f"{secure_stack.url}/health", headers={"X-Forwarded-For": "203.0.113.7"}, timeout=10
    )
    assert public.status_code == 200 and public.json() == {"status": "ok"}
    wrong = requests.get(
        f"{secure_stack.url}/health",
        headers={"X-Forwarded-For": "203.0.113.7", "X-Health-Token": "guess"},
        timeout=10,
    )
    assert wrong.json() == {"status": "ok"}
    operator = requests.get(
        f"{secure_stack.url}/health",
        headers={"X-Forwarded-For": "203.0.113.7", "X-Health-Token": HEALTH_TOKEN},
        timeout=10,
    )
    assert operator.json()["rasa"]["status"] == "ok" and operator.json()["database"]["dialect"] == "sqlite"
    local = requests.get(f"{secure_stack.url}/health", timeout=10).json()
    assert local["action_server"]["status"] == "ok"


# --- property: random JSON and unicode at every public endpoint ---------------------
ODD_TEXT = st.sampled_from(
    ["\ud800", "\udfff", "\x00", "/", '/greet{"language": "ru"}', "4111 1111 1111 1111", "\u202e", "é" * 3000]
)
TEXT = st.text(max_size=300) | st.lists(ODD_TEXT | st.text(max_size=20), max_size=4).map("".join)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80) | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
CLIENT_ID = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
PROPERTY = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def send_json(stack: Stack, method: str, path: str, body: object, address: str) -> requests.Response:
    return requests.request(
        method,
        f"{stack.url}{path}",
        data=json.dumps(body).encode(),  # ensure_ascii: lone surrogates travel as \ud800 escapes
        headers={"Content-Type": "application/json", "X-Forwarded-For": address},
        timeout=60,
    )


@PROPERTY
@given(
    fresh=st.booleans(),
    session=JSON,
    text=TEXT | JSON,
    client_id=st.none() | CLIENT_ID | JSON,
    extra=st.dictionaries(st.text(max_size=8), JSON, max_size=2),
    address=st.ip_addresses(v=4).map(str),
)
def test_chat_never_fails_and_never_stores_twice(
    secure_stack: Stack,
    fresh: bool,
    session: object,
    text: object,
    client_id: object,
    extra: dict,
    address: str,
) -> None:
    if fresh:
        session = Customer(secure_stack, address).new_session()
    body = {**extra, "session_id": session, "text": text, "client_id": client_id}
    first = send_json(secure_stack, "POST", "/api/chat", body, address)
    assert first.status_code < 500, first.text
    if first.status_code >= 400:
        assert first.json()["error"]  # a plain message, in JSON
        return
    again = send_json(secure_stack, "POST", "/api/chat", body, address)  # the widget's retry
    assert again.status_code < 500, again.text
    if isinstance(client_id, str):
        with app_db(secure_stack) as db:
            copies = db.execute(
                "SELECT count(*) FROM chat_messages WHERE conversation_id = ? AND client_id = ?",
                (session, client_id),
            ).fetchone()
        assert copies == (1,)


@PROPERTY
@given(
    body=JSON,
    address=st.ip_addresses(v=4).map(str),
    path=st.sampled_from(["/api/feedback", "/api/session/end"]),
)
def test_feedback_and_end_never_fail(secure_stack: Stack, body: object, address: str, path: str) -> None:
    if isinstance(body, dict) and body.get("session_id") is True:
        body["session_id"] = Customer(secure_stack, address).new_session()
    response = send_json(secure_stack, "POST", path, body, address)
    assert response.status_code < 500, response.text


@PROPERTY
@given(
    params=st.dictionaries(
        st.sampled_from(["session_id", "after", "wait", "x"]), st.text(max_size=40), max_size=4
    ),
    valid=st.booleans(),
    path=st.sampled_from(
        ["/api/messages", "/health", "/", "/demo", "/agent/login", "/static/widget/i18n.js"]
    ),
    address=st.ip_addresses(v=4).map(str),
)
def test_every_get_endpoint_answers_without_a_server_error(
    secure_stack: Stack, params: dict, valid: bool, path: str, address: str
) -> None:
    if valid and path == "/api/messages":
        params = {**params, "session_id": Customer(secure_stack, address).new_session(), "wait": "0"}
    headers = {"X-Forwarded-For": address}
    response = requests.get(f"{secure_stack.url}{path}", params=params, headers=headers, timeout=60)
    assert response.status_code < 500, response.text[:200]


@PROPERTY
@given(body=st.binary(max_size=2000) | JSON.map(lambda v: json.dumps(v).encode()))
def test_raw_bodies_never_cause_a_server_error(secure_stack: Stack, body: bytes) -> None:
    headers = {"Content-Type": "application/json", "X-Forwarded-For": "192.0.2.201"}
    for path in ("/api/session", "/api/chat", "/api/feedback", "/api/session/end", "/agent/login"):
        response = requests.post(f"{secure_stack.url}{path}", data=body, headers=headers, timeout=60)
        assert response.status_code < 500, (path, response.text[:200])
