"""The shop profile: validation with line numbers, the one renderer, policies, the facts check."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.kb.facts import check_facts
from bot.kb.service import validate
from bot.profile.model import ProfileError, load_profile, parse_profile
from bot.profile.render import render, render_tree
from bot.settings import DEMO_PROFILE, load_settings
from bot.shop.policy import Eligibility, ItemView, ReturnPolicy, order_eligibility, returnable
from tests.support.aio import run_async
from tests.support.shops import COFFEE_SHOP, write_coffee_shop

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def coffee(tmp_path_factory: pytest.TempPathFactory):
    return load_profile(write_coffee_shop(tmp_path_factory.mktemp("coffee")) / "shop.yml")


def test_the_demo_profile_is_valid_and_holds_the_demo_facts() -> None:
    demo = load_profile(DEMO_PROFILE)
    assert demo.name == "VoltMart"
    assert demo.policies.refund_days == 14 and demo.policies.return_window_days == 30
    assert demo.languages == ("en", "ru", "sk", "hu")


def test_errors_name_the_file_and_line_of_each_problem(tmp_path: Path) -> None:
    raw = yaml.safe_load(DEMO_PROFILE.read_text(encoding="utf-8"))
    raw["colours"]["primary"] = "blue"
    raw["policies"]["refund_days"] = 0
    raw["languages"] = ["en", "de"]
    raw["allowed_origins"] = ["https://shop.example/path"]
    raw["colour_scheme"] = "x"
    text = yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)
    with pytest.raises(ProfileError) as caught:
        parse_profile(text, tmp_path / "shop.yml")
    lines = text.splitlines()
    problems = caught.value.problems
    assert len(problems) == 5, problems

    def line_of(prefix: str) -> int:
        return next(i for i, line in enumerate(lines, 1) if line.strip().startswith(prefix))

    joined = "\n".join(problems)
    assert f"shop.yml:{line_of('primary:')}: colours.primary: 'blue' is not a colour" in joined
    assert f"shop.yml:{line_of('refund_days:')}: policies.refund_days:" in joined
    assert f"shop.yml:{line_of('languages:')}: languages:" in joined
    assert "is not an origin like https://www.shop.example" in joined
    assert f"shop.yml:{line_of('colour_scheme:')}: colour_scheme: unknown field" in joined


def test_broken_yaml_and_a_missing_greeting_are_refused_with_a_line(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"shop.yml:2: not valid YAML"):
        parse_profile("name: x\n  bad: [", tmp_path / "shop.yml")
    raw = yaml.safe_load(DEMO_PROFILE.read_text(encoding="utf-8"))
    del raw["greeting"]["hu"]
    with pytest.raises(ProfileError, match="greeting: no text for 'hu'"):
        parse_profile(yaml.safe_dump(raw, allow_unicode=True), tmp_path / "shop.yml")


def test_placeholders_are_written_the_way_each_language_writes_them(coffee) -> None:
    text = "{{ shop.name }}: refund in {{ shop.refund_days }} days, free over {{ shop.free_shipping_over }}"
    assert render(text, coffee, "sk") == "Kávička: refund in 7 days, free over 40\xa0€"
    assert render("{{shop.shipping_standard}}", coffee, "hu") == "2,90\xa0EUR"
    assert render("{{ shop.chat_hours }}", coffee, "sk").startswith("po–pi 7:00–18:00, so 8:00–12:00")
    assert render("{{ shop.chat_hours }}", coffee, "hu").startswith("h–p 7:00–18:00, szo 8:00–12:00")
    assert render("{{ shop.nope }} stays", coffee, "sk") == "{{ shop.nope }} stays"
    assert render_tree([{"title": "{{ shop.name }}", "payload": "/x"}], coffee, "sk") == [
        {"title": "Kávička", "payload": "/x"}
    ]


def test_dates_follow_the_profiles_format_per_language(coffee) -> None:
    assert coffee.date(date(2026, 3, 5), "sk") == "5. 3. 2026"
    assert coffee.date(date(2026, 3, 5), "hu") == "2026. 03. 05."


def test_return_policy_comes_from_the_profile(coffee) -> None:
    policy = ReturnPolicy.of(coffee)
    assert policy.window_days == COFFEE_SHOP["policies"]["return_window_days"] == 14
    today = date(2026, 3, 20)
    assert order_eligibility("delivered", date(2026, 3, 6), today, policy) is Eligibility.ELIGIBLE
    assert order_eligibility("delivered", date(2026, 3, 5), today, policy) is Eligibility.WINDOW_CLOSED
    demo = ReturnPolicy.of(load_profile(DEMO_PROFILE))
    assert order_eligibility("delivered", date(2026, 3, 5), today, demo) is Eligibility.ELIGIBLE
    beans = ItemView("B1", "Beans", "coffee", 1)
    grinder = ItemView("G1", "Opened grinder", "opened_food", 1)
    assert returnable([beans, grinder], policy) == ([beans], [grinder])


def test_settings_read_the_profile_from_the_shop_folder(tmp_path: Path) -> None:
    shop = write_coffee_shop(tmp_path / "kavicka")
    settings = load_settings(env={"SHOP_DIR": str(shop)})
    assert settings.shop.name == "Kávička"
    assert settings.kb_path == shop / "knowledge_base"
    assert settings.handoff.timezone == "Europe/Budapest"
    assert settings.handoff.hours["sat"] == ["08:00", "12:00"]
    assert "https://kavicka.example" in settings.allowed_origins
    both = load_settings(env={"SHOP_DIR": str(shop), "ALLOWED_ORIGINS": "https://extra.example/"})
    assert {"https://kavicka.example", "https://extra.example"} <= both.allowed_origins
    assert load_settings(env={"SHOP_PROFILE": str(DEMO_PROFILE)}).shop.name == "VoltMart"


def test_kb_check_reports_policy_facts_typed_by_hand(tmp_path: Path, coffee) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    answers = {
        "refund": ("Peniaze vrátime do 7 dní od prijatia balíka.", "A pénzt 7 napon belül visszatérítjük."),
        "window": ("Tovar môžete vrátiť do **14 dní**.", "A termékeket {{ shop.return_window_days }} napon belül visszaküldheti."),
        "contact": ("Napíšte na ahoj@kavicka.example.", "Írjon nekünk: {{ shop.contact_email }}."),
        "repair": ("Opravu vybavíme do 7 dní.", "A javítás 14 nap."),  # not a policy sentence
        "unknown": ("{{ shop.opening_hours }}", "{{ shop.chat_hours }}"),
    }
    entries = [
        {"id": key, "sk": {"questions": [f"otázka {key} jedna", f"otázka {key} dva"], "answer": sk},
         "hu": {"questions": [f"kérdés {key} egy", f"kérdés {key} kettő"], "answer": hu}}
        for key, (sk, hu) in answers.items()
    ]
    # No topic word in the sentence: the entry's questions say what "7 days" is about.
    entries.append(
        {"id": "status", "sk": {"questions": ["kde sú moje peniaze za vrátenie", "peniaze stále neprišli"],
                                "answer": "Lehota 7 dní sa počíta od doručenia balíka k nám."}}
    )
    entries.append(  # one question of three mentions money back: the 7 days are another policy
        {"id": "pricedrop", "sk": {"questions": ["zlacnelo to po nákupe", "cenová ochrana", "vrátite peniaze za rozdiel?"],
                                   "answer": "Ak cena klesne do 7 dní od nákupu, rozdiel dostanete ako kredit."}}
    )
    (kb / "faq.yml").write_text(yaml.safe_dump({"entries": entries}, allow_unicode=True), encoding="utf-8")
    result = validate(kb, coffee.languages)
    assert not result.errors, result.errors
    issues = check_facts(result.entries, coffee)
    found = {(i.message.split("'")[1], i.message.split("(")[1][:2], i.severity) for i in issues}
    assert found == {
        ("refund", "sk", "warning"),
        ("refund", "hu", "warning"),
        ("status", "sk", "warning"),
        ("window", "sk", "warning"),
        ("contact", "sk", "warning"),
        ("unknown", "sk", "error"),
    }
    lines = (kb / "faq.yml").read_text(encoding="utf-8").splitlines()
    for issue in issues:  # the line of the answer that says it
        needle = "opening_hours" if issue.severity == "error" else issue.message.split("('")[1].split("'")[0]
        assert needle.split()[0].strip("*") in lines[issue.line - 1], (issue, lines[issue.line - 1])
        assert "answer" in lines[issue.line - 1] or "{{" in lines[issue.line - 1]
    assert any("write {{ shop.refund_days }}" in i.message for i in issues)


def test_the_shipped_faq_states_no_policy_by_hand() -> None:
    settings = load_settings(env={})
    result = validate(settings.kb_path, settings.shop.languages)
    assert check_facts(result.entries, settings.shop) == []


def test_rasa_responses_fill_shop_facts_before_slots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.rasa_server.responses import ShopResponses

    shop = write_coffee_shop(tmp_path / "kavicka")
    monkeypatch.setenv("SHOP_DIR", str(shop))
    domain = Domain.from_yaml(
        """
version: "3.1"
slots:
  language: {type: categorical, values: [en, sk, hu], influence_conversation: false, mappings: [{type: custom}]}
  rma: {type: text, influence_conversation: false, mappings: [{type: custom}]}
responses:
  utter_return_created:
    - text: "RMA {rma}: refund within {{ shop.refund_days }} days from {{ shop.name }}."
    - condition: [{type: slot, name: language, value: sk}]
      text: "RMA {rma}: peniaze do {{ shop.refund_days }} dní, doprava zadarmo nad {{ shop.free_shipping_over }}."
"""
    )
    generator = ShopResponses(None, domain)
    tracker = DialogueStateTracker.from_events("s", [SlotSet("rma", "RMA-1"), SlotSet("language", "sk")], domain.slots)
    reply = run_async(generator.generate("utter_return_created", tracker, "rest"))
    assert reply["text"] == "RMA RMA-1: peniaze do 7 dní, doprava zadarmo nad 40\xa0€."


def test_no_voltmart_in_the_code() -> None:
    """Issue 18: the product's code names no shop; VoltMart lives in its demo profile and content."""
    found = []
    for folder in ("bot", "actions"):
        for path in (ROOT / folder).rglob("*"):
            text_file = path.is_file() and path.suffix in {".py", ".js", ".css", ".html", ".yml", ".txt", ".md"}
            if text_file and "voltmart" in path.read_text(encoding="utf-8", errors="replace").lower():
                found.append(str(path.relative_to(ROOT)))
    assert found == []
