"""Shop tables. Emails are stored normalised; reset tokens only as hashes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from bot.db import Base


def utcnow() -> datetime:
    return datetime.utcnow()


class Customer(Base):
    __tablename__ = "customers"
    id = Column(Integer, primary_key=True)
    email = Column(String(254), unique=True, nullable=False, index=True)
    name = Column(String(120), nullable=False)
    language = Column(String(5), default="en", nullable=False)
    password_hash = Column(String(255), nullable=True)
    created_at = Column(DateTime, default=utcnow, nullable=False)
    orders = relationship("Order", back_populates="customer", order_by="Order.ordered_at")


class Order(Base):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
    number = Column(String(12), unique=True, nullable=False, index=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False)
    status = Column(String(20), nullable=False)  # processing|shipped|delivered|cancelled
    carrier = Column(String(40), nullable=True)
    tracking_number = Column(String(40), nullable=True)
    ordered_at = Column(Date, nullable=False)
    shipped_at = Column(Date, nullable=True)
    delivered_at = Column(Date, nullable=True)
    estimated_delivery = Column(Date, nullable=True)
    customer = relationship("Customer", back_populates="orders")
    items = relationship("OrderItem", back_populates="order", order_by="OrderItem.id")


class OrderItem(Base):
    __tablename__ = "order_items"
    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id"), nullable=False)
    sku = Column(String(40), nullable=False)
    name = Column(String(200), nullable=False)
    category = Column(String(40), nullable=False)
    quantity = Column(Integer, default=1, nullable=False)
    unit_price_cents = Column(Integer, nullable=False)  # integer cents: exact on every database
    order = relationship("Order", back_populates="items")


class Product(Base):
    """The catalogue: one row per SKU; order items refer to it by SKU."""

    __tablename__ = "products"
    id = Column(Integer, primary_key=True)
    sku = Column(String(40), unique=True, nullable=False, index=True)
    category = Column(String(40), nullable=False)
    names = relationship("ProductName", back_populates="product", order_by="ProductName.lang")


class ProductName(Base):
    """A product's name in one language, with the words customers use for it."""

    __tablename__ = "product_names"
    __table_args__ = (UniqueConstraint("product_id", "lang", name="uq_product_name_lang"),)
    id = Column(Integer, primary_key=True)
    product_id = Column(Integer, ForeignKey("products.id"), nullable=False)
    lang = Column(String(5), nullable=False)
    name = Column(String(200), nullable=False)
    synonyms = Column(Text, nullable=False, default="")  # comma-separated: "kettle, water boiler"
    product = relationship("Product", back_populates="names")


class ReturnRequest(Base):
    __tablename__ = "returns"
    __table_args__ = (UniqueConstraint("order_id", "items_key", name="uq_return_order_items"),)
    id = Column(Integer, primary_key=True)
    rma = Column(String(20), unique=True, nullable=False)
    order_id = Column(Integer, ForeignKey("orders.id"), nullable=False)
    items_key = Column(String(400), nullable=False)  # sorted SKUs: one return per item set
    items = Column(Text, nullable=False)
    reason = Column(Text, nullable=False)
    status = Column(String(20), default="label_sent", nullable=False)
    created_at = Column(DateTime, default=utcnow, nullable=False)


class OrderCancellation(Base):
    """Who cancelled an order, when and why (one row per order: an order is cancelled once)."""

    __tablename__ = "order_cancellations"
    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id"), nullable=False, unique=True)
    requested_by = Column(String(254), nullable=False)  # the verified email that asked
    channel = Column(String(20), nullable=False, default="chat")
    reason = Column(Text, nullable=False, default="")
    cancelled_at = Column(DateTime, default=utcnow, nullable=False)


class PasswordResetToken(Base):
    __tablename__ = "password_reset_tokens"
    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False)
    token_hash = Column(String(64), unique=True, nullable=False)
    expires_at = Column(DateTime, nullable=False)
    used_at = Column(DateTime, nullable=True)
    created_at = Column(DateTime, default=utcnow, nullable=False)


class PasswordResetRequest(Base):
    """Every request, whether or not an account exists: the rate limits count these."""

    __tablename__ = "password_reset_requests"
    id = Column(Integer, primary_key=True)
    email_hash = Column(String(64), nullable=False, index=True)
    session_id = Column(String(80), nullable=False, index=True)
    created_at = Column(DateTime, default=utcnow, nullable=False, index=True)
    accepted = Column(Boolean, nullable=False)


class VerificationAttempt(Base):
    """One failed order check. Every key is an HMAC, so the table reveals no order, email or address."""

    __tablename__ = "verification_attempts"
    id = Column(Integer, primary_key=True)
    order_hash = Column(String(64), nullable=True, index=True)
    email_hash = Column(String(64), nullable=True, index=True)
    session_hash = Column(String(64), nullable=True, index=True)
    client_hash = Column(String(64), nullable=True, index=True)
    created_at = Column(DateTime, default=utcnow, nullable=False, index=True)


class OutboxEmail(Base):
    """Mail waiting to be sent; SMTP delivery is optional (see bot.shop.mailer)."""

    __tablename__ = "outbox"
    id = Column(Integer, primary_key=True)
    to_address = Column(String(254), nullable=False)
    subject = Column(String(200), nullable=False)
    body = Column(Text, nullable=False)
    created_at = Column(DateTime, default=utcnow, nullable=False)
    sent_at = Column(DateTime, nullable=True)
    # This mail itself could not be sent (e.g. the server refused its address): not retried.
    failed_at = Column(DateTime, nullable=True)
    failure = Column(String(200), nullable=True)
    # A sender that claimed it (the worker, or the console sending at once) until then: the other
    # leaves it alone. A sender killed mid-way lets the claim lapse, and the mail goes out later.
    claimed_until = Column(DateTime, nullable=True)


__all__ = [
    "Customer",
    "Order",
    "OrderCancellation",
    "OrderItem",
    "OutboxEmail",
    "PasswordResetRequest",
    "PasswordResetToken",
    "Product",
    "ProductName",
    "ReturnRequest",
    "VerificationAttempt",
]
