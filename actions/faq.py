"""Answers from the FAQ knowledge base, or says honestly that it doesn't know."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import language, misunderstandings_in_a_row
from bot import composition
from bot.routing import FALLBACK_INTENT
from bot.settings import get_settings


def render_answer(answer: str, links: tuple) -> str:
    if not links:
        return answer
    return answer + "\n\n" + "\n".join(f"- [{link.title}]({link.url})" for link in links)


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        message = tracker.latest_message or {}
        text = message.get("text") or ""
        lang = language(tracker)
        decision = composition.router().decide(text, message, lang_hint=lang)
        candidates = [{"id": hit.entry_id, "score": round(hit.score, 4)} for hit in decision.faq_hits[:3]]
        events: list[EventType] = [SlotSet("faq_candidates", candidates)]
        if decision.faq_id:
            entry = composition.knowledge_base().entry(decision.faq_id)
            if entry is not None:
                answer, used = entry.answer_in(lang)
                if used != lang:
                    dispatcher.utter_message(response="utter_faq_fallback_language")
                # A custom payload keeps the markdown whole (the REST channel splits text on blank lines).
                dispatcher.utter_message(
                    json_message={
                        "text": render_answer(answer, entry.links),
                        "faq_id": entry.id,
                        "score": round(decision.faq_score or 0, 4),
                    }
                )
                return [*events, SlotSet("offered_human", False)]
        limit = get_settings().handoff.max_misunderstandings
        if decision.intent == FALLBACK_INTENT:
            if limit and misunderstandings_in_a_row(tracker) >= limit:
                return [
                    *events,
                    SlotSet("handoff_reason", "repeated_misunderstanding"),
                    FollowupAction("action_handoff"),
                ]
            dispatcher.utter_message(response="utter_rephrase")
            return events
        dispatcher.utter_message(response="utter_out_of_scope")
        return [*events, SlotSet("offered_human", True)]
