"""``python -m bot init DIR``: a new shop's folder from flags, checked, refused when it would be wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.cli.init import embed_snippet
from bot.profile.model import load_profile

ROOT = Path(__file__).resolve().parents[2]
FLAGS = ["--name", "Čajovňa Lipa", "--languages", "sk,hu", "--email", "caj@lipa.example", "--return-days", "21",
         "--website", "https://lipa.example", "--colour", "#2e7d32"]


def bot(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", **(env or {})},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )


def test_init_writes_a_valid_profile_and_an_faq_in_the_shops_languages(tmp_path: Path) -> None:
    shop = tmp_path / "lipa"
    result = bot("init", str(shop), *FLAGS, "--no-train")
    assert result.returncode == 0, result.stderr
    profile = load_profile(shop / "shop.yml")
    assert profile.name == "Čajovňa Lipa"
    assert profile.languages == ("sk", "hu")
    assert profile.policies.return_window_days == 21
    assert profile.allowed_origins == {"https://lipa.example"}
    faq = yaml.safe_load((shop / "knowledge_base" / "faq.yml").read_text(encoding="utf-8"))
    assert {lang for entry in faq["entries"] for lang in entry if lang in {"en", "ru", "sk", "hu"}} == {"sk", "hu"}
    # The skeleton states no fact by hand, so the strict check passes on the new shop as it is.
    check = bot("kb", "check", "--strict", env={"SHOP_DIR": str(shop)})
    assert check.returncode == 0, check.stdout + check.stderr
    assert "0 errors, 0 warnings" in check.stdout
    assert "make run SHOP=" in result.stdout


def test_init_refuses_to_overwrite_or_to_guess(tmp_path: Path) -> None:
    shop = tmp_path / "lipa"
    assert bot("init", str(shop), *FLAGS, "--no-train").returncode == 0
    before = (shop / "shop.yml").read_text(encoding="utf-8")
    again = bot("init", str(shop), *FLAGS, "--no-train")
    assert again.returncode == 2 and "--force" in again.stderr
    assert (shop / "shop.yml").read_text(encoding="utf-8") == before
    missing = bot("init", str(tmp_path / "other"), "--name", "X", "--no-train")
    assert missing.returncode == 2 and "--languages" in missing.stderr and "--email" in missing.stderr
    bad = bot("init", str(tmp_path / "bad"), *FLAGS[:-1], "not-a-colour", "--no-train")
    assert bad.returncode == 2 and "colours.primary" in bad.stderr
    assert not (tmp_path / "bad" / "shop.yml").exists()


@pytest.mark.skipif(not (ROOT / "models" / "current.tar.gz").exists(), reason="needs `make train` first")
def test_init_gives_the_shop_a_model_and_an_faq_index(tmp_path: Path) -> None:
    """The dialogue model is the repository's (same data for every shop): copied, not retrained."""
    shop = tmp_path / "lipa"
    result = bot("init", str(shop), *FLAGS)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    model = shop / "models" / "current.tar.gz"
    assert model.exists() and model.resolve().stat().st_size > 1_000_000
    assert model.resolve().name == (ROOT / "models" / "current.tar.gz").resolve().name
    assert any((shop / ".cache" / "kb").iterdir()), "no FAQ index was built"


def test_embed_prints_the_tag_and_the_allowed_origins(tmp_path: Path) -> None:
    shop = tmp_path / "lipa"
    assert bot("init", str(shop), *FLAGS, "--no-train").returncode == 0
    result = bot("embed", "--gateway", "https://support.lipa.example/", env={"SHOP_DIR": str(shop)})
    assert embed_snippet("https://support.lipa.example/") in result.stdout
    assert '<script src="https://support.lipa.example/static/widget/chat-widget.js" defer></script>' in result.stdout
    assert "https://lipa.example" in result.stdout
