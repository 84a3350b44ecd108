"""Reading an event's moments and places as people type them: Kyiv time, never in the past."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from plan.validation import InputError, parse_whole, read_date

MAX_CAPACITY = 100_000
# A date as read_date reads it, then the time: «15.03.2027 14:00», «15 березня 2027, 14:00».
_WHEN = re.compile(r"(.+?)[ ,T]+(\d{1,2})[:.](\d{2})")
_TIME = re.compile(r"(\d{1,2})[:.](\d{2})")


def parse_when(raw: str, timezone: ZoneInfo, now: datetime, day: date | None = None) -> datetime:
    """ДД.ММ.РРРР ГГ:ХХ in Kyiv time (or ГГ:ХХ alone on `day`), not in the past."""
    text = raw.strip()
    if day is not None and (only_time := _TIME.fullmatch(text)):
        hh, mm = (int(g) for g in only_time.groups())
    elif match := _WHEN.fullmatch(text):
        try:
            day = read_date(match.group(1).rstrip(","))
        except InputError as e:
            raise InputError("when_format" if e.reason == "date_format" else e.reason) from None
        hh, mm = int(match.group(2)), int(match.group(3))
    else:
        raise InputError("when_format")
    try:
        moment = datetime.combine(day, time(hh, mm), tzinfo=timezone)
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
