"""Sends stored replies through their conversation's channel, in order, until each is sent.

A delivery row is written with its message (bot.messages.log), so a reply is never stored without
it. A process claims a row atomically before sending (several gateways never send one twice); a
failure leaves it pending with a growing pause; a claim of a process that died is taken over once
stale. A channel that refuses for good (the customer blocked the bot) marks it failed, logged.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update

from bot.channels.base import Button, ChannelAdapter, DeliveryError, OutboundMessage
from bot.db import session_scope
from bot.messages.models import Channel, ChatMessage, Conversation, OutboundDelivery, OutboundState

log = logging.getLogger(__name__)
MAX_PAUSE_SECONDS = 300.0


def pause_after(attempts: int) -> float:
    """1, 2, 4 ... seconds, at most five minutes."""
    return min(2.0 ** max(attempts - 1, 0), MAX_PAUSE_SECONDS)


class OutboundDispatcher:
    def __init__(
        self, database_url: str, adapters: dict[Channel, ChannelAdapter], stale_after: float = 60.0
    ) -> None:
        self.url = database_url
        self.adapters = adapters
        self.stale_after = stale_after
        self._lock = threading.Lock()

    def kick(self, conversation_id: str) -> None:
        """Deliver now, off the caller's thread (a greenlet under the gateway's gevent)."""
        threading.Thread(target=self._deliver_quietly, args=(conversation_id,), daemon=True).start()

    def _deliver_quietly(self, conversation_id: str) -> None:
        try:
            self.deliver_due(conversation_id)
        except Exception:  # the sweep tries again
            log.exception("outbound delivery failed")

    def deliver_due(self, conversation_id: str | None = None, limit: int = 100) -> int:
        """Send what is due (of one conversation, or all); returns how many were sent."""
        sent = 0
        for _ in range(limit):
            claimed = self._claim(conversation_id)
            if claimed is None:
                return sent
            delivery_id, channel, thread, message = claimed
            adapter = self.adapters.get(channel)
            try:
                if adapter is None:
                    raise DeliveryError(f"channel {channel} is not enabled")
                adapter.deliver(thread, message)
            except DeliveryError as exc:
                self._failed(delivery_id, exc)
                continue
            except Exception as exc:  # a bug or an unexpected answer: retried, never dropped
                self._failed(delivery_id, DeliveryError(type(exc).__name__))
                continue
            self._set(delivery_id, state=OutboundState.SENT, sent_at=datetime.utcnow(), last_error=None)
            sent += 1
        return sent

    def _claim(self, conversation_id: str | None) -> tuple[int, Channel, str, OutboundMessage] | None:
        now = datetime.utcnow()
        stale = now - timedelta(seconds=self.stale_after)
        with self._lock, session_scope(self.url) as session:
            earlier = OutboundDelivery.__table__.alias("earlier")
            # The oldest unsent delivery of its conversation only: replies arrive in order.
            blocked = exists().where(
                earlier.c.conversation_id == OutboundDelivery.conversation_id,
                earlier.c.id < OutboundDelivery.id,
                earlier.c.state.in_((OutboundState.PENDING.value, OutboundState.SENDING.value)),
            )
            query = (
                select(OutboundDelivery.id)
                .where(
                    (
                        (OutboundDelivery.state == OutboundState.PENDING.value)
                        & (OutboundDelivery.next_attempt_at <= now)
                    )
                    | (
                        (OutboundDelivery.state == OutboundState.SENDING.value)
                        & (OutboundDelivery.claimed_at <= stale)
                    ),
                    ~blocked,
                )
                .order_by(OutboundDelivery.id)
                .limit(1)
            )
            if conversation_id is not None:
                query = query.where(OutboundDelivery.conversation_id == conversation_id)
            delivery_id = session.scalar(query)
            if delivery_id is None:
                return None
            claimed = session.execute(
                update(OutboundDelivery)
                .where(
                    OutboundDelivery.id == delivery_id,
                    (OutboundDelivery.state == OutboundState.PENDING.value)
                    | (
                        (OutboundDelivery.state == OutboundState.SENDING.value)
                        & (OutboundDelivery.claimed_at <= stale)
                    ),
                )
                .values(
                    state=OutboundState.SENDING.value, claimed_at=now, attempts=OutboundDelivery.attempts + 1
                )
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:
                return None
            delivery = session.get(OutboundDelivery, delivery_id)
            message = session.get(ChatMessage, delivery.message_id)
            thread = session.scalar(
                select(Conversation.channel_thread).where(Conversation.id == delivery.conversation_id)
            )
            buttons = tuple(
                Button(str(b.get("title", "")), str(b.get("payload", "")))
                for b in (message.buttons or [])
                if isinstance(b, dict)
            )
            outbound = OutboundMessage(
                message_id=message.id,
                sender=message.sender,
                text=message.text,
                buttons=buttons,
                agent_name=message.agent_name,
                meta=dict(message.meta or {}),
            )
            return delivery.id, Channel(delivery.channel), thread or "", outbound

    def _failed(self, delivery_id: int, exc: DeliveryError) -> None:
        with session_scope(self.url) as session:
            delivery = session.get(OutboundDelivery, delivery_id)
            if exc.permanent:
                log.error(
                    "%s refused message delivery %s for good (%s); not retried",
                    delivery.channel,
                    delivery_id,
                    exc.reason,
                )
                delivery.state = OutboundState.FAILED.value
            else:
                pause = exc.retry_after if exc.retry_after is not None else pause_after(delivery.attempts)
                log.warning(
                    "%s delivery %s failed (%s); retried in %.0f s",
                    delivery.channel,
                    delivery_id,
                    exc.reason,
                    pause,
                )
                delivery.state = OutboundState.PENDING.value
                delivery.next_attempt_at = datetime.utcnow() + timedelta(seconds=pause)
            delivery.claimed_at = None
            delivery.last_error = exc.reason[:200]

    def _set(self, delivery_id: int, **values: object) -> None:
        with session_scope(self.url) as session:
            session.execute(
                update(OutboundDelivery)
                .where(OutboundDelivery.id == delivery_id)
                .values(
                    **{k: (v.value if isinstance(v, OutboundState) else v) for k, v in values.items()},
                    claimed_at=None,
                )
                .execution_options(synchronize_session=False)
            )

    def pending_count(self) -> int:
        with session_scope(self.url) as session:
            return len(
                session.scalars(
                    select(OutboundDelivery.id).where(
                        OutboundDelivery.state.in_((OutboundState.PENDING.value, OutboundState.SENDING.value))
                    )
                ).all()
            )
