"""Keep cleaned files with their conversation, within per-conversation limits; erase them with it."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, undefer

from bot.attachments.models import Attachment
from bot.attachments.validation import AttachmentRefused, CleanFile, Refusal, validate
from bot.db import session_scope
from bot.settings import AttachmentSettings


@dataclass(frozen=True)
class StoredAttachment:
    """What a message shows of its file (no bytes): the ``attachment`` of a message dict."""

    id: int
    token: str
    kind: str
    content_type: str
    name: str
    size: int
    width: int | None
    height: int | None

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("id")
        return data

    @classmethod
    def of(cls, row: Attachment) -> StoredAttachment:
        return cls(
            row.id, row.token, row.kind, row.content_type, row.filename, row.size, row.width, row.height
        )


@dataclass(frozen=True)
class AttachmentContent:
    conversation_id: str
    kind: str
    content_type: str
    filename: str
    data: bytes


class AttachmentStore:
    def __init__(self, database_url: str, settings: AttachmentSettings) -> None:
        self.url = database_url
        self.settings = settings

    def accept(self, conversation_id: str, data: bytes, filename: str, uploaded_by: str) -> StoredAttachment:
        """Validate, clean and store one file; AttachmentRefused (nothing stored) otherwise."""
        self._check_room(conversation_id, len(data))  # cheap checks before any decoding
        clean = validate(
            data, filename, max_bytes=self.settings.max_file_bytes, max_pixels=self.settings.max_image_pixels
        )
        return self.save(conversation_id, clean, uploaded_by)

    def save(self, conversation_id: str, clean: CleanFile, uploaded_by: str) -> StoredAttachment:
        with session_scope(self.url) as session:
            self._check_room(conversation_id, len(clean.data), session)
            row = Attachment(
                token=secrets.token_urlsafe(32),
                conversation_id=conversation_id,
                kind=clean.kind.value,
                content_type=clean.content_type,
                filename=clean.filename,
                size=len(clean.data),
                width=clean.width,
                height=clean.height,
                uploaded_by=uploaded_by,
                created_at=datetime.utcnow(),
                data=clean.data,
            )
            session.add(row)
            session.flush()
            return StoredAttachment.of(row)

    def _check_room(self, conversation_id: str, size: int, session: Session | None = None) -> None:
        if session is None:
            with session_scope(self.url) as own:
                return self._check_room(conversation_id, size, own)
        count, total = session.execute(
            select(func.count(Attachment.id), func.coalesce(func.sum(Attachment.size), 0)).where(
                Attachment.conversation_id == conversation_id
            )
        ).one()
        limits = self.settings
        if count >= limits.max_per_conversation:
            raise AttachmentRefused(
                Refusal.CONVERSATION_COUNT,
                f"this conversation already has {limits.max_per_conversation} files, the most it can hold",
            )
        if total + size > limits.max_bytes_per_conversation:
            raise AttachmentRefused(
                Refusal.CONVERSATION_BYTES,
                "this conversation has no room for more files "
                f"(at most {limits.max_bytes_per_conversation // (1024 * 1024)} MB in all)",
            )
        return None

    def content(self, token: str) -> AttachmentContent | None:
        with session_scope(self.url) as session:
            row = session.execute(
                select(Attachment).options(undefer(Attachment.data)).where(Attachment.token == token)
            ).scalar_one_or_none()
            if row is None:
                return None
            return AttachmentContent(row.conversation_id, row.kind, row.content_type, row.filename, row.data)

    def count(self, conversation_id: str | None = None) -> int:
        with session_scope(self.url) as session:
            query = select(func.count(Attachment.id))
            if conversation_id is not None:
                query = query.where(Attachment.conversation_id == conversation_id)
            return int(session.scalar(query) or 0)


# --- for bot.privacy: inside its transaction --------------------------------------
def metadata_of(session: Session, conversation_id: str) -> list[dict[str, Any]]:
    """What the export lists of a conversation's files (their names, types and sizes, no bytes)."""
    rows = session.scalars(
        select(Attachment).where(Attachment.conversation_id == conversation_id).order_by(Attachment.id)
    )
    return [
        {
            "name": row.filename,
            "kind": row.kind,
            "content_type": row.content_type,
            "size": row.size,
            "uploaded_by": row.uploaded_by,
            "created_at": row.created_at.isoformat() + "Z",
        }
        for row in rows
    ]


def delete_of(session: Session, conversation_ids: Iterable[str]) -> int:
    """Remove the conversations' files (their messages must be gone first: they point here)."""
    statement = (
        delete(Attachment)
        .where(Attachment.conversation_id.in_(list(conversation_ids)))
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(statement).rowcount or 0)
