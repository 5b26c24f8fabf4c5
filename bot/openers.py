"""Greetings and courtesies around a request: "hi there, ...", "dobrý deň, ...", "..., thanks".

They say nothing about which FAQ entry answers, yet they move a sentence embedding:
"dobrý deň, platba kartou mi neprešla" came out nearer to refund_status than to
payment_failed, while the same words without "dobrý deň" did not. The FAQ search reads
the request without them. A message that is little more than a greeting is left whole.
"""

from __future__ import annotations

import re

# Leading greetings in en/ru/sk/hu, with and without diacritics.
_GREETINGS = (
    r"hi|hello|hey|hiya|howdy|greetings|good\s+(?:morning|afternoon|evening|day)|dear\s+(?:sir|madam|support)",
    r"здравствуйте|здравствуй|привет(?:ствую)?|добрый\s+(?:день|вечер)|доброе\s+утро|доброго\s+времени\s+суток|алло",
    r"dobr[ýy]\s+(?:de[ňn]|ve[čc]er)|dobr[ée]\s+r[áa]no|ahoj|zdrav[íi]m|[čc]au",
    r"j[óo]\s+(?:napot|est[ée]t|reggelt)(?:\s+k[íi]v[áa]nok)?|szia(?:sztok)?|hell[óo]|[üu]dv[öo]zl[öo]m|csókolom|csokolom",
)
_ADDRESSEE = r"(?:\s+(?:there|team|all|support|everyone))?"
_OPENER = re.compile(
    rf"^\s*(?:(?:{'|'.join(_GREETINGS)}){_ADDRESSEE}[\s,.!:;\-–—]+)+",
    re.IGNORECASE,
)
# Trailing thanks and please.
_CLOSER = re.compile(
    r"[\s,.!;\-–—]+(?:thanks(?:\s+in\s+advance)?|thank\s+you|thx|please|pls|"
    r"(?:заранее\s+)?спасибо|пожалуйста|"
    r"(?:vopred\s+)?[ďd]akujem|v[ďd]aka|pros[íi]m|"
    r"(?:el[őo]re\s+is\s+)?k[öo]sz[öo]n[öo]m|k[öo]szi|k[ée]rem|k[ée]rlek)[\s.!]*$",
    re.IGNORECASE,
)
MIN_WORDS_LEFT = 2


def request_of(text: str) -> str:
    """The message without a leading greeting and trailing thanks, if a request is left."""
    core = _CLOSER.sub("", _OPENER.sub("", text, count=1), count=1).strip()
    return core if len(core.split()) >= MIN_WORDS_LEFT else text.strip()
