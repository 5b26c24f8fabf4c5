"""Answers from the FAQ knowledge base, asks "Did you mean ...?" when unsure, or says honestly
that it doesn't know.

The clarify buttons follow Rasa's two-stage fallback: the candidates plus "something
else"; "something else" asks the customer to rephrase once, and a second miss offers a
person. Button payloads are stable intent strings (``/faq{"faq_id":"..."}``,
``/order_status``, ``/something_else``), so the gateway can accept exactly what was offered.
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import language, misunderstandings_in_a_row
from actions.followup import CONTEXT_SLOT, FaqContext, answered_last_turn, followup_entry
from actions.locale import clarify_label
from bot import composition
from bot.analytics import events as analytics
from bot.composition import get_settings
from bot.kb.schema import FaqEntry
from bot.problems import sounds_vague
from bot.profile.render import render
from bot.routing import CLARIFY, FALLBACK_INTENT, OUT_OF_SCOPE, VAGUE_PROBLEM, ranked_intents

# Routes that are flows, and the intent a button sends to start them.
ROUTE_PAYLOADS = {
    "order_status": "/order_status",
    "return_request": "/return_request",
    "password_reset": "/password_reset",
    "cancel_order": "/cancel_order",
    "handoff": "/request_human",
}
SOMETHING_ELSE = "/something_else"


def render_answer(answer: str, links: tuple, lang: str = "en") -> str:
    """The answer's markdown with its links, the shop's facts ({{ shop.* }}) filled in for ``lang``."""
    if links:
        answer += "\n\n" + "\n".join(f"- [{link.title}]({link.url})" for link in links)
    return render(answer, composition.shop_profile(), lang)


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


def faq_payload(entry_id: str) -> str:
    return "/faq" + json.dumps({"faq_id": entry_id}, separators=(",", ":"))


def clarify_buttons(candidates: tuple[str, ...], lang: str) -> list[dict[str, str]]:
    """One button per candidate route in the customer's language, then "something else"."""
    kb = composition.knowledge_base()
    buttons = []
    for route in candidates:
        if route.startswith("faq:"):
            entry = kb.entry(route[4:])
            if entry is None:
                continue
            texts = entry.texts.get(lang) or entry.texts["en"]
            buttons.append({"title": texts.questions[0], "payload": faq_payload(entry.id)})
        elif route in ROUTE_PAYLOADS:
            buttons.append({"title": clarify_label(route, lang), "payload": ROUTE_PAYLOADS[route]})
    buttons.append({"title": clarify_label("something_else", lang), "payload": SOMETHING_ELSE})
    return buttons


def requested_faq(tracker: Tracker) -> str | None:
    """The entry a clicked "Did you mean" button asked for (the faq_id entity)."""
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == "faq_id" and entity.get("value"):
            return str(entity["value"])
    return None


# Questions of the return form whose answer may look like anything ("kicsi", "it doesn't fit").
RETURN_ANSWERS = ("return_items", "return_reason")


def return_answer_slot(tracker: Tracker) -> str | None:
    """The slot the return form is asking for, when a free reply answers it."""
    if (tracker.active_loop or {}).get("name") != "return_form":
        return None
    slot = tracker.get_slot("requested_slot")
    return slot if slot in RETURN_ANSWERS else None


def is_vague_problem(message: dict[str, Any]) -> bool:
    return ranked_intents(message)[0][0] == VAGUE_PROBLEM or sounds_vague(message.get("text") or "")


def offer_person(dispatcher: CollectingDispatcher) -> list[EventType]:
    dispatcher.utter_message(response="utter_offer_human")
    return [SlotSet("offered_human", True), SlotSet("clarify_rephrased", False)]


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = language(tracker)
        kb = composition.knowledge_base()
        chosen = requested_faq(tracker)
        if chosen and kb.entry(chosen) is not None:
            self.answer(dispatcher, kb.entry(chosen), lang, None)
            record(tracker, analytics.FAQ_ANSWER, lang, "", chosen, None)  # a "Did you mean" button
            entry = kb.entry(chosen)
            question = (entry.texts.get(lang) or entry.texts["en"]).questions[0]
            return [
                SlotSet("offered_human", False),
                SlotSet("clarify_rephrased", False),
                SlotSet(CONTEXT_SLOT, FaqContext(chosen, question).as_slot()),
            ]
        message = tracker.latest_message or {}
        text = message.get("text") or ""
        decision = composition.router().decide(text, message, lang_hint=lang)
        candidates = [{"id": hit.entry_id, "score": round(hit.score, 4)} for hit in decision.faq_hits[:3]]
        events: list[EventType] = [SlotSet("faq_candidates", candidates)]
        rephrased = bool(tracker.get_slot("clarify_rephrased"))
        answering = return_answer_slot(tracker)
        if answering and not (decision.faq_id and decision.intent == "faq"):
            # Not a question the FAQ answers: it answers the form (which validates it).
            return [*events, SlotSet(answering, text)]
        about = followup_entry(tracker, kb, text, lang, decision)
        if about is not None:
            previous = answered_last_turn(tracker)
            context = previous.question if previous else ""
            entry = kb.entry(about)
            self.answer(dispatcher, entry, lang, None)
            record(tracker, analytics.FAQ_ANSWER, lang, text, about, decision.faq_score)
            return [
                *events,
                SlotSet("offered_human", False),
                SlotSet("clarify_rephrased", False),
                SlotSet(CONTEXT_SLOT, FaqContext(about, f"{context} {text}".strip()).as_slot()),
            ]
        if decision.faq_id:
            entry = kb.entry(decision.faq_id)
            if entry is not None:
                self.answer(dispatcher, entry, lang, decision.faq_score)
                record(tracker, analytics.FAQ_ANSWER, lang, text, entry.id, decision.faq_score)
                return [
                    *events,
                    SlotSet("offered_human", False),
                    SlotSet("clarify_rephrased", False),
                    SlotSet(CONTEXT_SLOT, FaqContext(entry.id, text).as_slot()),
                ]
        nearest = decision.faq_hits[0] if decision.faq_hits else None
        nearest_id, nearest_score = (nearest.entry_id, nearest.score) if nearest else (None, None)
        if rephrased and decision.route in (CLARIFY, OUT_OF_SCOPE):
            record(tracker, analytics.NO_FAQ_MATCH, lang, text, nearest_id, nearest_score)
            return [*events, *offer_person(dispatcher)]  # second miss after "something else"
        if decision.route == CLARIFY:
            record(tracker, analytics.CLARIFY, lang, text, nearest_id, nearest_score)
            question = "utter_clarify_problem" if is_vague_problem(message) else "utter_clarify"
            dispatcher.utter_message(response=question, buttons=clarify_buttons(decision.candidates, lang))
            return [*events, SlotSet(CONTEXT_SLOT, None)]
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

    @staticmethod
    def answer(dispatcher: CollectingDispatcher, entry: FaqEntry, lang: str, score: float | None) -> None:
        answer, used = entry.answer_in(lang)
        if used != lang:
            dispatcher.utter_message(response="utter_faq_fallback_language")
        # A custom payload keeps the markdown whole (the REST channel splits text on blank lines).
        message: dict[str, Any] = {
            "text": render_answer(answer, entry.links, used),
            "faq_id": entry.id,
            "language": used,
        }
        if score is not None:
            message["score"] = round(score, 4)
        dispatcher.utter_message(json_message=message)


class ActionClarifySomethingElse(Action):
    """ "Something else" after "Did you mean ...?": ask to rephrase once, then offer a person."""

    def name(self) -> str:
        return "action_clarify_something_else"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if tracker.get_slot("clarify_rephrased"):
            return offer_person(dispatcher)
        dispatcher.utter_message(response="utter_ask_rephrase")
        return [SlotSet("clarify_rephrased", True)]
