"""The app secret (session cookies, keyed hashes): from SECRET_KEY or a local file."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def app_secret(path: Path, configured: str = "") -> bytes:
    """The configured SECRET_KEY when set; otherwise a random key created once and kept (mode 0600)."""
    if configured:
        return configured.encode()
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key
