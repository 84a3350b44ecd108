"""plan/validation.py: what the dialog and the CSV import accept, and why they refuse."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from plan import load_plan
from plan.validation import (
    InputError,
    clean_text,
    parse_date,
    parse_participants,
    parse_quantity,
    parse_url,
)

PLAN = load_plan(Path(__file__).resolve().parents[1] / "data" / "annex4.yaml")
TODAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("14.03.2024", date(2024, 3, 14)), ("1.3.2023", date(2023, 3, 1)),
     ("2024-12-31", date(2024, 12, 31)), (" 01.01.2023 ", date(2023, 1, 1)),
     ("05.05.2024", date(2024, 5, 5)), ("5.5.2024", date(2024, 5, 5)),
     ("5/5/2024", date(2024, 5, 5)), ("5 травня 2024", date(2024, 5, 5)),
     ("5 Травня 2024 р.", date(2024, 5, 5)), ("5 трав. 2024", date(2024, 5, 5)),
     ("5 May 2024", date(2024, 5, 5))],
)  # fmt: skip
def test_dates_accepted(raw: str, expected: date) -> None:
    assert parse_date(raw, PLAN, TODAY) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("31.02.2024", "date_invalid"), ("2024-13-01", "date_invalid"), ("1999", "date_format"),
     ("01.01.1999", "date_outside_plan"), ("01.01.2025", "date_outside_plan"),
     ("27.11.2026", "date_future"), ("завтра", "date_format"), ("", "date_format"),
     ("5 травнів 2024", "date_format"), ("31 лютого 2024", "date_invalid")],
)  # fmt: skip
def test_dates_refused(raw: str, reason: str) -> None:
    with pytest.raises(InputError) as info:
        parse_date(raw, PLAN, TODAY)
    assert info.value.reason == reason


def test_outside_plan_names_the_period() -> None:
    with pytest.raises(InputError) as info:
        parse_date("01.06.2025", PLAN, TODAY)
    assert info.value.details == {"start": PLAN.start, "end": PLAN.end}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("0", "too_small"), ("-3", "too_small"), ("1e9", "not_a_number"), ("два", "not_a_number"),
     ("1000000000", "too_large"), ("1.5", "not_a_number"), ("", "not_a_number")],
)  # fmt: skip
def test_quantities_refused(raw: str, reason: str) -> None:
    with pytest.raises(InputError) as info:
        parse_quantity(raw)
    assert info.value.reason == reason


def test_numbers_accepted() -> None:
    assert parse_quantity(" 12 ") == 12
    assert parse_participants("0") == 0
    assert parse_quantity("1 000") == 1000


def test_text_and_links() -> None:
    assert clean_text("  a \n b ", limit=10) == "a b"
    with pytest.raises(InputError):
        clean_text("   ", limit=10)
    with pytest.raises(InputError) as info:
        clean_text("x" * 11, limit=10)
    assert info.value.details == {"limit": 10, "length": 11}
    assert parse_url("https://example.org/a?b=1") == "https://example.org/a?b=1"
    for bad in ("example.org", "javascript:alert(1)", "https://", "http://a b"):
        with pytest.raises(InputError):
            parse_url(bad)


@pytest.mark.parametrize(
    "raw",
    [
        "\u200b\u200b",
        "\x00\x00",
        "\u202e\u202d",
        "\u200d \ufeff",
        "\u2066\u2069\u200e",
        " \x00\u200b\n",
    ],
)
def test_invisible_only_text_is_refused_where_a_name_is_expected(raw: str) -> None:
    with pytest.raises(InputError) as refused:
        clean_text(raw, limit=100)
    assert refused.value.reason == "empty"


def test_controls_and_direction_overrides_are_removed_and_the_rest_kept() -> None:
    assert clean_text("ГО\x00 «Мир\u202e & Добро»", limit=100) == "ГО «Мир & Добро»"
    assert clean_text("Родина 👨\u200d👩\u200d👧", limit=100) == "Родина 👨\u200d👩\u200d👧"


def test_a_long_name_is_cut_before_it_is_escaped() -> None:
    from formats.telegram_text import echo, shorten

    name = "ГО «Мир & Добро» " * 5
    assert shorten(name, 20) == "ГО «Мир & Добро» ГО…"
    for limit in range(5, 40):
        shown = echo(name, limit)
        assert not re.search(r"&[a-z]*…", shown), shown
