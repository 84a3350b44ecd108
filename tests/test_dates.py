"""formats.dates: shown dates through Babel's names in the reader's language, typed ones as
ДД.ММ.РРРР."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from formats.dates import (
    document_date,
    event_span,
    event_time,
    long_date,
    month_label,
    month_year,
    period,
    short_date,
    time_of_day,
    typed_date,
)

DAY = date(2024, 5, 24)
KYIV = ZoneInfo("Europe/Kyiv")


def test_ukrainian_names() -> None:
    assert month_year(DAY) == "травень 2024"  # a heading: the stand-alone month
    assert month_label("2024-05") == "травень 2024"
    assert long_date(DAY) == "24 травня 2024"  # a date: the month in the genitive
    assert document_date(DAY) == "24 травня 2024\u00a0р."
    assert short_date(DAY).startswith("24 трав. 2024")
    # Stored in UTC, shown in the city's zone.
    moment = datetime(2024, 5, 24, 7, 0, tzinfo=ZoneInfo("UTC")).astimezone(KYIV)
    assert event_time(moment) == "пт, 24 травня, 10:00"


def test_english_names() -> None:
    assert month_year(DAY, "en") == "May 2024"
    assert document_date(DAY, "en") == "24 May 2024"
    assert event_time(datetime(2024, 5, 24, 10, 0, tzinfo=KYIV), "en") == "Fri, 24 May, 10:00"


@pytest.mark.parametrize("locale", [None, "", "xx", "not a locale"])
def test_an_unknown_locale_reads_ukrainian(locale: str | None) -> None:
    assert month_year(DAY, locale) == "травень 2024"


def test_a_typed_date_reads_back_as_typed() -> None:
    assert typed_date(date(2024, 3, 1)) == "01.03.2024"


def test_an_event_span_and_a_period() -> None:
    start = datetime(2024, 5, 24, 10, 0, tzinfo=KYIV)
    assert time_of_day(start) == "10:00"
    assert event_span(start, start.replace(hour=12)) == "пт, 24 травня, 10:00–12:00"
    assert (
        event_span(start, start.replace(day=25, hour=12), "en")
        == "Fri, 24 May, 10:00 – Sat, 25 May, 12:00"
    )
    # Another year than today's names its year.
    assert event_time(start, today=date(2023, 12, 1)) == "пт, 24 травня 2024, 10:00"
    assert period(date(2023, 1, 1), date(2024, 12, 31)) == "1 січня 2023 – 31 грудня 2024"


def test_one_instant_reads_in_each_zone_it_is_given_in() -> None:
    # Equal as datetimes, so a cache keyed by the moment alone would answer both alike.
    utc = datetime(2026, 5, 1, 7, 0, tzinfo=ZoneInfo("UTC"))
    city = utc.astimezone(KYIV)
    assert time_of_day(utc) == "07:00"
    assert time_of_day(city) == "10:00"
    assert event_time(utc, "en").endswith("07:00")
    assert event_time(city, "en").endswith("10:00")
