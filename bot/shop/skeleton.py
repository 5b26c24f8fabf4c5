"""A new shop's starting files: its profile (shop.yml) and an FAQ skeleton in its languages.

The FAQ skeleton states no fact by hand: every policy, price and contact is a ``{{ shop.* }}``
placeholder, so a new shop's answers are right the moment its profile is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.profile.model import DEFAULT_LOCALES, parse_profile

GREETINGS = {
    "en": "Hi! I'm the {{ shop.name }} assistant. I can check an order, start a return or answer your questions. How can I help?",
    "ru": "Здравствуйте! Я ассистент {{ shop.name }}. Могу проверить заказ, оформить возврат или ответить на ваши вопросы. Чем помочь?",
    "sk": "Dobrý deň! Som asistent obchodu {{ shop.name }}. Skontrolujem objednávku, začnem vrátenie tovaru alebo odpoviem na vaše otázky. Ako vám môžem pomôcť?",
    "hu": "Üdvözlöm! A(z) {{ shop.name }} asszisztense vagyok. Megnézem a rendelését, elindítom a visszaküldést, vagy válaszolok a kérdéseire. Miben segíthetek?",
}
DATE_FORMATS = {"en": "d MMM yyyy", "ru": "dd.MM.yyyy", "sk": "d. M. yyyy", "hu": "yyyy. MM. dd."}


@dataclass
class NewShop:
    """The answers to ``python -m bot init``'s questions."""

    name: str
    languages: list[str]
    contact_email: str
    phone: str = ""
    website: str = ""
    currency: str = "EUR"
    timezone: str = "Europe/Bratislava"
    return_window_days: int = 14
    refund_days: int = 14
    warranty_months: int = 24
    shipping_standard: float = 3.90
    free_shipping_over: float | None = 50.0
    primary_colour: str = "#1f6feb"
    chat_hours: dict[str, list[str]] = field(
        default_factory=lambda: {day: ["09:00", "17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    )
    origins: list[str] = field(default_factory=list)

    def profile(self) -> dict[str, Any]:
        shipping: dict[str, Any] = {"standard": self.shipping_standard}
        if self.free_shipping_over is not None:
            shipping["free_over"] = self.free_shipping_over
        return {
            "name": self.name,
            "legal_name": self.name,
            "website": self.website,
            "logo": "",
            "colours": {"primary": self.primary_colour, "on_primary": "#ffffff", "accent": "#ffb000"},
            "greeting": {lang: GREETINGS[lang].replace("{{ shop.name }}", self.name) for lang in self.languages},
            "contact": {"email": self.contact_email, "phone": self.phone, "reply_hours": 24},
            "chat_hours": self.chat_hours,
            "timezone": self.timezone,
            "currency": self.currency,
            "languages": self.languages,
            "formats": {lang: {"locale": DEFAULT_LOCALES[lang], "date": DATE_FORMATS[lang]} for lang in self.languages},
            "allowed_origins": self.origins or ([self.website.rstrip("/")] if self.website else []),
            "policies": {
                "return_window_days": self.return_window_days,
                "return_excluded_categories": [],
                "refund_days": self.refund_days,
                "warranty_months": self.warranty_months,
                "shipping": shipping,
            },
        }


# The FAQ skeleton: a few entries every shop needs, answers written with placeholders only.
FAQ: list[dict[str, Any]] = [
    {
        "id": "return_policy",
        "tags": ["returns", "policy"],
        "en": (
            ["What is your return policy?", "How many days do I have to return something?", "return policy"],
            "You can return products within **{{ shop.return_window_days }} days of delivery**. "
            "Write here in the chat to start a return.",
        ),
        "ru": (
            ["Какие у вас условия возврата?", "Сколько дней есть на возврат товара?", "политика возврата"],
            "Товар можно вернуть в течение **{{ shop.return_window_days }} дней с момента доставки**. "
            "Напишите здесь в чате, чтобы оформить возврат.",
        ),
        "sk": (
            ["Aké sú podmienky vrátenia tovaru?", "Koľko dní mám na vrátenie tovaru?", "vrátenie tovaru podmienky"],
            "Tovar môžete vrátiť do **{{ shop.return_window_days }} dní od doručenia**. "
            "Vrátenie začnete napísaním sem do chatu.",
        ),
        "hu": (
            ["Milyen feltételekkel küldhetek vissza terméket?", "Hány napom van visszaküldeni egy terméket?",
             "visszaküldési feltételek"],
            "A termékeket a **kézbesítéstől számított {{ shop.return_window_days }} napon belül** küldheti vissza. "
            "A visszaküldést itt a chatben indíthatja.",
        ),
    },
    {
        "id": "refund_policy",
        "tags": ["returns", "refund"],
        "en": (
            ["When do I get my money back?", "How long does a refund take?", "refund time"],
            "We refund you within **{{ shop.refund_days }} days** after we receive the returned parcel, "
            "to your original payment method.",
        ),
        "ru": (
            ["Когда мне вернут деньги?", "Сколько длится возврат денег?", "срок возврата денег"],
            "Деньги мы возвращаем в течение **{{ shop.refund_days }} дней** после получения посылки, "
            "тем же способом оплаты.",
        ),
        "sk": (
            ["Kedy mi vrátite peniaze?", "Ako dlho trvá vrátenie peňazí?", "vrátenie peňazí lehota"],
            "Peniaze vám vrátime do **{{ shop.refund_days }} dní** od prijatia vráteného balíka, "
            "rovnakým spôsobom, akým ste platili.",
        ),
        "hu": (
            ["Mikor kapom vissza a pénzem?", "Mennyi idő alatt térítik vissza az árat?", "visszatérítés ideje"],
            "A pénzt a visszaküldött csomag beérkezésétől számított **{{ shop.refund_days }} napon belül** "
            "visszatérítjük, ugyanarra a fizetési módra.",
        ),
    },
    {
        "id": "shipping_options",
        "tags": ["delivery", "price"],
        "en": (
            ["How much is shipping?", "What does delivery cost?", "shipping price"],
            "Delivery costs **{{ shop.shipping_standard }}**, free for orders over **{{ shop.free_shipping_over }}**.",
        ),
        "ru": (
            ["Сколько стоит доставка?", "Какая цена доставки?", "стоимость доставки"],
            "Доставка стоит **{{ shop.shipping_standard }}**, бесплатно при заказе свыше **{{ shop.free_shipping_over }}**.",
        ),
        "sk": (
            ["Koľko stojí doprava?", "Aká je cena poštovného?", "cena dopravy"],
            "Doprava stojí **{{ shop.shipping_standard }}**, pri objednávke nad **{{ shop.free_shipping_over }}** zadarmo.",
        ),
        "hu": (
            ["Mennyibe kerül a szállítás?", "Mennyi a postaköltség?", "szállítási díj"],
            "A szállítás **{{ shop.shipping_standard }}**, **{{ shop.free_shipping_over }}** feletti rendelésnél ingyenes.",
        ),
    },
    {
        "id": "contact_hours",
        "tags": ["contact", "hours"],
        "en": (
            ["How can I contact you?", "What are your opening hours?", "customer service hours"],
            "Our team answers the chat **{{ shop.chat_hours }}**. Email: **{{ shop.contact_email }}**, "
            "we reply within {{ shop.email_reply_hours }} hours.",
        ),
        "ru": (
            ["Как с вами связаться?", "Какие у вас часы работы?", "часы работы поддержки"],
            "Наша команда отвечает в чате **{{ shop.chat_hours }}**. Почта: **{{ shop.contact_email }}**, "
            "отвечаем в течение {{ shop.email_reply_hours }} часов.",
        ),
        "sk": (
            ["Ako vás môžem kontaktovať?", "Aké máte otváracie hodiny?", "kedy ste k dispozícii"],
            "Náš tím odpovedá v chate **{{ shop.chat_hours }}**. E-mail: **{{ shop.contact_email }}**, "
            "odpovieme do {{ shop.email_reply_hours }} hodín.",
        ),
        "hu": (
            ["Hogyan érhetem el önöket?", "Mikor van nyitva az ügyfélszolgálat?", "ügyfélszolgálat nyitvatartás"],
            "Csapatunk **{{ shop.chat_hours }}** válaszol a chatben. E-mail: **{{ shop.contact_email }}**, "
            "{{ shop.email_reply_hours }} órán belül válaszolunk.",
        ),
    },
    {
        "id": "warranty",
        "tags": ["warranty"],
        "en": (
            ["How long is the warranty?", "Is there a warranty?", "warranty period"],
            "All products come with a **{{ shop.warranty_months }}-month warranty**. Write here in the chat to make a claim.",
        ),
        "ru": (
            ["Какая гарантия?", "Сколько длится гарантия?", "гарантийный срок"],
            "На все товары действует **гарантия {{ shop.warranty_months }} мес.** Напишите здесь в чате, чтобы подать заявку.",
        ),
        "sk": (
            ["Aká je záruka?", "Ako dlho trvá záruka?", "záručná doba"],
            "Na všetky produkty sa vzťahuje **záruka {{ shop.warranty_months }} mesiacov**. Reklamáciu začnete tu v chate.",
        ),
        "hu": (
            ["Mennyi a garancia?", "Meddig érvényes a garancia?", "garanciális idő"],
            "Minden termékre **{{ shop.warranty_months }} hónap garancia** vonatkozik. A garanciális igényt itt a chatben jelentheti be.",
        ),
    },
]


def faq_skeleton(languages: list[str]) -> dict[str, Any]:
    entries = []
    for item in FAQ:
        entry: dict[str, Any] = {"id": item["id"], "tags": item["tags"]}
        for lang in languages:
            questions, answer = item[lang]
            entry[lang] = {"questions": list(questions), "answer": answer}
        entries.append(entry)
    return {"entries": entries}


def write_shop(directory: Path, shop: NewShop) -> Path:
    """shop.yml and knowledge_base/faq.yml in ``directory`` (validated first); returns the profile's path."""
    directory.mkdir(parents=True, exist_ok=True)
    text = (
        f"# The shop profile of {shop.name}: every fact the bot, the widget, mails and the console use.\n"
        "# Texts write these as {{ shop.<field> }}; fields: docs/setup-your-shop.md.\n"
        + yaml.safe_dump(shop.profile(), allow_unicode=True, sort_keys=False, width=120)
    )
    path = directory / "shop.yml"
    parse_profile(text, path)  # raises ProfileError with file:line before anything is written
    path.write_text(text, encoding="utf-8")
    kb = directory / "knowledge_base"
    kb.mkdir(exist_ok=True)
    faq = kb / "faq.yml"
    if not faq.exists():
        header = "# Your FAQ: add entries, keep shop facts as {{ shop.* }} (python -m bot kb check tells you).\n"
        faq.write_text(
            header + yaml.safe_dump(faq_skeleton(shop.languages), allow_unicode=True, sort_keys=False, width=120),
            encoding="utf-8",
        )
    return path
