"""The store behind the actions. ``ShopStore`` is the seam: a real shop plugs in
its HTTP API by implementing it; ``SqlShopStore`` is the demo implementation."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.shop.mailer import seal
from bot.shop.models import (
    Customer,
    Order,
    OrderItem,
    OutboxEmail,
    PasswordResetRequest,
    PasswordResetToken,
    Product,
    ReturnRequest,
)
from bot.shop.policy import Eligibility, ItemView, order_eligibility, returnable
from bot.shop.security import keyed_hash, new_token, normalise_email, token_hash

log = logging.getLogger(__name__)
RESET_TOKEN_TTL = timedelta(minutes=30)
RESET_URL = "https://voltmart.example/account/reset?token="


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


@dataclass(frozen=True)
class ReturnOutcome:
    rma: str
    created: bool  # False when the same items were already returned


class ResetOutcome(StrEnum):
    ACCEPTED = "accepted"  # the same whether or not the account exists
    RATE_LIMITED = "rate_limited"


class ShopStore(Protocol):
    def find_verified_order(self, order_number: str, email: str) -> OrderView | None:
        """The order only if the number and the email on it both match."""

    def eligibility(self, order: OrderView, today: date) -> Eligibility: ...

    def create_return(self, order_number: str, email: str, skus: list[str], reason: str) -> ReturnOutcome: ...

    def request_password_reset(self, email: str, session_id: str) -> ResetOutcome: ...


class SqlShopStore:
    def __init__(
        self,
        database_url: str,
        secret: bytes,
        resets_per_email_per_hour: int = 3,
        resets_per_session_per_hour: int = 5,
    ) -> None:
        self.url = database_url
        self.secret = secret
        self.resets_per_email = resets_per_email_per_hour
        self.resets_per_session = resets_per_session_per_hour

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
        verdict = order_eligibility(order.status, order.delivered_at, today)
        if verdict is Eligibility.ELIGIBLE and not returnable(list(order.items))[0]:
            return Eligibility.EXCLUDED
        return verdict

    def create_return(self, order_number: str, email: str, skus: list[str], reason: str) -> ReturnOutcome:
        order = self.find_verified_order(order_number, email)
        if order is None:
            raise PermissionError("order not verified")
        items = [i for i in order.items if i.sku in set(skus)]
        ok, _ = returnable(items)
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
        return ReturnOutcome(rma, created=True)

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
            if limited:
                return ResetOutcome.RATE_LIMITED
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
                        subject="Reset your VoltMart password",
                        body=seal(
                            self.secret,
                            f"Hello {customer.name},\n\nUse this link within 30 minutes to set a "
                            f"new password (it works once):\n{RESET_URL}{token}\n\n"
                            "If you did not ask for this, ignore this email.",
                        ),
                    )
                )
        return ResetOutcome.ACCEPTED

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
