"""Answers from the FAQ knowledge base, or says honestly that it doesn't know."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import language, misunderstandings_in_a_row
from bot import composition
from bot.analytics import events as analytics
from bot.routing import FALLBACK_INTENT
from bot.settings import get_settings


def render_answer(answer: str, links: tuple) -> str:
    if not links:
        return answer
    return answer + "\n\n" + "\n".join(f"- [{link.title}]({link.url})" for link in links)


def record(
    tracker: Tracker, kind: str, lang: str, text: str, faq_id: str | None, score: float | None
) -> None:
    """What the bot did with this message, for the reports and the content team's gap list.

    The unanswered ones keep the message's embedding, which the FAQ search has just
    computed (a cache hit), so grouping them later needs no model.
    """
    vector, model = None, None
    if kind != analytics.FAQ_ANSWER and text:
        embedder = composition.knowledge_base().embedder
        vector, model = embedder.embed_queries([text])[0].astype("float32").tobytes(), embedder.name
    composition.analytics().record(
        kind,
        tracker.sender_id,
        language=lang,
        faq_id=faq_id,
        score=score,
        text=text,
        embedding=vector,
        embedding_model=model,
    )


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
        candidates = [{"id": hit.entry_id, "score": round(hit.score, 4)} for hit in decision.candidates[:3]]
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
                        "language": used,
                        "score": round(decision.faq_score or 0, 4),
                    }
                )
                record(tracker, analytics.FAQ_ANSWER, lang, text, entry.id, decision.faq_score)
                return [*events, SlotSet("offered_human", False)]
        nearest = decision.candidates[0] if decision.candidates else None
        nearest_id, nearest_score = (nearest.entry_id, nearest.score) if nearest else (None, None)
        limit = get_settings().handoff.max_misunderstandings
        if decision.intent == FALLBACK_INTENT:
            record(tracker, analytics.MISUNDERSTOOD, lang, text, nearest_id, nearest_score)
            if limit and misunderstandings_in_a_row(tracker) >= limit:
                return [
                    *events,
                    SlotSet("handoff_reason", "repeated_misunderstanding"),
                    FollowupAction("action_handoff"),
                ]
            dispatcher.utter_message(response="utter_rephrase")
            return events
        kind = analytics.OUT_OF_SCOPE if decision.intent == "out_of_scope" else analytics.NO_FAQ_MATCH
        record(tracker, kind, lang, text, nearest_id, nearest_score)
        dispatcher.utter_message(response="utter_out_of_scope")
        return [*events, SlotSet("offered_human", True)]
