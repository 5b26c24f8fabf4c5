"""bot.attachments: what a file is, decided by its bytes; cleaning; limits; retention and erasure."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import update

from bot.attachments import AttachmentRefused, AttachmentStore, FileKind, Refusal, validate
from bot.attachments.models import Attachment
from bot.attachments.validation import safe_filename, sniff
from bot.db import session_scope
from bot.messages.log import MessageLog
from bot.messages.models import Conversation
from bot.migrations import init_db
from bot.privacy import PrivacyService
from bot.privacy.tracker_store import RasaTrackerStore
from bot.settings import AttachmentSettings, PrivacySettings
from tests.support import files
from tests.unit.test_migrations import empty_database

__all__ = ["empty_database"]  # the fixture: a new SQLite or PostgreSQL database

LIMITS = {"max_bytes": 10 * 1024 * 1024, "max_pixels": 40_000_000}


def refusal(data: bytes, name: str = "photo.png", **limits: int) -> Refusal:
    with pytest.raises(AttachmentRefused) as caught:
        validate(data, name, **{**LIMITS, **limits})
    assert caught.value.message  # always a sentence for the person who sent it
    return caught.value.reason


# --- what is accepted, and how it is cleaned --------------------------------------------
def test_a_photo_is_reencoded_without_its_exif() -> None:
    original = files.jpeg_with_exif()
    assert b"SecretCam" in original
    clean = validate(original, "IMG_0001.JPG", **LIMITS)
    assert clean.kind is FileKind.IMAGE and clean.content_type == "image/jpeg"
    assert b"SecretCam" not in clean.data and b"Main Street" not in clean.data
    assert not Image.open(io.BytesIO(clean.data)).getexif()
    assert (clean.width, clean.height, clean.filename) == (64, 48, "IMG_0001.jpg")


def test_comments_xmp_text_chunks_and_colour_profiles_are_dropped() -> None:
    from PIL import ImageCms, PngImagePlugin

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    jpeg, png = io.BytesIO(), io.BytesIO()
    photo = Image.new("RGB", (20, 10), (200, 100, 50))
    photo.save(jpeg, "JPEG", comment=b"SECRET-1", xmp=b"<x:xmpmeta>SECRET-2</x:xmpmeta>", icc_profile=profile)
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "SECRET-3")
    photo.save(png, "PNG", pnginfo=text, icc_profile=profile)
    for original in (jpeg.getvalue(), png.getvalue()):
        assert b"SECRET-" in original
        clean = validate(original, "a", **LIMITS).data
        assert b"SECRET-" not in clean
        assert "icc_profile" not in Image.open(io.BytesIO(clean)).info


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (files.png(), "image/png"),
        (files.image("WEBP"), "image/webp"),
        (files.image("GIF"), "image/png"),  # its first frame, as a PNG
    ],
)
def test_png_webp_and_gif_are_accepted(data: bytes, content_type: str) -> None:
    clean = validate(data, "picture", **LIMITS)
    assert clean.content_type == content_type
    assert Image.open(io.BytesIO(clean.data)).size == (clean.width, clean.height)


def test_bytes_after_the_image_do_not_survive() -> None:
    smuggled = files.png() + b"<script>alert(1)</script>"
    assert b"<script>" not in validate(smuggled, "a.png", **LIMITS).data


def test_a_plain_pdf_is_kept_as_it_is() -> None:
    document = files.pdf(pages=2)
    clean = validate(document, "C:\\scans\\invoice 11.PDF", **LIMITS)
    assert (clean.kind, clean.content_type, clean.data) == (FileKind.PDF, "application/pdf", document)
    assert clean.filename == "invoice 11.pdf"  # only the base name


def test_the_name_never_decides_the_type() -> None:
    assert sniff(files.png()) == "PNG"
    assert validate(files.png(), "report.pdf", **LIMITS).filename == "report.png"
    assert safe_filename("../../etc/<passwd>.exe", "png", "photo") == "passwd.png"
    assert safe_filename("", "pdf", "document") == "document.pdf"


# --- hostile files: refused, with a reason -------------------------------------------------
def test_an_svg_with_a_script_is_refused() -> None:
    assert refusal(files.SVG_WITH_SCRIPT, "cat.svg") is Refusal.UNSUPPORTED
    assert refusal(files.SVG_WITH_SCRIPT, "cat.png") is Refusal.UNSUPPORTED


def test_an_html_file_renamed_png_is_refused() -> None:
    assert refusal(files.HTML_AS_PNG, "photo.png") is Refusal.UNSUPPORTED


def test_a_zip_bomb_is_refused_without_being_opened() -> None:
    bomb = files.zip_bomb(200)
    assert len(bomb) < 1024 * 1024
    assert refusal(bomb, "photos.zip") is Refusal.UNSUPPORTED
    assert refusal(bomb, "photo.jpg") is Refusal.UNSUPPORTED


def test_decompression_bombs_are_refused_before_decoding() -> None:
    assert refusal(files.png_claiming_pixels(100_000, 100_000)) is Refusal.TOO_MANY_PIXELS
    real = files.real_pixel_bomb()  # 48 megapixels in a few kilobytes
    assert len(real) < 64 * 1024
    assert refusal(real) is Refusal.TOO_MANY_PIXELS


def test_too_large_empty_broken_and_scripted_files_are_refused() -> None:
    assert refusal(files.png(), max_bytes=50) is Refusal.TOO_LARGE
    assert refusal(b"") is Refusal.EMPTY
    assert refusal(files.png()[:60]) is Refusal.UNREADABLE
    assert refusal(b"%PDF-1.7\nnot really\n%%EOF\n", "a.pdf") is Refusal.UNREADABLE
    assert refusal(files.pdf(javascript="app.alert(1)"), "a.pdf") is Refusal.ACTIVE_CONTENT


# --- the store: limits per conversation, retention, erasure ----------------------------------
@pytest.fixture()
def store(empty_database: str) -> AttachmentStore:
    """On SQLite and on a real PostgreSQL (bytea), each a new database."""
    init_db(empty_database)
    return AttachmentStore(
        empty_database, AttachmentSettings(max_per_conversation=3, max_bytes_per_conversation=200_000)
    )


def test_a_conversation_holds_a_limited_number_and_size_of_files(store: AttachmentStore) -> None:
    conversation = MessageLog(store.url).open_session()
    for _ in range(3):
        store.accept(conversation, files.png(), "a.png", "customer")
    with pytest.raises(AttachmentRefused) as caught:
        store.accept(conversation, files.png(), "a.png", "customer")
    assert caught.value.reason is Refusal.CONVERSATION_COUNT
    other = MessageLog(store.url).open_session()
    with pytest.raises(AttachmentRefused) as caught:
        store.accept(other, b"\x89PNG\r\n\x1a\n" + bytes(250_000), "big.png", "customer")
    assert caught.value.reason is Refusal.CONVERSATION_BYTES  # checked before any decoding
    assert store.count(conversation) == 3 and store.count(other) == 0


def test_tokens_are_long_random_and_content_comes_back(store: AttachmentStore) -> None:
    conversation = MessageLog(store.url).open_session()
    first = store.accept(conversation, files.png(), "a.png", "customer")
    second = store.accept(conversation, files.png(), "a.png", "customer")
    assert first.token != second.token and len(first.token) >= 40
    content = store.content(first.token)
    assert content.conversation_id == conversation and content.data.startswith(b"\x89PNG")
    assert store.content("x" * 43) is None


def _privacy(url: str, tmp_path) -> PrivacyService:
    return PrivacyService(
        url,
        RasaTrackerStore(f"sqlite:///{tmp_path / 'tracker.db'}"),
        PrivacySettings(retention_days=30),
        verification_window=timedelta(minutes=60),
    )


def test_erasure_and_export_include_the_conversation_files(store: AttachmentStore, tmp_path) -> None:
    log = MessageLog(store.url)
    conversation = log.open_session()
    log.record(conversation, "customer", "my email is anna@example.sk")
    stored = store.accept(conversation, files.jpeg_with_exif(), "kettle.jpg", "customer")
    log.record(conversation, "customer", "", attachment_id=stored.id)
    privacy = _privacy(store.url, tmp_path)
    exported = privacy.export("anna@example.sk")["conversations"][0]["attachments"]
    assert [(a["name"], a["kind"], a["uploaded_by"]) for a in exported] == [("kettle.jpg", "image", "customer")]
    assert "data" not in exported[0]
    removed = privacy.erase("anna@example.sk")
    assert removed.counts["attachments"] == 1
    assert store.count() == 0 and store.content(stored.token) is None


def test_retention_purges_the_files_of_old_conversations(store: AttachmentStore, tmp_path) -> None:
    log = MessageLog(store.url)
    old, recent = log.open_session(), log.open_session()
    for conversation in (old, recent):
        stored = store.accept(conversation, files.png(), "a.png", "customer")
        log.record(conversation, "customer", "", attachment_id=stored.id)
    with session_scope(store.url) as session:
        session.execute(
            update(Conversation)
            .where(Conversation.id == old)
            .values(last_activity_at=datetime.utcnow() - timedelta(days=31))
        )
    removed = _privacy(store.url, tmp_path).purge_expired()
    assert removed.counts["attachments"] == 1
    assert store.count(old) == 0 and store.count(recent) == 1
    with session_scope(store.url) as session:
        assert session.query(Attachment).count() == 1


def test_a_message_shows_its_attachment_without_the_bytes(store: AttachmentStore) -> None:
    log = MessageLog(store.url)
    conversation = log.open_session()
    stored = store.accept(conversation, files.pdf(), "Invoice.pdf", "agent")
    message, _ = log.record(conversation, "agent", "", agent_name="Alice", attachment_id=stored.id)
    expected = {
        "token": stored.token,
        "kind": "pdf",
        "content_type": "application/pdf",
        "name": "Invoice.pdf",
        "size": stored.size,
        "width": None,
        "height": None,
    }
    assert message["attachment"] == expected
    assert log.after(conversation)[0]["attachment"] == expected


def test_every_text_the_customer_sees_about_files_and_handoffs_exists_in_four_languages() -> None:
    import yaml

    from bot.handoff.notices import TEXT_KEYS
    from bot.settings import ROOT

    texts = yaml.safe_load((ROOT / "locales" / "handoff.yml").read_text(encoding="utf-8"))
    for key in [*TEXT_KEYS.values(), "attachment_for_bot", "attachment_for_bot_button"]:
        assert sorted(texts[key]) == ["en", "hu", "ru", "sk"], key
        assert all(value.strip() for value in texts[key].values()), key
