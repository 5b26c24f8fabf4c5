"""Writes tests/stories/context.yml: multi-turn context stories, each written once here
with its four language variants (only the customer's words differ per language).

Run `.venv/bin/python tests/stories/context.py` after editing; `make rasa-test` runs them.
"""

from __future__ import annotations

from pathlib import Path

import yaml

# The customer's words, per language. Orders and emails are the demo shop's (bot/shop/seed.py).
WORDS = {
    "en": {
        "status": "where is my order 482913?",
        "return": "I want to return the kettle",
        "reason": "it leaks",
        "thanks": "thanks",
        "question": "do you ship to Austria?",
        "yes": "yes",
        "stop": "never mind",
        "human": "can I talk to a person?",
        "unclear": "the thing with the stuff from before",
        "something_else": "something else",
        "rephrased": "how long does delivery take?",
    },
    "ru": {
        "status": "где мой заказ 482913?",
        "return": "хочу вернуть чайник",
        "reason": "он протекает",
        "thanks": "спасибо",
        "question": "вы доставляете в Австрию?",
        "yes": "да",
        "stop": "неважно, отмена",
        "human": "можно поговорить с человеком?",
        "unclear": "ну та штука с тем самым",
        "something_else": "другое",
        "rephrased": "сколько идёт доставка?",
    },
    "sk": {
        "status": "kde je moja objednávka 482913?",
        "return": "chcem vrátiť kanvicu",
        "reason": "tečie",
        "thanks": "ďakujem",
        "question": "posielate do Rakúska?",
        "yes": "áno",
        "stop": "nechajte tak",
        "human": "môžem hovoriť s človekom?",
        "unclear": "tá vec s tým predtým",
        "something_else": "niečo iné",
        "rephrased": "ako dlho trvá doručenie?",
    },
    "hu": {
        "status": "hol van a 482913 rendelésem?",
        "return": "vissza szeretném küldeni a vízforralót",
        "reason": "szivárog",
        "thanks": "köszönöm",
        "question": "szállítotok Ausztriába?",
        "yes": "igen",
        "stop": "hagyjuk",
        "human": "beszélhetek egy emberrel?",
        "unclear": "az a dolog azzal a korábbival",
        "something_else": "valami mást",
        "rephrased": "mennyi ideig tart a szállítás?",
    },
}
ORDER, EMAIL = "482913", "anna.kovacova@example.sk"


def user(text: str, intent: str) -> dict:
    return {"user": text, "intent": intent}


def slots(**values: object) -> dict:
    return {"slot_was_set": [{k: v} for k, v in values.items()]}


def verified_status(w: dict) -> list[dict]:
    """Order status with the number in the first message, then the email: verified."""
    return [
        user(w["status"].replace(ORDER, f"[{ORDER}](order_number)"), "order_status"),
        slots(order_number=ORDER),
        {"action": "order_status_form"},
        {"active_loop": "order_status_form"},
        slots(order_number=ORDER),
        slots(requested_slot="email"),
        user(f"[{EMAIL}](email)", "inform"),
        slots(email=EMAIL),
        {"action": "order_status_form"},
        {"slot_was_set": [{"email": EMAIL}, {"verified_order": ORDER}, {"verified_email": EMAIL}]},
        slots(requested_slot=None),
        {"active_loop": None},
        {"action": "action_order_status"},
    ]


def status_then_return(w: dict) -> list[dict]:
    # The return reuses the verified order and email and the item named in the message:
    # the form's validation fills them (actions/carry_over.py) and only asks for the reason.
    return [
        *verified_status(w),
        user(w["return"], "return_request"),
        {"action": "return_form"},
        {"active_loop": "return_form"},
        {"slot_was_set": [{"order_number": ORDER}, {"email": EMAIL}, {"return_items": "KT-220"}]},
        slots(requested_slot="return_reason"),
        user(w["reason"], "inform"),
        slots(return_reason=w["reason"]),
        {"action": "return_form"},
        slots(return_reason=w["reason"]),
        slots(requested_slot=None),
        {"active_loop": None},
        {"action": "action_submit_return"},
    ]


def status_then_handoff(w: dict) -> list[dict]:
    return [
        *verified_status(w),
        user(w["human"], "request_human"),
        {"action": "action_handoff"},
        {"active_loop": None},
    ]


def return_interrupted(w: dict) -> list[dict]:
    # "thanks" and a question in the middle: answered, then the form asks whether to go on
    # (the ask action decides the wording); "yes" resumes, "stop" leaves.
    return [
        user(w["return"], "return_request"),
        {"action": "return_form"},
        {"active_loop": "return_form"},
        slots(requested_slot="order_number"),
        user(w["thanks"], "thanks"),
        {"action": "action_in_form_small_talk"},
        {"action": "return_form"},
        {"active_loop": "return_form"},
        slots(requested_slot="order_number"),
        user(w["question"], "faq"),
        {"action": "action_answer_faq"},
        {"action": "return_form"},
        {"active_loop": "return_form"},
        slots(requested_slot="order_number"),
        user(w["yes"], "affirm"),
        {"action": "return_form"},
        slots(form_resumed=True),
        slots(requested_slot="order_number"),
        user(w["stop"], "stop"),
        {"action": "action_stop_flow"},
        {"active_loop": None},
    ]


def clarify_then_rephrase(w: dict) -> list[dict]:
    # "Did you mean ...?" (action_answer_faq), "something else", a rephrased question.
    return [
        user(w["unclear"], "nlu_fallback"),
        {"action": "action_answer_faq"},
        user(w["something_else"], "something_else"),
        {"action": "action_clarify_something_else"},
        slots(clarify_rephrased=True),
        user(w["rephrased"], "faq"),
        {"action": "action_answer_faq"},
    ]


def clarify_button_starts_a_flow(w: dict) -> list[dict]:
    return [
        user(w["unclear"], "nlu_fallback"),
        {"action": "action_answer_faq"},
        user("/return_request", "return_request"),
        {"action": "return_form"},
        {"active_loop": "return_form"},
    ]


STORIES = {
    "after an order status check, a return asks only for the reason": status_then_return,
    "after an order status check, a handoff": status_then_handoff,
    "return interrupted by thanks and a question, carry on, then stop": return_interrupted,
    "clarify, something else, rephrased": clarify_then_rephrase,
    "clarify, a button starts the return": clarify_button_starts_a_flow,
}


def main() -> None:
    stories = [
        {"story": f"{title} ({lang})", "steps": build(WORDS[lang])}
        for title, build in STORIES.items()
        for lang in WORDS
    ]
    header = "# Generated by tests/stories/context.py: edit that script, not this file.\n"
    body = yaml.safe_dump(
        {"version": "3.1", "stories": stories}, sort_keys=False, allow_unicode=True, width=120
    )
    (Path(__file__).parent / "context.yml").write_text(header + body, encoding="utf-8")


if __name__ == "__main__":
    main()
