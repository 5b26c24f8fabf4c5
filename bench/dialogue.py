"""`make bench-dialogue`: scripted multi-turn conversations in four languages against the
real stack (Rasa, action server, gateway; tests/support/stack.py).

Each script is a goal (order status then a return, a return interrupted by "thanks" and a
question, a corrected order number, a handoff after verification) played by a customer
who answers whatever the bot asks. Reported per language: task success rate, and how
many times the customer had to give the same fact (order number, email, item) twice
(target 0). Facts are recognised by the bot's own questions in domain.yml.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bench.datasets import ROOT
from tests.support.stack import Stack

ORDER, EMAIL = "482913", "anna.kovacova@example.sk"
# The bot's questions, by the fact they ask for.
ASKS = {
    "order_number": ["utter_ask_order_number"],
    "email": ["utter_ask_email", "utter_handoff_offline", "utter_ask_handoff_contact_form_email"],
    "return_items": ["utter_ask_return_items"],
    "return_reason": ["utter_ask_return_reason"],
}
CONTINUE = "utter_ask_continue_form"

WORDS = {
    "en": {
        "status": "hi, where is my order 482913?",
        "return": "I want to return the kettle",
        "return_vague": "I'd like to return something",
        "thanks": "thanks",
        "question": "do you ship to Austria?",
        "yes": "yes",
        "status_vague": "where is my order?",
        "wrong_number": "593011",
        "correction": "sorry, wrong number, it is 482913",
        "human": "can I talk to a person please?",
        "item": "the kettle",
        "reason": "it leaks",
    },
    "ru": {
        "status": "здравствуйте, где мой заказ 482913?",
        "return": "хочу вернуть чайник",
        "return_vague": "хочу кое-что вернуть",
        "thanks": "спасибо",
        "question": "вы доставляете в Австрию?",
        "yes": "да",
        "status_vague": "где мой заказ?",
        "wrong_number": "593011",
        "correction": "ой, не тот номер, правильный 482913",
        "human": "можно поговорить с человеком?",
        "item": "чайник",
        "reason": "он протекает",
    },
    "sk": {
        "status": "dobrý deň, kde je moja objednávka 482913?",
        "return": "chcem vrátiť kanvicu",
        "return_vague": "chcel by som niečo vrátiť",
        "thanks": "ďakujem",
        "question": "posielate do Rakúska?",
        "yes": "áno",
        "status_vague": "kde je moja objednávka?",
        "wrong_number": "593011",
        "correction": "prepáčte, zlé číslo, je to 482913",
        "human": "môžem hovoriť s človekom?",
        "item": "kanvicu",
        "reason": "tečie",
    },
    "hu": {
        "status": "jó napot, hol van a 482913 rendelésem?",
        "return": "vissza szeretném küldeni a vízforralót",
        "return_vague": "szeretnék visszaküldeni valamit",
        "thanks": "köszönöm",
        "question": "szállítotok Ausztriába?",
        "yes": "igen",
        "status_vague": "hol van a rendelésem?",
        "wrong_number": "593011",
        "correction": "bocsánat, rossz szám, a helyes 482913",
        "human": "beszélhetek egy emberrel?",
        "item": "a vízforralót",
        "reason": "szivárog",
    },
}


def _patterns() -> dict[str, list[re.Pattern]]:
    """Every language variant of the questions, as a regex (placeholders match anything)."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    wanted = {name for names in ASKS.values() for name in names} | {CONTINUE}
    result: dict[str, list[re.Pattern]] = defaultdict(list)
    for name in wanted:
        for variant in domain["responses"][name]:
            parts = re.split(r"\{[a-z_]+\}", variant["text"].strip())
            result[name].append(re.compile(".+?".join(re.escape(p) for p in parts) + "$", re.DOTALL))
    return result


PATTERNS = _patterns()


def _parts(reply: str) -> list[str]:
    return [part.strip() for part in reply.split(" | ")]


def asked(reply: str) -> set[str]:
    """The facts the bot's messages ask for."""
    return {
        fact
        for part in _parts(reply)
        for fact, names in ASKS.items()
        for name in names
        if any(pattern.match(part) for pattern in PATTERNS[name])
    }


def asks_to_continue(reply: str) -> bool:
    return any(pattern.match(part) for part in _parts(reply) for pattern in PATTERNS[CONTINUE])


@dataclass
class Customer:
    """Says the script's lines and answers the bot's questions; counts facts given twice."""

    stack: Stack
    words: dict[str, str]
    facts: dict[str, str]
    session: str = ""
    given: set[str] = field(default_factory=set)
    repeated: int = 0
    transcript: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.session = self.stack.new_session()

    def say(self, text: str, gives: tuple[str, ...] = ()) -> str:
        self.given.update(gives)
        replies = self.stack.say(self.session, text)
        said = " | ".join(m.get("text") or "" for m in replies)
        self.transcript += [f"> {text}", f"< {said}"]
        return said

    def answer_questions(self, reply: str, rounds: int = 6) -> str:
        """Answer each fact the bot asks for until it stops asking; a known fact counts as repeated."""
        for _ in range(rounds):
            facts = asked(reply) if reply else set()
            wanted = [f for f in ("order_number", "email", "return_items", "return_reason") if f in facts]
            if not wanted:
                return reply
            fact = wanted[0]
            if fact in self.given:
                self.repeated += 1
            reply = self.say(self.facts[fact], (fact,))
        return reply


def order_then_return(c: Customer) -> bool:
    reply = c.answer_questions(c.say(c.words["status"], ("order_number",)))
    if "GLS482913SK" not in reply:
        return False
    reply = c.answer_questions(c.say(c.words["return"], ("return_items",)))
    return "RMA-" in reply


def interrupted_return(c: Customer) -> bool:
    c.say(c.words["return_vague"])
    first = c.say(c.words["thanks"])
    second = c.say(c.words["question"])
    carried_on = asks_to_continue(first) or asks_to_continue(second)
    reply = c.answer_questions(c.say(c.words["yes"]))
    return carried_on and "RMA-" in reply


def corrected_number(c: Customer) -> bool:
    c.say(c.words["status_vague"])
    c.say(c.words["wrong_number"])
    reply = c.answer_questions(c.say(c.words["correction"], ("order_number",)))
    return "GLS482913SK" in reply


def handoff_after_verification(c: Customer) -> bool:
    reply = c.answer_questions(c.say(c.words["status"], ("order_number",)))
    if "GLS482913SK" not in reply:
        return False
    reply = c.say(c.words["human"])
    c.answer_questions(reply)
    return EMAIL in reply  # the ticket carries the verified email without asking


SCRIPTS = {
    "order status then return": order_then_return,
    "return interrupted (thanks, a question), carry on": interrupted_return,
    "order number corrected": corrected_number,
    "handoff after verification": handoff_after_verification,
}


def run(stack: Stack, verbose: bool = False) -> dict[str, dict]:
    results: dict[str, dict] = defaultdict(lambda: {"n": 0, "success": 0, "repeated": 0, "failed": []})
    facts_by_lang = {lang: {"order_number": ORDER, "email": EMAIL} for lang in WORDS}
    for lang, words in WORDS.items():
        facts = {**facts_by_lang[lang], "return_items": words["item"], "return_reason": words["reason"]}
        for title, script in SCRIPTS.items():
            customer = Customer(stack, words, facts)
            ok = script(customer)
            for key in (lang, "all"):
                row = results[key]
                row["n"] += 1
                row["success"] += ok
                row["repeated"] += customer.repeated
                if not ok and key == lang:
                    row["failed"].append(title)
            if verbose and (not ok or customer.repeated):
                print(f"--- {lang} {title}: success={ok} repeated={customer.repeated}")
                print("\n".join(customer.transcript))
    return dict(results)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("-v", "--verbose", action="store_true", help="print failed transcripts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        stack = Stack(Path(tmp)).start()
        try:
            print(
                f"stack up in {time.perf_counter() - start:.0f} s; {len(SCRIPTS)} scripts x {len(WORDS)} languages"
            )
            results = run(stack, args.verbose)
        finally:
            stack.stop()
    print("lang  conversations  task-success  facts-given-twice  failed")
    for lang, row in results.items():
        print(
            f"{lang:4s}  {row['n']:13d}  {row['success'] / row['n']:12.3f}  {row['repeated']:17d}  "
            + ", ".join(row["failed"])
        )


if __name__ == "__main__":
    main()
