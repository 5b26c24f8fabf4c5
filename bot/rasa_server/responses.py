"""The Rasa server's response generator: domain.yml responses with the shop's facts filled in.

Responses write shop facts as ``{{ shop.<field> }}``. Rasa's own slot interpolation
(``{slot}``) would turn those into ``{ shop.field }`` (and give up on the slots of a response
that has both), so they are rendered first, in the reply's language, and Rasa fills the slots
after. Configured in endpoints.yml (``nlg: type: bot.rasa_server.responses.ShopResponses``),
Rasa's documented way to plug in a response generator.
"""

from __future__ import annotations

from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

from bot.profile.render import render_tree
from bot.settings import load_settings


class ShopResponses(TemplatedNaturalLanguageGenerator):
    def __init__(self, endpoint_config: Any = None, domain: Any = None, **_: Any) -> None:
        super().__init__(domain.responses if domain is not None else {})
        self.shop = load_settings().shop

    def _fill_response(
        self, response: dict[str, Any], filled_slots: dict[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        language = (filled_slots or {}).get("language")
        rendered = render_tree(response, self.shop, language if isinstance(language, str) else None)
        return super()._fill_response(rendered, filled_slots, **kwargs)
