"""Files for attachment tests: real images and PDFs made here, and the hostile ones to refuse."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import Image


def jpeg_with_exif(size: tuple[int, int] = (64, 48)) -> bytes:
    """A photo that carries EXIF (camera, GPS-ish comment): re-encoding must drop it."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x9286] = "home address 12 Main Street"  # UserComment
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def png(size: tuple[int, int] = (40, 30), colour: tuple[int, int, int] = (20, 120, 220)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def image(format_: str, size: tuple[int, int] = (32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 200, 10)).save(out, format=format_)
    return out.getvalue()


def pdf(pages: int = 1, javascript: str | None = None) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    if javascript:
        from pypdf.actions import JavaScript

        writer.add_open_action(JavaScript(javascript))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>"
)
HTML_AS_PNG = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def zip_bomb(uncompressed_mb: int = 200) -> bytes:
    """A small zip that inflates to ``uncompressed_mb`` MB of zeros."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("photo.jpg", "w", force_zip64=True) as member,
    ):
        chunk = bytes(1024 * 1024)
        for _ in range(uncompressed_mb):
            member.write(chunk)
    return out.getvalue()


def png_claiming_pixels(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height: a decompression bomb's calling card."""
    data = bytearray(png((1, 1)))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


def real_pixel_bomb(width: int = 8000, height: int = 6000) -> bytes:
    """A real, decodable PNG of 48 megapixels that compresses to a few kilobytes."""
    out = io.BytesIO()
    Image.new("1", (width, height), 0).save(out, format="PNG")
    return out.getvalue()
