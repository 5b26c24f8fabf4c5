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


def test_apply_all_replaces_the_method_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    monkeypatch.setattr(fixes, "_FIXES_APPLIED", False)
    fixes.apply_all()
    assert RemoteAction._validate_action_result is fixes.validate_action_result
