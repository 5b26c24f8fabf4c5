"""bot.rasa_server.fixes: Rasa's action-response check, made once, judges like Rasa's own."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.rasa_server import fixes

VALID = [
    {"events": [{"event": "slot", "name": "language", "value": "sk"}], "responses": [{"text": "Dobrý deň"}]},
    {"events": [], "responses": []},
    {},
]
INVALID = [
    {"events": [{"name": "language"}]},  # an event without its type
    {"events": "slot"},
    {"responses": [{"text": "hi"}], "events": [{"event": 3}]},
]


def verdict(check: Any, result: dict) -> str:
    try:
        check(RemoteAction("action_answer_faq", None), result)
    except ValidationError as exc:
        return "invalid: " + exc.message
    return "valid"


@pytest.mark.parametrize("result", VALID + INVALID)
def test_same_verdict_and_message_as_rasa(result: dict) -> None:
    original = RemoteAction._validate_action_result
    assert verdict(fixes.validate_action_result, result) == verdict(original, result)


@pytest.mark.parametrize("result", INVALID)
def test_invalid_responses_are_still_refused(result: dict) -> None:
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        fixes.validate_action_result(RemoteAction("action_answer_faq", None), result)


def test_apply_all_installs_each_fix_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.shared.core.events import Event

    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    monkeypatch.setattr(Event, "resolve_by_type", Event.__dict__["resolve_by_type"])
    fixes.apply_all()
    fixes.apply_all()
    assert RemoteAction._validate_action_result is fixes.validate_action_result
    assert Event.resolve_by_type is fixes.resolve_event_type
    assert fixes._ORIGINAL["resolve_by_type"] is not fixes.resolve_event_type
    assert Event.resolve_by_type("user").type_name == "user"


def test_event_classes_are_found_by_name_as_rasa_finds_them() -> None:
    from rasa.shared.core.events import Event, UserUttered
    from rasa.shared.utils.common import all_subclasses

    fixes.apply_all()
    original = fixes._ORIGINAL["resolve_by_type"]
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert "user" in names and "slot" in names
    for name in sorted(names):
        assert fixes.resolve_event_type(name) is original(name)
        assert Event.resolve_by_type(name) is original(name)  # and twice, from what it remembered
    assert Event.resolve_by_type("no such event", default=UserUttered) is UserUttered
    assert Event.resolve_by_type("topic") is None
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no such event")
    # A round trip through the tracker store's format still gives the same events.
    events = [UserUttered("hello", {"name": "greet", "confidence": 0.9})]
    assert [Event.from_parameters(e.as_dict()) for e in events] == events
