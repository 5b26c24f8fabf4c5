"""The shop store on a real SQLite database: verification, returns, password resets."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.db import session_scope
from bot.migrations import init_db
from bot.shop.mailer import unseal
from bot.shop.models import Order, OutboxEmail, PasswordResetToken, ReturnRequest
from bot.shop.policy import Eligibility
from bot.shop.security import normalise_email, redact, token_hash
from bot.shop.seed import seed_demo_data
from bot.shop.store import ResetOutcome, SqlShopStore


@pytest.fixture()
def store(sqlite_url: str) -> SqlShopStore:
    init_db(sqlite_url)
    seed_demo_data(sqlite_url)
    return SqlShopStore(sqlite_url, b"secret", resets_per_email_per_hour=3, resets_per_session_per_hour=5)


def test_order_needs_both_number_and_email(store: SqlShopStore) -> None:
    order = store.find_verified_order("482913", " Anna.Kovacova@Example.SK ")
    assert order is not None and order.status == "delivered"
    assert [i.sku for i in order.items] == ["KT-220", "EB-310"]
    assert store.find_verified_order("482913", "peter.novak@example.com") is None  # someone else's email
    assert store.find_verified_order("999999", "anna.kovacova@example.sk") is None  # unknown order
    assert store.find_verified_order("482913", "not-an-email") is None


@pytest.mark.parametrize(
    ("number", "email"),
    [
        ("482913' OR '1'='1", "anna.kovacova@example.sk"),
        ("482913", "x' OR '1'='1' --@example.com"),
        ("1; DROP TABLE orders; --", "a@b.co"),
        ("482913", "anna.kovacova@example.sk' --"),
    ],
)
def test_sql_injection_finds_nothing_and_changes_nothing(
    store: SqlShopStore, number: str, email: str
) -> None:
    assert store.find_verified_order(number, email) is None
    with session_scope(store.url) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 5


def test_return_eligibility(store: SqlShopStore) -> None:
    today = date.today()
    recent = store.find_verified_order("482913", "anna.kovacova@example.sk")
    old = store.find_verified_order("705528", "kiss.eszter@example.hu")
    shipped = store.find_verified_order("593011", "peter.novak@example.com")
    assert store.eligibility(recent, today) is Eligibility.ELIGIBLE
    assert store.eligibility(old, today) is Eligibility.WINDOW_CLOSED
    assert store.eligibility(shipped, today) is Eligibility.NOT_DELIVERED
    assert store.eligibility(recent, today + timedelta(days=40)) is Eligibility.WINDOW_CLOSED


def test_return_twice_creates_one_record(store: SqlShopStore) -> None:
    first = store.create_return("482913", "anna.kovacova@example.sk", ["KT-220"], "it leaks")
    again = store.create_return("482913", "anna.kovacova@example.sk", ["KT-220"], "it leaks")
    assert first.created and not again.created
    assert first.rma == again.rma and re.fullmatch(r"RMA-[0-9A-F]{8}", first.rma)
    with session_scope(store.url) as session:
        assert session.scalar(select(func.count()).select_from(ReturnRequest)) == 1


def test_return_refuses_excluded_items_and_unverified_orders(store: SqlShopStore) -> None:
    with pytest.raises(ValueError):
        store.create_return("482913", "anna.kovacova@example.sk", ["EB-310"], "hygiene item")
    with pytest.raises(PermissionError):
        store.create_return("482913", "peter.novak@example.com", ["KT-220"], "not my order")


def test_password_reset_gives_nothing_away(store: SqlShopStore) -> None:
    known = store.request_password_reset("peter.novak@example.com", "session-a")
    unknown = store.request_password_reset("nobody@example.com", "session-b")
    assert known is unknown is ResetOutcome.ACCEPTED
    with session_scope(store.url) as session:
        mails = session.execute(select(OutboxEmail)).scalars().all()
        tokens = session.execute(select(PasswordResetToken)).scalars().all()
        assert [m.to_address for m in mails] == ["peter.novak@example.com"]
        [token_row] = tokens
        assert "token=" not in mails[0].body  # stored sealed
        raw = re.search(r"token=([\w-]+)", unseal(store.secret, mails[0].body)).group(1)
        assert token_row.token_hash == token_hash(raw) and raw not in token_row.token_hash
        assert token_row.expires_at <= datetime.utcnow() + timedelta(minutes=31)
    assert store.redeem_reset_token(raw) is True
    assert store.redeem_reset_token(raw) is False  # single use
    assert store.redeem_reset_token("forged") is False


def test_expired_token_is_refused(store: SqlShopStore) -> None:
    store.request_password_reset("peter.novak@example.com", "s")
    with session_scope(store.url) as session:
        mail = session.execute(select(OutboxEmail)).scalar_one()
        session.execute(select(PasswordResetToken)).scalar_one().expires_at = datetime.utcnow() - timedelta(
            seconds=1
        )
    raw = re.search(r"token=([\w-]+)", unseal(store.secret, mail.body)).group(1)
    assert store.redeem_reset_token(raw) is False


def test_password_reset_rate_limits_per_email_and_per_session(store: SqlShopStore) -> None:
    outcomes = [store.request_password_reset("peter.novak@example.com", f"s{i}") for i in range(4)]
    assert outcomes[:3] == [ResetOutcome.ACCEPTED] * 3 and outcomes[3] is ResetOutcome.RATE_LIMITED
    per_session = [store.request_password_reset(f"user{i}@example.com", "same-session") for i in range(6)]
    assert per_session[:5] == [ResetOutcome.ACCEPTED] * 5 and per_session[5] is ResetOutcome.RATE_LIMITED
    # The limit counts requests for unknown addresses too, so it reveals nothing.
    unknown = [store.request_password_reset("ghost@example.com", f"g{i}") for i in range(4)]
    assert unknown[3] is ResetOutcome.RATE_LIMITED


def test_emails_are_stored_as_keyed_hashes_in_the_rate_limit_table(store: SqlShopStore) -> None:
    from bot.shop.models import PasswordResetRequest

    store.request_password_reset("peter.novak@example.com", "s")
    with session_scope(store.url) as session:
        row = session.execute(select(PasswordResetRequest)).scalar_one()
        assert "@" not in row.email_hash and len(row.email_hash) == 64


def test_normalise_email_and_redaction() -> None:
    assert normalise_email("  Peter.Novak@Example.COM ") == "peter.novak@example.com"
    assert normalise_email("<script>@x") is None
    assert redact("my card is 4111 1111 1111 1111, order 482913") == (
        "my card is [card number removed], order 482913"
    )
    assert redact("call 0905 123 456") == "call 0905 123 456"  # not a card number


def test_seed_is_idempotent(sqlite_url: str) -> None:
    init_db(sqlite_url)
    seed_demo_data(sqlite_url)
    seed_demo_data(sqlite_url)
    init_db(sqlite_url)
    with session_scope(sqlite_url) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 5


def test_outbox_is_sent_over_smtp_only_when_configured(store: SqlShopStore) -> None:
    import asyncore
    import smtpd
    import threading

    from bot.settings import SmtpSettings
    from bot.shop.mailer import deliver_outbox

    store.request_password_reset("peter.novak@example.com", "mail-session")
    assert deliver_outbox(store.url, None, store.secret) == 0  # not configured: the mail waits in the outbox

    received: list[tuple[str, list[str], bytes]] = []

    class Server(smtpd.SMTPServer):
        def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
            received.append((mailfrom, rcpttos, data))

    server = Server(("127.0.0.1", 0), None)
    port = server.socket.getsockname()[1]
    loop = threading.Thread(target=asyncore.loop, kwargs={"timeout": 0.1, "count": 100}, daemon=True)
    loop.start()
    try:
        sent = deliver_outbox(
            store.url, SmtpSettings(host="127.0.0.1", port=port, starttls=False), store.secret
        )
    finally:
        server.close()
        loop.join(timeout=15)
    assert sent == 1
    assert received[0][1] == ["peter.novak@example.com"] and b"reset?token=" in received[0][2].lower()
    with session_scope(store.url) as session:
        mail = session.execute(select(OutboxEmail)).scalar_one()
        assert mail.sent_at is not None
        assert mail.body == ""  # sent: the token is forgotten


def test_unsent_mail_is_forgotten_once_its_link_has_expired(store: SqlShopStore) -> None:
    from bot.shop.mailer import forget_unsent
    from bot.shop.store import RESET_TOKEN_TTL

    store.request_password_reset("peter.novak@example.com", "slow-mail")
    assert forget_unsent(store.url, RESET_TOKEN_TTL) == 0  # still usable: kept
    with session_scope(store.url) as session:
        session.execute(select(OutboxEmail)).scalar_one().created_at -= RESET_TOKEN_TTL
    assert forget_unsent(store.url, RESET_TOKEN_TTL) == 1
    with session_scope(store.url) as session:
        assert session.execute(select(OutboxEmail)).scalar_one().body == ""


def test_outdated_schema_is_reported_clearly(tmp_path) -> None:
    from sqlalchemy import create_engine, text

    from bot.db import OutdatedSchema

    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = create_engine(url)
    with old.begin() as connection:  # a conversations table from before rasa_paused existed
        connection.execute(
            text("CREATE TABLE conversations (id VARCHAR(64) PRIMARY KEY, language VARCHAR(5))")
        )
    old.dispose()
    with pytest.raises(OutdatedSchema, match=r"conversations lacks column\(s\) .*rasa_paused.*make reset-db"):
        init_db(url)


def test_cancel_a_processing_order_records_who_when_and_why(store: SqlShopStore) -> None:
    from bot.shop.models import OrderCancellation
    from bot.shop.store import CancelStatus

    outcome = store.cancel_order("617245", " Ivan.Petrov@example.ru ", "ordered the wrong size")
    assert outcome.status is CancelStatus.CANCELLED
    assert outcome.order.status == "cancelled"
    assert store.find_verified_order("617245", "ivan.petrov@example.ru").status == "cancelled"
    with session_scope(store.url) as session:
        rows = session.execute(select(OrderCancellation)).scalars().all()
        assert [(r.requested_by, r.reason, r.channel) for r in rows] == [
            ("ivan.petrov@example.ru", "ordered the wrong size", "chat")
        ]
        assert abs((datetime.utcnow() - rows[0].cancelled_at).total_seconds()) < 60
    again = store.cancel_order("617245", "ivan.petrov@example.ru")
    assert again.status is CancelStatus.ALREADY_CANCELLED
    with session_scope(store.url) as session:
        assert session.scalar(select(func.count()).select_from(OrderCancellation)) == 1


@pytest.mark.parametrize(
    ("number", "email"), [("593011", "peter.novak@example.com"), ("482913", "anna.kovacova@example.sk")]
)
def test_shipped_or_delivered_orders_are_not_cancelled(store: SqlShopStore, number: str, email: str) -> None:
    from bot.shop.store import CancelStatus

    before = store.find_verified_order(number, email)
    outcome = store.cancel_order(number, email)
    assert outcome.status is CancelStatus.TOO_LATE
    assert outcome.order.status == before.status != "cancelled"


def test_cancel_needs_the_exact_number_and_email(store: SqlShopStore) -> None:
    for number, email in [
        ("617245", "peter.novak@example.com"),
        ("617245 ", "ivan.petrov@example.ru"),
        ("999999", "ivan.petrov@example.ru"),
    ]:
        with pytest.raises(PermissionError):
            store.cancel_order(number, email)
    assert store.find_verified_order("617245", "ivan.petrov@example.ru").status == "processing"
