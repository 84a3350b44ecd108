"""iCalendar (RFC 5545) text for one event, so people can add it to their calendars.

Times are written in UTC (the `Z` form), which every calendar converts to the reader's zone; this
needs no VTIMEZONE block and stays right across Kyiv's DST changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

PRODID = "-//Vinnytsia CSO partnership bot//UK"
_FOLD = 75  # octets per line, without the CRLF


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    uid: str
    title: str
    starts_at: datetime  # timezone-aware
    ends_at: datetime
    location: str = ""
    description: str = ""
    url: str = ""
    cancelled: bool = False


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon, comma and newlines escaped (RFC 5545 3.3.11)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Split a content line into parts of at most 75 octets, never inside a UTF-8 character."""
    parts: list[str] = []
    current = ""
    limit = _FOLD
    for char in line:
        if len((current + char).encode("utf-8")) > limit:
            parts.append(current)
            current = char
            limit = _FOLD - 1  # continuation lines start with a space
        else:
            current += char
    parts.append(current)
    return "\r\n ".join(parts)


def utc_stamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("a calendar time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(event: CalendarEvent, now: datetime) -> str:
    """A VCALENDAR with one VEVENT, lines folded and ended with CRLF."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"DTSTAMP:{utc_stamp(now)}",
        f"DTSTART:{utc_stamp(event.starts_at)}",
        f"DTEND:{utc_stamp(event.ends_at)}",
        f"SUMMARY:{escape_text(event.title)}",
    ]
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    description = event.description
    if event.url:
        description = f"{description}\n\n{event.url}" if description else event.url
        lines.append(f"URL:{event.url}")
    if description:
        lines.append(f"DESCRIPTION:{escape_text(description)}")
    lines.append(f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines)
