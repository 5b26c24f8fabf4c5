"""``python -m bot kb diff``: which questions change their answer between the committed FAQ and an edit."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from bot.kb.editor import add_phrasings
from tests.support.stack import ROOT, VENV_BIN


def test_diff_lists_the_questions_a_change_would_steal(tmp_path: Path) -> None:
    edited = tmp_path / "kb"
    shutil.copytree(ROOT / "knowledge_base", edited)
    add_phrasings(
        edited,
        "warranty",
        "en",
        ["Is shipping free please?", "is shipping free of charge?", "Is the shipping free?"],
    )
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "BOT_VAR_DIR": str(tmp_path / "var"),
    }
    result = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "bot", "kb", "diff", "--path", str(edited)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "'Is shipping free?': shipping_options -> warranty" in result.stdout
    assert "change their answer (HEAD ->" in result.stdout
    unchanged = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "bot", "kb", "diff"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert unchanged.stdout.strip().splitlines()[-1].startswith("0 of ")
