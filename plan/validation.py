"""Checking what people type: dates, quantities, titles, links, ЄДРПОУ codes.

Plain functions shared by the bot's dialog and the CSV import. A refusal is an InputError whose
`reason` names the rule broken and whose `details` carry the numbers a message needs; each user
interface words it in its own language.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any
from urllib.parse import urlparse

from plan.model import Plan

MAX_QUANTITY = 100_000
MAX_PARTICIPANTS = 100_000
MAX_TITLE = 200
MAX_DESCRIPTION = 1000
MAX_URL = 500
_WHOLE = re.compile(r"[0-9]{1,12}")
_DOTTED = re.compile(r"(\d{1,2})[./](\d{1,2})[./](\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_WORDED = re.compile(r"(\d{1,2})\s+([^\W\d_]+)\.?,?\s+(\d{4})(?:\s*(?:р\.?|року))?")
# A month typed as a word, «5 травня 2024» or "5 May 2024": the Ukrainian genitive (how a date
# is said), the nominative and the usual short forms, and the English names.
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("січня", "січень", "січ", "january", "jan"),
            ("лютого", "лютий", "лют", "february", "feb"),
            ("березня", "березень", "бер", "march", "mar"),
            ("квітня", "квітень", "квіт", "april", "apr"),
            ("травня", "травень", "трав", "may"),
            ("червня", "червень", "черв", "june", "jun"),
            ("липня", "липень", "лип", "july", "jul"),
            ("серпня", "серпень", "серп", "august", "aug"),
            ("вересня", "вересень", "вер", "september", "sep", "sept"),
            ("жовтня", "жовтень", "жовт", "october", "oct"),
            ("листопада", "листопад", "лист", "november", "nov"),
            ("грудня", "грудень", "груд", "december", "dec"),
        ],
        start=1,
    )
    for name in names
}


class InputError(ValueError):
    """Input that breaks a rule: `reason` is a stable code, `details` fill in the message."""

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason, details)
        self.reason = reason
        self.details = details


def parse_date(raw: str, plan: Plan, today: date) -> date:
    """ДД.ММ.РРРР (or YYYY-MM-DD): a real date, not in the future, inside the plan period."""
    value = read_date(raw)
    if value > today:
        raise InputError("date_future", today=today)
    if not plan.start <= value <= plan.end:
        raise InputError("date_outside_plan", start=plan.start, end=plan.end)
    return value


def read_date(raw: str) -> date:
    """A date as people type it, whatever plan it falls in: ДД.ММ.РРРР (05.05.2024, 5.5.2024,
    5/5/2024), YYYY-MM-DD, or with the month in words («5 травня 2024», "5 May 2024").

    The one reader of typed dates: the bot's forms and the CSV import alike.
    """
    text = raw.strip()
    if match := _DOTTED.fullmatch(text):
        day, month, year = (int(g) for g in match.groups())
    elif match := _ISO.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    elif (match := _WORDED.fullmatch(text.lower())) and match.group(2) in _MONTHS:
        day, month, year = int(match.group(1)), _MONTHS[match.group(2)], int(match.group(3))
    else:
        raise InputError("date_format")
    try:
        value = date(year, month, day)
    except ValueError:
        raise InputError("date_invalid") from None
    return value


def parse_whole(raw: str, *, minimum: int, maximum: int) -> int:
    """A whole number typed with digits only ("два" and "1e9" are not numbers here)."""
    text = raw.strip().replace(" ", "").replace("\u00a0", "")
    negative = text.startswith("-")
    digits = text.removeprefix("-")
    if not _WHOLE.fullmatch(digits):
        raise InputError("not_a_number")
    value = -int(digits) if negative else int(digits)
    if value < minimum:
        raise InputError("too_small", minimum=minimum)
    if value > maximum:
        raise InputError("too_large", maximum=maximum)
    return value


def parse_quantity(raw: str) -> int:
    return parse_whole(raw, minimum=1, maximum=MAX_QUANTITY)


def parse_participants(raw: str) -> int:
    return parse_whole(raw, minimum=0, maximum=MAX_PARTICIPANTS)


# Direction overrides and isolates reorder the text around them (the bot's own words included):
# never kept. Other invisible format characters (zero-width joiners in emoji, soft hyphens) are
# kept, but a text of nothing else is empty.
_DIRECTION_CONTROLS = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C]
)


def clean_text(raw: str, *, limit: int) -> str:
    """Text with its whitespace tidied, control characters (NUL...) and direction overrides
    removed; empty, invisible only, or over the limit is refused."""
    kept = "".join(
        ch
        for ch in raw.translate(_DIRECTION_CONTROLS)
        if ch.isspace() or unicodedata.category(ch) != "Cc"
    )
    text = " ".join(kept.split())
    if not any(unicodedata.category(ch) not in ("Cf", "Zs") for ch in text):
        raise InputError("empty")
    if len(text) > limit:
        raise InputError("too_long", limit=limit, length=len(text))
    return text


def parse_url(raw: str) -> str:
    text = raw.strip()
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or " " in text:
        raise InputError("not_a_link")
    if len(text) > MAX_URL:
        raise InputError("too_long", limit=MAX_URL, length=len(text))
    return text


_WEIGHTS = (1, 2, 3, 4, 5, 6, 7)
# Codes between 30 000 000 and 60 000 000 start their weights at 7.
_WEIGHTS_MIDDLE = (7, 1, 2, 3, 4, 5, 6)


def valid_edrpou(code: str) -> bool:
    """Whether code is a well-formed ЄДРПОУ code: 8 digits whose last is the check digit.

    The check digit is the weighted sum of the first seven digits mod 11; a remainder of 10 is
    retried with every weight raised by 2, and a second 10 means 0. Eight zeros pass that
    sum but are no organisation's code (a placeholder typed to get past the question).
    """
    if len(code) != 8 or not code.isascii() or not code.isdigit() or int(code) == 0:
        return False
    digits = [int(c) for c in code]
    weights = _WEIGHTS_MIDDLE if 30_000_000 <= int(code) < 60_000_000 else _WEIGHTS
    remainder = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11
    if remainder == 10:
        remainder = sum(d * (w + 2) for d, w in zip(digits, weights, strict=False)) % 11
        if remainder == 10:
            remainder = 0
    return remainder == digits[7]
