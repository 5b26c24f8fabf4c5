"""Mails the demo store sends, in the customer's language (en, ru, sk, hu).

Shop facts are written as ``{{ shop.<field> }}`` and filled in from the shop profile.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.shop.policy import ItemView

_LABEL = {
    "en": (
        "Your return label for {rma}",
        "Hello {name},\n\nyour return {rma} for order {order} is registered.\n"
        "Items: {items}\n\nRETURN LABEL\nShip to: {{{{ shop.name }}}} returns\nReference: {rma}\n\n"
        "Print this label, stick it on the parcel and drop the parcel at a pick-up point within "
        "{{{{ shop.return_window_days }}}} days.\n",
    ),
    "ru": (
        "Ваша этикетка для возврата {rma}",
        "Здравствуйте, {name}!\n\nВаш возврат {rma} по заказу {order} зарегистрирован.\n"
        "Товары: {items}\n\nЭТИКЕТКА ДЛЯ ВОЗВРАТА\nПолучатель: {{{{ shop.name }}}}, возвраты\n"
        "Номер: {rma}\n\nРаспечатайте этикетку, наклейте её на посылку и сдайте посылку в пункт "
        "выдачи в течение {{{{ shop.return_window_days }}}} дней.\n",
    ),
    "sk": (
        "Štítok na vrátenie {rma}",
        "Dobrý deň, {name},\n\nvaše vrátenie {rma} k objednávke {order} je zaregistrované.\n"
        "Položky: {items}\n\nŠTÍTOK NA VRÁTENIE\nPríjemca: {{{{ shop.name }}}}, vrátenia\n"
        "Referencia: {rma}\n\nŠtítok vytlačte, nalepte na balík a balík odovzdajte na výdajnom "
        "mieste do {{{{ shop.return_window_days }}}} dní.\n",
    ),
    "hu": (
        "Visszaküldési címke: {rma}",
        "Kedves {name}!\n\nA(z) {order} számú rendeléshez tartozó {rma} visszaküldését rögzítettük.\n"
        "Termékek: {items}\n\nVISSZAKÜLDÉSI CÍMKE\nCímzett: {{{{ shop.name }}}}, visszáru\n"
        "Hivatkozás: {rma}\n\nNyomtassa ki a címkét, ragassza a csomagra, és "
        "{{{{ shop.return_window_days }}}} napon belül adja le egy csomagponton.\n",
    ),
}


def return_label_mail(
    lang: str, name: str, rma: str, order_number: str, items: Sequence[ItemView]
) -> tuple[str, str]:
    """(subject, body) of the mail that carries the return label."""
    subject, body = _LABEL.get(lang, _LABEL["en"])
    names = ", ".join(i.name_in(lang) for i in items)
    return subject.format(rma=rma), body.format(name=name, rma=rma, order=order_number, items=names)
