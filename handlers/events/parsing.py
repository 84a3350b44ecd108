"""Reading an event's moments and places as people type them: Kyiv time, never in the past."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from plan.validation import InputError, parse_whole

MAX_CAPACITY = 100_000
_WHEN = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})[ ,T]+(\d{1,2})[:.](\d{2})")
_TIME = re.compile(r"(\d{1,2})[:.](\d{2})")


def parse_when(raw: str, timezone: ZoneInfo, now: datetime, day: date | None = None) -> datetime:
    """ДД.ММ.РРРР ГГ:ХХ in Kyiv time (or ГГ:ХХ alone on `day`), not in the past."""
    text = raw.strip()
    match = _WHEN.fullmatch(text)
    if match:
        d, m, y, hh, mm = (int(g) for g in match.groups())
    elif day is not None and (only_time := _TIME.fullmatch(text)):
        d, m, y = day.day, day.month, day.year
        hh, mm = (int(g) for g in only_time.groups())
    else:
        raise InputError("when_format")
    try:
        moment = datetime.combine(date(y, m, d), time(hh, mm), tzinfo=timezone)
    except ValueError:
        raise InputError("date_invalid") from None
    if moment <= now:
        raise InputError("when_past")
    return moment


def parse_end(raw: str, starts: datetime, timezone: ZoneInfo, now: datetime) -> datetime:
    ends = parse_when(raw, timezone, now, day=starts.astimezone(timezone).date())
    if ends <= starts:
        raise InputError("end_before_start")
    return ends


def parse_capacity(raw: str) -> int:
    return parse_whole(raw, minimum=1, maximum=MAX_CAPACITY)
