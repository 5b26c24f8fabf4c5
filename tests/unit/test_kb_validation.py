"""FAQ validation reports every problem as file:line and never raises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.kb.loader import load_directory
from bot.kb.service import validate
from tests.support.stack import ROOT

GOOD = """\
entries:
  - id: delivery_time
    tags: [shipping]
    en:
      questions:
        - How long does delivery take?
        - When will my parcel arrive?
      answer: Two to four business days.
    ru:
      questions:
        - Сколько идёт доставка?
      answer: От двух до четырёх рабочих дней.
    sk:
      questions:
        - Ako dlho trvá doručenie?
      answer: Dva až štyri pracovné dni.
    hu:
      questions:
        - Mennyi ideig tart a szállítás?
      answer: Két-négy munkanap.
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_loads_all_languages(tmp_path: Path) -> None:
    write(tmp_path, "shipping.yml", GOOD)
    result = validate(tmp_path)
    assert result.issues == []
    [entry] = result.entries
    assert entry.id == "delivery_time"
    assert set(entry.texts) == {"en", "ru", "sk", "hu"}
    assert entry.line == 2


def test_bad_yaml_reports_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yml", GOOD.replace("    tags: [shipping]", "    tags: [shipping"))
    result = load_directory(tmp_path)
    assert result.entries == []
    [issue] = result.errors
    assert issue.file == str(path)
    assert issue.line == 3  # the line of the mistake, not where the parser noticed it
    assert "list in [brackets]" in issue.message and "not closed" in issue.message
    assert str(issue).startswith(f"{path}:{issue.line}: error:")


def test_missing_answer_points_at_the_language_block(tmp_path: Path) -> None:
    text = GOOD.replace("      answer: Dva až štyri pracovné dni.\n", "")
    path = write(tmp_path, "shipping.yml", text)
    result = load_directory(tmp_path)
    messages = [str(i) for i in result.errors]
    assert messages == [f"{path}:13: error: entry 'delivery_time': 'sk.answer' is missing or empty"]
    assert result.entries == []  # a file with errors contributes nothing


def test_missing_language_is_a_warning_and_falls_back_to_english(tmp_path: Path) -> None:
    start = GOOD.index("    hu:")
    write(tmp_path, "shipping.yml", GOOD[:start])
    result = load_directory(tmp_path)
    assert not result.errors
    assert any("missing language 'hu'" in str(w) for w in result.warnings)
    [entry] = result.entries
    assert entry.answer_in("hu") == ("Two to four business days.", "en")
    assert entry.answer_in("ru")[1] == "ru"


def test_duplicate_id_names_both_places(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", GOOD)
    second = write(tmp_path, "b.yml", GOOD.replace("How long", "How many days"))
    result = load_directory(tmp_path)
    [issue] = [i for i in result.errors if "duplicate id" in i.message]
    assert issue.file == str(second) and issue.line == 2
    assert f"{tmp_path / 'a.yml'}:2" in issue.message


def test_missing_id_and_wrong_types(tmp_path: Path) -> None:
    text = GOOD.replace("  - id: delivery_time", "  - id: Delivery Time").replace(
        "    tags: [shipping]", "    tags: shipping"
    )
    path = write(tmp_path, "x.yml", text)
    messages = [str(i) for i in load_directory(tmp_path).errors]
    assert f"{path}:2: error: missing or invalid 'id' 'Delivery Time': use lowercase snake_case" in messages
    assert any(m.startswith(f"{path}:3:") and "'tags'" in m for m in messages)


def test_near_duplicate_questions_across_entries_are_reported(tmp_path: Path) -> None:
    other = GOOD.replace("delivery_time", "shipping_speed").replace(
        "How long does delivery take?", "How long does the delivery take?"
    )
    write(tmp_path, "a.yml", GOOD)
    path = write(tmp_path, "b.yml", other)
    result = validate(tmp_path)
    near = [i for i in result.issues if "repeats" in i.message]
    assert near, result.issues
    assert any(i.file == str(path) and i.line == 6 and "nearly repeats" in i.message for i in near)
    # Exact repeats (after normalising case and punctuation) are errors.
    assert any(i.severity == "error" and "'When will my parcel arrive?'" in i.message for i in near)


def test_top_level_must_be_entries(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yml", "- just a list\n")
    [issue] = load_directory(tmp_path).errors
    assert (issue.file, issue.line) == (str(path), 1)


def test_shipped_knowledge_base_is_clean() -> None:
    result = validate(ROOT / "knowledge_base")
    assert [str(i) for i in result.issues] == []
    assert len(result.entries) >= 40
    required = (ROOT.parent / "shared" / "ROUTES.md").read_text() if (ROOT.parent / "shared").exists() else ""
    for entry_id in ("shipping_options", "return_policy", "out_of_stock", "gift_cards"):
        assert entry_id in {e.id for e in result.entries}
        assert not required or entry_id in required


def test_kb_check_cli_exit_codes(tmp_path: Path) -> None:
    write(tmp_path, "shipping.yml", GOOD)
    ok = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "check", "--path", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    bad = write(tmp_path, "bad.yml", "entries:\n  - id: x1\n    en: {questions: [], answer: ''}\n")
    failed = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "check", "--path", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 1
    assert f"{bad}:3: error:" in failed.stderr
