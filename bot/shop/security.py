"""Hashing helpers: nothing secret or personal is stored or logged in the clear."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$")
ORDER_NUMBER_PATTERN = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def normalise_email(email: str) -> str | None:
    """Lower-cased, trimmed address, or None when it is not an email address."""
    candidate = (email or "").strip().strip("<>.,;").lower()
    if len(candidate) > 254 or not EMAIL_PATTERN.match(candidate):
        return None
    return candidate


def extract_email(text: str) -> str | None:
    """The first well-formed email address in free text, normalised."""
    for word in (text or "").split():
        email = normalise_email(word)
        if email:
            return email
    return None


def extract_order_number(text: str) -> str | None:
    match = ORDER_NUMBER_PATTERN.search(text or "")
    return match.group(1) if match else None


def keyed_hash(secret: bytes, value: str) -> str:
    """HMAC-SHA256: stable for lookups and rate limits, useless to whoever reads the table."""
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iban_ok(candidate: str) -> bool:
    """ISO 13616 check digits: the rearranged number mod 97 is 1."""
    compact = re.sub(r"\s", "", candidate).upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


# What replaces a secret; the agent sees the marker, so they know something was there.
CARD_REMOVED = "[card number removed]"
IBAN_REMOVED = "[IBAN removed]"
CODE_REMOVED = "[security code removed]"
PASSWORD_REMOVED = "[password removed]"
SECRET_REMOVED = "[secret removed]"
MARKERS = (CARD_REMOVED, IBAN_REMOVED, CODE_REMOVED, PASSWORD_REMOVED, SECRET_REMOVED)

_DIGIT_RUN = re.compile(r"(?<![\dA-Za-z])\d+(?:[ -]\d+)*(?![\dA-Za-z])")
# Expiry date and CVV typed right after a card number belong to it.
_CARD_AND_TAIL = re.compile(
    re.escape(CARD_REMOVED)
    + r"(?:[\s,;:/()-]*(?:exp\w*|valid\w*|cvv2?|cvc2?|cid|platn\w*|срок\w*|lejár\w*)?[\s:.=-]*"
    r"(?:\d{1,2}\s*/\s*\d{2,4}|\d{3,4})(?!\d)){1,2}",
    re.IGNORECASE,
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)\b", re.I)
_SECURITY_CODE = re.compile(
    r"(\b(?:cvv2?|cvc2?|cid|csc|security\s+code|код\s+безопасности|cvv-код|"
    r"bezpe[čc]nostn[ýy]\s+k[óo]d|biztons[áa]gi\s+k[óo]d)\b[\s:=#-]*(?:is\s+|je\s+|это\s+)?)"
    r"\d{3,4}(?!\d)",
    re.IGNORECASE,
)
_PASSWORD = re.compile(
    r"(?<!\[)(\b(?:password|passwd|pwd|passcode|passphrase|пароль|паролем|пароля|heslo|heslom|"
    r"jelsz[óo]|jelszavam|jelszava)"
    r"(\s*[:=]\s*|\s+(?:is|was|je|bolo|bol|это|был|-|–|—|volt|az)\s+|\s+))([^\s,;!?\[][^\s,;!?]*)",
    re.IGNORECASE,
)
# Without ":" or "=" only a word that is not ordinary prose counts ("my password is wrong" stays).
_PROSE_WORDS = (
    "not no wrong incorrect correct invalid expired too the a an my still ok okay fine working reset "
    "change forgotten forgot lost new old doesn't isn't dont don't does is was for to and or in on "
    "не неправильный неверный сброс забыл новый старый nesprávne zlé nefunguje zabudnuté nové "
    "staré nem rossz hibás elfelejtett új régi"
)
_PROSE = frozenset(_PROSE_WORDS.split())
_SECRET_PARAMETER = re.compile(r"([?&](?:token|code|key|password|secret|sig)=)[^&\s#]+", re.IGNORECASE)


def _mask_cards(run: re.Match) -> str:
    """Within a run of digit groups, mask every Luhn-valid 13-19 digit span of whole groups."""
    groups = re.findall(r"\d+|[ -]", run.group(0))
    digits = [g for g in groups if g.isdigit()]
    out, i = [], 0
    while i < len(digits):
        for j in range(len(digits), i, -1):
            candidate = "".join(digits[i:j])
            if 13 <= len(candidate) <= 19 and _luhn_ok(candidate):
                out.append(CARD_REMOVED)
                i = j
                break
        else:
            out.append(digits[i])
            i += 1
    return " ".join(out) if CARD_REMOVED in out else run.group(0)


def _mask_iban(match: re.Match) -> str:
    words = match.group(0).split(" ")
    while words:  # "SK31 1200 ... 7541 plea(se)": drop trailing groups until it checks out
        if _iban_ok(" ".join(words)):
            rest = match.group(0)[len(" ".join(words)) :]
            return IBAN_REMOVED + rest
        words.pop()
    return match.group(0)


def _mask_password(match: re.Match) -> str:
    keyword_and_separator, separator, secret = match.group(1), match.group(2), match.group(3)
    explicit = ":" in separator or "=" in separator
    looks_secret = bool(re.search(r"[\d_@#$%^&*+=]", secret))
    if separator.strip():  # "password is ...": anything but ordinary words
        looks_secret = looks_secret or (len(secret) >= 4 and secret.casefold().strip(".") not in _PROSE)
    return keyword_and_separator + PASSWORD_REMOVED if explicit or looks_secret else match.group(0)


def redact_with_flag(text: str) -> tuple[str, bool]:
    """``redact`` and whether anything was removed (so an agent can be told)."""
    original = text or ""
    out = _IBAN.sub(_mask_iban, original)  # before cards: an IBAN's digits may pass Luhn
    out = _DIGIT_RUN.sub(_mask_cards, out)
    out = _CARD_AND_TAIL.sub(CARD_REMOVED, out)
    out = _SECURITY_CODE.sub(lambda m: m.group(1) + CODE_REMOVED, out)
    out = _PASSWORD.sub(_mask_password, out)
    out = _SECRET_PARAMETER.sub(lambda m: m.group(1) + SECRET_REMOVED, out)
    return out, out != original


def was_redacted(text: str) -> bool:
    """Whether the text carries a marker, e.g. because the gateway redacted it before it got here."""
    return any(marker in (text or "") for marker in MARKERS)


def redact(text: str) -> str:
    """Card numbers (Luhn), IBANs (mod 97), CVVs, typed passwords and secret URL parameters
    replaced by a visible marker, before text is relayed, logged or stored."""
    return redact_with_flag(text)[0]
