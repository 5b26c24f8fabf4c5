"""What the customer is told when a person joins their chat, passes it on, or leaves.

A system message in the customer's language whose ``meta.notice`` ({kind, agent_name}) the
widget reads to tell "waiting in the queue" from "connected with <name>" in its header.
"""

from __future__ import annotations

from enum import StrEnum

from bot.handoff.texts import text
from bot.messages.log import MessageLog


class NoticeKind(StrEnum):
    JOINED = "joined"  # an agent claimed the conversation
    TRANSFERRED = "transferred"  # passed to another agent
    QUEUED = "queued"  # passed back to the queue
    LEFT = "left"  # resolved: the bot has it again


TEXT_KEYS = {
    NoticeKind.JOINED: "agent_joined",
    NoticeKind.TRANSFERRED: "agent_transferred",
    NoticeKind.QUEUED: "back_to_queue",
    NoticeKind.LEFT: "agent_left",
}


def notify_customer(messages: MessageLog, conversation_id: str, kind: NoticeKind, agent_name: str | None) -> None:
    language = messages.language(conversation_id)
    messages.record(
        conversation_id,
        "system",
        text(TEXT_KEYS[kind], language, name=agent_name or ""),
        meta={"notice": {"kind": kind.value, "agent_name": agent_name}},
    )
