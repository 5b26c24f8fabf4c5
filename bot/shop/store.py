"""The store behind the actions. ``ShopStore`` is the plug-in point: a shop connects its
order system by implementing it (see docs/order-systems.md). ``SqlShopStore`` is the demo
shop; ``bot.shop.adapters`` holds WooCommerce and the generic JSON-over-HTTP adapter.
Every implementation passes the same contract suite (tests/contract/)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.profile.model import ShopProfile, load_profile
from bot.profile.render import render
from bot.shop.mail_texts import return_label_mail
from bot.shop.mailer import seal
from bot.shop.models import (
    Customer,
    Order,
    OrderCancellation,
    OrderItem,
    OutboxEmail,
    PasswordResetRequest,
    PasswordResetToken,
    Product,
    ReturnRequest,
)
from bot.shop.policy import Eligibility, ItemView, ReturnPolicy, order_eligibility, returnable
from bot.shop.security import keyed_hash, new_token, normalise_email, token_hash

log = logging.getLogger(__name__)
RESET_TOKEN_TTL = timedelta(minutes=30)
# The reset mail (English), with the shop's facts filled in; the link is the profile's reset_url.
RESET_SUBJECT = "Reset your {{ shop.name }} password"
RESET_BODY = (
    "Hello {name},\n\nUse this link within 30 minutes to set a new password (it works once):\n{link}\n\n"
    "If you did not ask for this, ignore this email.\n\n{{ shop.name }}, {{ shop.contact_email }}"
)


@dataclass(frozen=True)
class OrderView:
    number: str
    status: str
    carrier: str | None
    tracking_number: str | None
    ordered_at: date
    shipped_at: date | None
    delivered_at: date | None
    estimated_delivery: date | None
    items: tuple[ItemView, ...]


class OrderStatus(StrEnum):
    """The statuses the bot talks about; adapters map their platform's statuses onto these."""

    AWAITING_PAYMENT = "awaiting_payment"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    PAYMENT_FAILED = "payment_failed"


class StoreUnavailable(RuntimeError):
    """The order system could not be reached or kept failing (after retries)."""


@dataclass(frozen=True)
class ReturnOutcome:
    rma: str
    created: bool  # False when the same items were already returned
    # True only when a return label is on its way to the customer by mail; the bot
    # mentions a label only then.
    label_mailed: bool = False


class CancelStatus(StrEnum):
    CANCELLED = "cancelled"  # cancelled now, recorded by the store
    ALREADY_CANCELLED = "already_cancelled"
    TOO_LATE = "too_late"  # shipped or delivered: not cancelled


@dataclass(frozen=True)
class CancelOutcome:
    status: CancelStatus
    order: OrderView  # the order as it is after the call


# Only an order nobody has sent yet can be cancelled.
CANCELLABLE_STATUS = "processing"
CANCELLED_STATUS = "cancelled"


class ResetOutcome(StrEnum):
    ACCEPTED = "accepted"  # a link is mailed if the account exists; the same answer either way
    RATE_LIMITED = "rate_limited"
    # Nothing will be mailed from here (no mail server): the same answer either way.
    NOT_SENT = "not_sent"
    # The shop's own site resets passwords (``ShopStore.password_reset_page``); nothing sent.
    SELF_SERVICE = "self_service"


class ShopStore(Protocol):
    """What the bot needs from a shop's order system; the contract is tests/contract/.

    Every method that touches an order verifies first: the number and the email on the
    order must both match exactly (email compared normalised: trimmed, lower-cased).
    Methods raise ``StoreUnavailable`` when the order system cannot answer.
    """

    # Where customers reset their password themselves, for SELF_SERVICE; None otherwise.
    password_reset_page: str | None

    def find_verified_order(self, order_number: str, email: str) -> OrderView | None:
        """The order only if the number and the email on it both match."""

    def eligibility(self, order: OrderView, today: date) -> Eligibility: ...

    def create_return(self, order_number: str, email: str, skus: list[str], reason: str) -> ReturnOutcome:
        """Records a return of the returnable items among ``skus``; the same items twice give
        the first RMA back (created=False). PermissionError when not verified, ValueError
        when none of the items can be returned."""

    def request_password_reset(self, email: str, session_id: str) -> ResetOutcome:
        """Never tells whether an account exists: the outcome is the same for any address."""

    def cancel_order(self, order_number: str, email: str, reason: str = "") -> CancelOutcome:
        """Raises PermissionError when number and email do not verify (exact match)."""


class SqlShopStore:
    """The demo shop in the app database. Its mail (reset links, return labels) goes
    through the outbox; ``mail_delivered`` is False when no mail server is configured, and
    then the outcomes say that nothing reaches the customer (the mail still waits in the
    outbox, where the development outbox page shows it)."""

    password_reset_page: str | None = None

    def __init__(
        self,
        database_url: str,
        secret: bytes,
        resets_per_email_per_hour: int = 3,
        resets_per_session_per_hour: int = 5,
        profile: ShopProfile | None = None,
        mail_delivered: bool = True,
    ) -> None:
        self.url = database_url
        self.secret = secret
        if profile is None:  # tools and tests that build a store alone get the demo shop's
            from bot.settings import DEMO_PROFILE

            profile = load_profile(DEMO_PROFILE)
        self.profile = profile
        self.policy = ReturnPolicy.of(profile)
        self.resets_per_email = resets_per_email_per_hour
        self.resets_per_session = resets_per_session_per_hour
        self.mail_delivered = mail_delivered

    def find_verified_order(self, order_number: str, email: str) -> OrderView | None:
        address = normalise_email(email)
        if not address or not order_number.isdigit() or len(order_number) > 12:
            return None
        with session_scope(self.url) as session:
            order = session.execute(
                select(Order).join(Customer).where(Order.number == order_number, Customer.email == address)
            ).scalar_one_or_none()
            return _view(order, session) if order else None

    def eligibility(self, order: OrderView, today: date) -> Eligibility:
        verdict = order_eligibility(order.status, order.delivered_at, today, self.policy)
        if verdict is Eligibility.ELIGIBLE and not returnable(list(order.items), self.policy)[0]:
            return Eligibility.EXCLUDED
        return verdict

    def create_return(self, order_number: str, email: str, skus: list[str], reason: str) -> ReturnOutcome:
        order = self.find_verified_order(order_number, email)
        if order is None:
            raise PermissionError("order not verified")
        items = [i for i in order.items if i.sku in set(skus)]
        ok, _ = returnable(items, self.policy)
        if not ok:
            raise ValueError("no returnable items selected")
        key = ",".join(sorted(i.sku for i in ok))
        with session_scope(self.url) as session:
            row = session.execute(select(Order.id).where(Order.number == order_number)).scalar_one()
            existing = _existing_return(session, row, key)
            if existing:
                return ReturnOutcome(existing.rma, created=False)
            rma = f"RMA-{secrets.token_hex(4).upper()}"
            session.add(
                ReturnRequest(
                    rma=rma,
                    order_id=row,
                    items_key=key,
                    items=", ".join(i.name for i in ok),
                    reason=reason[:1000],
                )
            )
            try:
                session.flush()
            except IntegrityError:  # a concurrent double submit won the race
                session.rollback()
                return ReturnOutcome(_existing_return(session, row, key).rma, created=False)
            customer = session.execute(
                select(Customer).join(Order).where(Order.id == row)
            ).scalar_one()
            subject, body = return_label_mail(customer.language, customer.name, rma, order_number, ok)
            session.add(OutboxEmail(to_address=customer.email, subject=subject, body=seal(self.secret, body)))
        return ReturnOutcome(rma, created=True, label_mailed=self.mail_delivered)

    def cancel_order(self, order_number: str, email: str, reason: str = "") -> CancelOutcome:
        """Cancels a processing order and records who asked, when and why.

        The status changes in one conditional UPDATE, so two concurrent requests
        cancel (and record) once; the loser reads ALREADY_CANCELLED.
        """
        order = self.find_verified_order(order_number, email)
        if order is None:
            raise PermissionError("order not verified")
        if order.status == CANCELLED_STATUS:
            return CancelOutcome(CancelStatus.ALREADY_CANCELLED, order)
        if order.status != CANCELLABLE_STATUS:
            return CancelOutcome(CancelStatus.TOO_LATE, order)
        with session_scope(self.url) as session:
            changed = session.execute(
                update(Order)
                .where(Order.number == order_number, Order.status == CANCELLABLE_STATUS)
                .values(status=CANCELLED_STATUS)
                .execution_options(synchronize_session=False)
            ).rowcount
            if changed:
                row = session.execute(select(Order.id).where(Order.number == order_number)).scalar_one()
                session.add(
                    OrderCancellation(
                        order_id=row,
                        requested_by=normalise_email(email) or email,
                        reason=reason[:1000],
                    )
                )
        after = self.find_verified_order(order_number, email)
        if after is None:  # verified a moment ago; only an erasure in between gets here
            raise PermissionError("order not verified")
        if changed:
            return CancelOutcome(CancelStatus.CANCELLED, after)
        status = CancelStatus.ALREADY_CANCELLED if after.status == CANCELLED_STATUS else CancelStatus.TOO_LATE
        return CancelOutcome(status, after)

    def request_password_reset(self, email: str, session_id: str) -> ResetOutcome:
        address = normalise_email(email) or (email or "").strip().lower()[:254]
        email_key = keyed_hash(self.secret, address)
        hour_ago = datetime.utcnow() - timedelta(hours=1)
        with session_scope(self.url) as session:
            recent = PasswordResetRequest.created_at >= hour_ago
            by_email = session.scalar(
                select(func.count()).where(PasswordResetRequest.email_hash == email_key, recent)
            )
            by_session = session.scalar(
                select(func.count()).where(PasswordResetRequest.session_id == session_id, recent)
            )
            limited = by_email >= self.resets_per_email or by_session >= self.resets_per_session
            session.add(
                PasswordResetRequest(email_hash=email_key, session_id=session_id[:80], accepted=not limited)
            )
            if limited:  # without mail nothing was ever sent: say that, not "sent recently"
                return ResetOutcome.RATE_LIMITED if self.mail_delivered else ResetOutcome.NOT_SENT
            customer = session.execute(select(Customer).where(Customer.email == address)).scalar_one_or_none()
            if customer is not None:
                token = new_token()
                session.add(
                    PasswordResetToken(
                        customer_id=customer.id,
                        token_hash=token_hash(token),
                        expires_at=datetime.utcnow() + RESET_TOKEN_TTL,
                    )
                )
                session.add(
                    OutboxEmail(
                        to_address=customer.email,
                        subject=render(RESET_SUBJECT, self.profile),
                        body=seal(
                            self.secret,
                            render(RESET_BODY, self.profile)
                            .replace("{name}", customer.name)
                            .replace("{link}", self._reset_link(token)),
                        ),
                    )
                )
        return ResetOutcome.ACCEPTED if self.mail_delivered else ResetOutcome.NOT_SENT

    def _reset_link(self, token: str) -> str:
        base = self.profile.data.reset_url or f"{self.profile.data.website.rstrip('/')}/account/reset?token="
        return f"{base}{token}"

    def redeem_reset_token(self, token: str) -> bool:
        """Single use: marks the token used; False when unknown, used or expired."""
        with session_scope(self.url) as session:
            row = session.execute(
                select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash(token))
            ).scalar_one_or_none()
            if row is None or row.used_at is not None or row.expires_at < datetime.utcnow():
                return False
            row.used_at = datetime.utcnow()
            return True


def _existing_return(session: Session, order_id: int, items_key: str) -> ReturnRequest | None:
    return session.execute(
        select(ReturnRequest).where(ReturnRequest.order_id == order_id, ReturnRequest.items_key == items_key)
    ).scalar_one_or_none()


def _view(order: Order, session: Session) -> OrderView:
    skus = [i.sku for i in order.items]
    products = {
        p.sku: p for p in session.execute(select(Product).where(Product.sku.in_(skus))).scalars()
    }

    def item(i: OrderItem) -> ItemView:
        product = products.get(i.sku)
        names = {n.lang: n.name for n in product.names} if product else {}
        synonyms = tuple(
            word.strip()
            for n in (product.names if product else [])
            for word in n.synonyms.split(",")
            if word.strip()
        )
        return ItemView(i.sku, i.name, i.category, i.quantity, names, synonyms)

    return OrderView(
        number=order.number,
        status=order.status,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        ordered_at=order.ordered_at,
        shipped_at=order.shipped_at,
        delivered_at=order.delivered_at,
        estimated_delivery=order.estimated_delivery,
        items=tuple(item(i) for i in order.items),
    )
