"""What a file really is, decided by its bytes, never by its name or the browser's claim.

Accepted: JPEG, PNG, WebP and GIF images, and PDF documents. An image is decoded by Pillow
(a pixel limit is checked before any pixel is decoded, against decompression bombs) and
re-encoded, which drops EXIF and every other metadata and anything hidden after the image
data; an animated GIF or WebP keeps its first frame. A PDF must parse with pypdf in strict
mode and carry no active content (JavaScript, launch actions, embedded files). Everything
else (SVG, HTML, archives, office files...) is refused without being parsed.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

MAX_PDF_PAGES = 500


class FileKind(StrEnum):
    IMAGE = "image"
    PDF = "pdf"


class Refusal(StrEnum):
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    UNSUPPORTED = "unsupported"  # not an image or PDF we accept (SVG, HTML, zip, ...)
    UNREADABLE = "unreadable"  # looks like one but does not decode
    TOO_MANY_PIXELS = "too_many_pixels"  # a decompression bomb, or simply too big a picture
    ACTIVE_CONTENT = "active_content"  # a PDF with JavaScript, launch actions or embedded files
    CONVERSATION_COUNT = "conversation_count"
    CONVERSATION_BYTES = "conversation_bytes"


class AttachmentRefused(Exception):
    """A file that is not stored; ``message`` says why in words a customer or agent understands."""

    def __init__(self, reason: Refusal, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


@dataclass(frozen=True)
class CleanFile:
    kind: FileKind
    content_type: str
    data: bytes
    filename: str
    width: int | None = None
    height: int | None = None


# Magic bytes of what we accept -> Pillow format name (None: PDF).
_IMAGE_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


def sniff(data: bytes) -> str | None:
    """The accepted format the bytes start with (JPEG, PNG, GIF, WEBP, PDF), else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if re.match(rb"%PDF-[12]\.\d", data[:8]):
        return "PDF"
    return None


def validate(data: bytes, filename: str, *, max_bytes: int, max_pixels: int) -> CleanFile:
    """The cleaned file, or AttachmentRefused."""
    if not data:
        raise AttachmentRefused(Refusal.EMPTY, "the file is empty")
    if len(data) > max_bytes:
        raise AttachmentRefused(Refusal.TOO_LARGE, f"the file is too large (at most {_mb(max_bytes)})")
    kind = sniff(data)
    if kind is None:
        raise AttachmentRefused(
            Refusal.UNSUPPORTED, "only photos (JPEG, PNG, WebP, GIF) and PDF documents can be sent"
        )
    if kind == "PDF":
        return _clean_pdf(data, filename)
    return _clean_image(data, kind, filename, max_pixels)


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def _clean_image(data: bytes, kind: str, filename: str, max_pixels: int) -> CleanFile:
    unreadable = AttachmentRefused(Refusal.UNREADABLE, "the picture could not be read; it may be damaged")
    too_big = AttachmentRefused(
        Refusal.TOO_MANY_PIXELS, f"the picture has too many pixels (at most {max_pixels // 1_000_000} megapixels)"
    )
    try:
        with warnings.catch_warnings():
            # Pillow warns past MAX_IMAGE_PIXELS and raises past twice that; we decide ourselves, first.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind]) as image:
                width, height = image.size  # from the header: nothing decoded yet
                if width * height > max_pixels or width < 1 or height < 1:
                    raise too_big
                image.seek(0)  # the first frame of an animation
                image.load()
                image = ImageOps.exif_transpose(image)  # keep the photo upright once EXIF is gone
                return _reencode(image, kind, filename)
    except AttachmentRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_big from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, MemoryError):
        raise unreadable from None


def _in_srgb(image: Image.Image) -> Image.Image:
    """An embedded colour profile applied, so the pixels look the same without it."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # a broken profile: the pixels as they are


def _reencode(image: Image.Image, kind: str, filename: str) -> CleanFile:
    """Only the pixels survive: a new file without metadata (EXIF, XMP, comments, text, profile)."""
    image = _in_srgb(image)
    # Encoders read some metadata from info (a JPEG comment, a PNG's ICC): keep only transparency.
    image.info = {key: value for key, value in image.info.items() if key == "transparency"}
    target = kind if kind in _IMAGE_FORMATS else "PNG"  # a GIF's first frame becomes a PNG
    if target == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif target in ("PNG", "WEBP") and image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA")
    out = io.BytesIO()
    options = {"JPEG": {"quality": 88, "optimize": True}, "WEBP": {"quality": 88}, "PNG": {"optimize": True}}
    image.save(out, format=target, **options[target])
    content_type, extension = _IMAGE_FORMATS[target]
    return CleanFile(
        FileKind.IMAGE, content_type, out.getvalue(), safe_filename(filename, extension, "photo"), *image.size
    )


def _clean_pdf(data: bytes, filename: str) -> CleanFile:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    unreadable = AttachmentRefused(Refusal.UNREADABLE, "the PDF could not be read; it may be damaged")
    if b"%%EOF" not in data[-2048:]:
        raise unreadable
    try:
        reader = PdfReader(io.BytesIO(data), strict=True)
        pages = len(reader.pages)
        active = _active_content(reader)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError, OSError):
        raise unreadable from None
    if pages < 1 or pages > MAX_PDF_PAGES:
        raise AttachmentRefused(Refusal.UNREADABLE, f"a PDF must have 1 to {MAX_PDF_PAGES} pages")
    if active:
        raise AttachmentRefused(
            Refusal.ACTIVE_CONTENT, "PDFs with scripts, actions or embedded files can't be sent"
        )
    return CleanFile(FileKind.PDF, "application/pdf", data, safe_filename(filename, "pdf", "document"))


def _active_content(reader: object) -> bool:
    """JavaScript, an action run on opening, or embedded files anywhere a viewer would look."""
    root = reader.trailer["/Root"].get_object()  # type: ignore[attr-defined]
    if "/OpenAction" in root or "/AA" in root:
        return True
    names = root.get("/Names")
    if names is not None:
        names = names.get_object()
        if "/JavaScript" in names or "/EmbeddedFiles" in names:
            return True
    for page in reader.pages:  # type: ignore[attr-defined]
        if "/AA" in page:
            return True
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is not None and action.get_object().get("/S") in ("/JavaScript", "/Launch"):
                return True
    return False


def safe_filename(raw: str, extension: str, fallback: str) -> str:
    """A display name: the base name, letters, digits and a few marks, with the real extension."""
    base = re.split(r"[\\/]", raw or "")[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = unicodedata.normalize("NFC", stem)
    stem = "".join(ch if ch.isalnum() or ch in " ._-()" else "_" for ch in stem).strip(" ._")[:80]
    return f"{stem or fallback}.{extension}"
