"""Composition of the monthly issue: pure functions over plain data."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from scheduler.newsletter.compose import (
    IssueContent,
    IssueEvent,
    IssueProject,
    compose,
    events_of_month,
)

KYIV = ZoneInfo("Europe/Kyiv")


def _event(title: str, day: datetime) -> IssueEvent:
    return IssueEvent(title, day, "Вінниця <центр>", "ІРМ")


def test_events_of_the_coming_month_only() -> None:
    events = [
        _event("Лютий", datetime(2024, 2, 29, 23, 30, tzinfo=KYIV)),
        _event("Березень", datetime(2024, 3, 1, 0, 30, tzinfo=KYIV)),
        _event("Квітень", datetime(2024, 4, 1, 0, 0, tzinfo=KYIV)),
    ]
    assert [e.title for e in events_of_month(events, "2024-03", KYIV)] == ["Березень"]


def test_user_text_is_escaped_and_long_issues_are_split() -> None:
    events = tuple(
        _event(f"Захід <{i}> & co", datetime(2024, 3, 2, tzinfo=KYIV)) for i in range(200)
    )
    content = IssueContent(
        "2024-03", "<b>Вступ</b>", events,
        (IssueProject("Проєкт", "ГО «Світло»", "", None, date(2024, 5, 1)),), (),
    )  # fmt: skip
    parts = compose(content, lambda s: s)
    assert len(parts) > 1 and all(len(p) <= 4096 for p in parts)
    assert "Захід &lt;0&gt; &amp; co" in parts[0] and "<b>Вступ</b>" in parts[0]
    assert "Вінниця &lt;центр&gt;" in parts[0]
