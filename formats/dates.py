"""How dates, months and event times read to people: Babel's month and day names per locale.

The one owner of shown dates for the bot, the files and the website alike: «травень 2024»,
«24 травня 2024», «пт, 24 травня, 10:00–12:00». A date someone TYPES is shown to them as
ДД.ММ.РРРР (TYPED_DATE) in examples; what they type is read by plan.validation.read_date alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from functools import lru_cache

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime

__all__ = [
    "DEFAULT_LOCALE",
    "TYPED_DATE",
    "document_date",
    "event_span",
    "event_time",
    "long_date",
    "month_key",
    "month_label",
    "month_year",
    "period",
    "periods",
    "short_date",
    "time_of_day",
    "typed_date",
]

DEFAULT_LOCALE = "uk"  # the plan's own language: files handed to the council are Ukrainian
TYPED_DATE = "%d.%m.%Y"  # what people type into the bot, and what a form echoes back
_NBSP = "\u00a0"
# Babel takes tens of µs to format one date; lists and cards show the same few dates and
# moments to everyone, so the pure formatters below that every update may call are cached.


@lru_cache(maxsize=64)
def _locale(locale: str | None) -> str:
    """A locale Babel knows; anything else (a Telegram app's "pt-br" without data) is Ukrainian."""
    if not locale:
        return DEFAULT_LOCALE
    try:
        Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return DEFAULT_LOCALE
    return locale.replace("-", "_")


def month_year(day: date, locale: str | None = DEFAULT_LOCALE) -> str:
    """«травень 2024», "May 2024": the stand-alone month, as a heading or a button reads."""
    return format_date(day, "LLLL y", locale=_locale(locale))


def month_key(month: str) -> date:
    """The first day of a "YYYY-MM" month key (the newsletter's months are stored so)."""
    year, number = month.split("-")
    return date(int(year), int(number), 1)


def month_label(month: str, locale: str | None = DEFAULT_LOCALE) -> str:
    """A "YYYY-MM" month key as people read it: «травень 2024»."""
    return month_year(month_key(month), locale)


@lru_cache(maxsize=4096)
def long_date(day: date, locale: str | None = DEFAULT_LOCALE) -> str:
    """«24 травня 2024», "24 May 2024"."""
    return format_date(day, "d MMMM y", locale=_locale(locale))


def short_date(day: date, locale: str | None = DEFAULT_LOCALE) -> str:
    """«24 трав. 2024 р.», "24 May 2024": a date in a list line, where space is short."""
    return format_date(day, "medium", locale=_locale(locale))


def document_date(day: date, locale: str | None = DEFAULT_LOCALE) -> str:
    """«24 травня 2024 р.», as a Ukrainian document dates itself; "24 May 2024" in English."""
    text = long_date(day, locale)
    if _locale(locale).startswith("uk"):
        return f"{text}{_NBSP}р."
    return text


def period(start: date, end: date, locale: str | None = DEFAULT_LOCALE) -> str:
    """«1 січня 2024 – 31 грудня 2026»: a plan's period, or any span of whole days."""
    return f"{long_date(start, locale)} – {long_date(end, locale)}"


def periods(spans: Iterable[tuple[date, date]], locale: str | None = DEFAULT_LOCALE) -> str:
    """Several periods in one line, «1 січня 2024 – 31 грудня 2026, …»."""
    return ", ".join(period(start, end, locale) for start, end in spans)


@lru_cache(maxsize=4096)
def _in_own_zone(moment: datetime, zone: tzinfo | None, pattern: str, locale: str | None) -> str:
    """`moment` by `pattern` in its own zone. The zone is part of the cache's key: one instant
    in two zones is equal as a datetime (and hashes alike) but reads differently."""
    return format_datetime(moment, pattern, tzinfo=zone, locale=_locale(locale))


def time_of_day(moment: datetime, locale: str | None = DEFAULT_LOCALE) -> str:
    """«18:00»: the 24-hour clock in Ukrainian and English alike, in the moment's own zone."""
    return _in_own_zone(moment, moment.tzinfo, "HH:mm", locale)


def event_time(
    moment: datetime, locale: str | None = DEFAULT_LOCALE, today: date | None = None
) -> str:
    """«пт, 24 травня, 10:00» in the moment's own zone (the city's, for the plan's events).

    With `today` given, a moment of another year names its year: «пн, 4 січня 2027, 10:00».
    """
    pattern = "EEE, d MMMM, HH:mm"
    if today is not None and moment.year != today.year:
        pattern = "EEE, d MMMM y, HH:mm"
    return _in_own_zone(moment, moment.tzinfo, pattern, locale)


def event_span(
    starts: datetime,
    ends: datetime,
    locale: str | None = DEFAULT_LOCALE,
    today: date | None = None,
) -> str:
    """«пт, 24 травня, 10:00–12:00»; over several days «пт, 24 травня, 10:00 – сб, 25 травня,
    12:00». Both moments are shown in their own zones: convert them to the city's first."""
    start = event_time(starts, locale, today)
    if starts.date() == ends.date():
        return f"{start}–{time_of_day(ends, locale)}"
    return f"{start} – {event_time(ends, locale, today)}"


def typed_date(day: date) -> str:
    """24.05.2024: the form a date is typed in, for examples and for echoing it back."""
    return day.strftime(TYPED_DATE)
