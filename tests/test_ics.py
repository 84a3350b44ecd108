"""iCalendar text: RFC 5545 escaping, folding, UTC times across Kyiv's DST."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from formats.ics import CalendarEvent, calendar, escape_text, fold

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _event(**changes: object) -> CalendarEvent:
    values: dict[str, object] = {
        "uid": "event-7@cso-bot",
        "title": "Форум ІГС; частина 1, відкриття",
        "starts_at": datetime(2026, 3, 14, 10, 0, tzinfo=KYIV),
        "ends_at": datetime(2026, 3, 14, 12, 30, tzinfo=KYIV),
        "location": "Вінниця, вул. Соборна, 59",
        "description": "Перший рядок\nДругий",
        "url": "https://t.me/cso_bot?start=event_7",
    }
    values.update(changes)
    return CalendarEvent(**values)  # type: ignore[arg-type]


def test_calendar_has_the_required_properties_and_crlf() -> None:
    text = calendar(_event(), NOW)
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:")
    assert text.endswith("END:VEVENT\r\nEND:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    unfolded = text.replace("\r\n ", "")
    assert "UID:event-7@cso-bot\r\n" in unfolded
    assert "DTSTAMP:20260101T120000Z\r\n" in unfolded
    # 10:00 in Kyiv in winter (UTC+2) is 08:00 UTC.
    assert "DTSTART:20260314T080000Z\r\n" in unfolded
    assert "DTEND:20260314T103000Z\r\n" in unfolded
    assert "SUMMARY:Форум ІГС\\; частина 1\\, відкриття\r\n" in unfolded
    assert "URL:https://t.me/cso_bot?start=event_7\r\n" in unfolded
    assert "DESCRIPTION:Перший рядок\\nДругий\\n\\nhttps://t.me/cso_bot?start=event_7" in unfolded
    assert "STATUS:CONFIRMED" in unfolded


def test_summer_time_is_converted_with_the_summer_offset() -> None:
    text = calendar(_event(starts_at=datetime(2026, 7, 1, 10, 0, tzinfo=KYIV),
                           ends_at=datetime(2026, 7, 1, 11, 0, tzinfo=KYIV)), NOW)  # fmt: skip
    assert "DTSTART:20260701T070000Z" in text  # UTC+3 in summer


def test_long_lines_are_folded_at_75_octets_without_breaking_characters() -> None:
    text = calendar(_event(description="Опис " * 60), NOW)
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75
    assert "Опис Опис" in text.replace("\r\n ", "")


def test_escaping_and_folding_helpers() -> None:
    assert escape_text("a\\b;c,d\r\ne") == "a\\\\b\\;c\\,d\\ne"
    assert fold("x" * 80) == "x" * 75 + "\r\n " + "x" * 5


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        calendar(_event(starts_at=datetime(2026, 3, 14, 10, 0)), NOW)


def test_cancelled_event() -> None:
    assert "STATUS:CANCELLED" in calendar(_event(cancelled=True), NOW)
