"""Files in a conversation (images and PDFs): validated by content, re-encoded, stored under retention.

The web layer (widget, console) and later the email channel only call this package:
``validate`` decides what a file really is and cleans it, ``AttachmentStore`` keeps it
with its conversation and erases it with it.
"""

from bot.attachments.store import AttachmentStore, StoredAttachment
from bot.attachments.validation import AttachmentRefused, CleanFile, FileKind, Refusal, validate

__all__ = [
    "AttachmentRefused",
    "AttachmentStore",
    "CleanFile",
    "FileKind",
    "Refusal",
    "StoredAttachment",
    "validate",
]
