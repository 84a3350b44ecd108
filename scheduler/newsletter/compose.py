"""The monthly newsletter's content: what goes in an issue, and the issue as Telegram HTML.

`compose` is a pure function of plain data (tested without a bot or a database); `gather` reads
that data for one month. Everything users or coordinators typed is escaped here, except the
introduction, which coordinators write in Telegram HTML and which is checked when it is saved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from db import Database
from formats.dates import DEFAULT_LOCALE, event_time, long_date, month_label
from formats.telegram_text import split_message
from plan import Plan
from plan.progress import IndicatorProgress, newly_met, plan_progress

Translate = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class IssueEvent:
    title: str
    starts_at: datetime  # local time
    place: str
    organiser: str


@dataclass(frozen=True, slots=True)
class IssueProject:
    title: str
    organisations: str
    description: str
    link: str | None
    active_until: date


@dataclass(frozen=True, slots=True)
class IssueResult:
    indicator_id: str
    year: int
    measure_code: str
    description: str


@dataclass(frozen=True, slots=True)
class IssueContent:
    month: str  # YYYY-MM, the month the issue goes out in and whose events it announces
    intro: str  # Telegram HTML, already checked
    events: tuple[IssueEvent, ...]
    projects: tuple[IssueProject, ...]
    results: tuple[IssueResult, ...]


# -- months and send times ---------------------------------------------------------------------


def month_of(moment: datetime, timezone: ZoneInfo) -> str:
    return moment.astimezone(timezone).strftime("%Y-%m")


def month_start(month: str, timezone: ZoneInfo) -> datetime:
    year, number = (int(x) for x in month.split("-"))
    return datetime(year, number, 1, tzinfo=timezone)


def next_month(month: str) -> str:
    year, number = (int(x) for x in month.split("-"))
    return f"{year + number // 12}-{number % 12 + 1:02d}"


def send_time(cron: str, timezone: ZoneInfo, month: str) -> datetime | None:
    """When the cron line first fires in `month` (local time); None if it never does."""
    trigger = CronTrigger.from_crontab(cron, timezone=timezone)
    start = month_start(month, timezone)
    fire: datetime | None = trigger.get_next_fire_time(None, start)
    if fire is None or month_of(fire, timezone) != month:
        return None
    return fire


# -- what goes in ------------------------------------------------------------------------------


def events_of_month(
    events: Iterable[IssueEvent], month: str, timezone: ZoneInfo
) -> tuple[IssueEvent, ...]:
    """The events starting in `month`, soonest first."""
    start = month_start(month, timezone)
    end = month_start(next_month(month), timezone)
    chosen = [e for e in events if start <= e.starts_at.astimezone(timezone) < end]
    return tuple(sorted(chosen, key=lambda e: e.starts_at))


def reached_results(
    progress: Sequence[IndicatorProgress], announced: set[tuple[str, int]]
) -> tuple[IssueResult, ...]:
    """Indicators met that no earlier issue listed, by the plan's one rule (`newly_met`)."""
    return tuple(
        IssueResult(p.indicator.id, p.year, p.indicator.measure_code, p.indicator.description)
        for p in newly_met(progress, announced)
    )


def compose(content: IssueContent, _: Translate, locale: str = DEFAULT_LOCALE) -> list[str]:
    """The issue as Telegram HTML messages, each within the limit, every line self-contained.

    `_` and `locale` are the issue's language (the default one: everyone gets one text).
    """
    lines = [_("📰 <b>Newsletter of the partnership plan, {month}</b>").format(
        month=month_label(content.month, locale)
    )]  # fmt: skip
    if content.intro.strip():
        lines += ["", content.intro.strip()]
    lines += ["", _("📅 <b>Events this month</b>")]
    if content.events:
        for event in content.events:
            lines.append(
                _("• {when} — <b>{title}</b> ({place}; {organiser})").format(
                    when=event_time(event.starts_at, locale),
                    title=escape(event.title),
                    place=escape(event.place),
                    organiser=escape(event.organiser),
                )
            )
    else:
        lines.append(_("No events are announced for this month yet."))
    lines += ["", _("📌 <b>Current projects</b>")]
    if content.projects:
        for project in content.projects:
            line = _("• <b>{title}</b> — {organisations}, until {until}").format(
                title=escape(project.title),
                organisations=escape(project.organisations),
                until=long_date(project.active_until, locale),
            )
            if project.description:
                line += f". {escape(' '.join(project.description.split()))}"
            if project.link:
                line += f' <a href="{escape(project.link)}">{escape(project.link)}</a>'
            lines.append(line)
    else:
        lines.append(_("No current projects."))
    if content.results:
        lines += ["", _("🎯 <b>Targets of the plan reached</b>")]
        for result in content.results:
            lines.append(
                _("• {description} (measure {code}, {year})").format(
                    description=escape(result.description),
                    code=result.measure_code,
                    year=result.year,
                )
            )
    lines += ["", _("Events: /events · projects: /projects · past issues: /newsletters")]
    return split_message("\n".join(lines))


def as_text(parts: Sequence[str]) -> str:
    """An issue for a terminal: the messages one after another, separated by a rule."""
    return ("\n" + "─" * 40 + "\n").join(parts)


# -- reading it from the database --------------------------------------------------------------


async def gather(
    db: Database,
    plan: Plan,
    month: str,
    now: datetime,
    timezone: ZoneInfo,
    intro: str = "",
) -> IssueContent:
    """The month's content as it stood in that month: its events, the projects running and
    known then, and the targets newly met by then (no anachronisms when a past month is
    composed: nothing added, and no activity dated, after the month's end)."""
    start = month_start(month, timezone)
    end = month_start(next_month(month), timezone)
    # What the issue may know: the moment it is composed, but never later than its month.
    moment = min(now, end)
    known = moment.astimezone(timezone).date()
    if moment >= end:
        known = (end - timedelta(days=1)).date()
    async with db.read() as repo:
        records = await repo.events.upcoming(min(now, start))
        projects = await repo.projects.active(max(known, start.date()), added_before=moment)
        counted = [a for a in await repo.activities.counted(plan.id) if a.date <= known]
        announced = await repo.newsletters.announced_before(month)
    events = events_of_month(
        (
            IssueEvent(e.title, e.starts_at.astimezone(timezone), e.place, e.organiser)
            for e in records
        ),
        month,
        timezone,
    )
    # The year's progress as of then; in January also the year just closed, so that a target
    # met in its last month is announced too.
    years = sorted({known.year, (start - timedelta(days=1)).year})
    progress = [p for year in years for p in plan_progress(plan, counted, year, known)]
    return IssueContent(
        month=month,
        intro=intro,
        events=events,
        projects=tuple(
            IssueProject(p.title, p.organisations, p.description, p.link, p.active_until)
            for p in projects
        ),
        results=reached_results(progress, announced),
    )
