"""/report for coordinators: a year's summary, drill-down to measures, a chart and file exports."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from html import escape

from aiogram import Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.context import get_i18n
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db import Database, ExportRow
from formats.dates import short_date
from handlers import commands
from handlers.plan_views import short
from handlers.progress import (
    STATUS_EMOJI,
    actual_of_target,
    status_name,
    year_buttons,
    year_progress,
)
from handlers.reply import ChatAction, answer, echo, preparing, show
from handlers.report_chart import progress_chart
from handlers.roles import COORDINATOR, HasRole, guard
from plan import Measure, Plan
from plan.clock import Clock
from plan.plans import Plans
from plan.progress import (
    STATUSES,
    CountedActivity,
    IndicatorProgress,
    Summary,
    contributing,
    summarize,
    summarize_by,
)

MAX_ACTIVITIES = 5  # per indicator on a measure's screen; the exports have them all
_TITLE_CHARS = 50
_CAPTION_LIMIT = 1024


class ReportLevel(StrEnum):
    summary = "s"
    direction = "d"
    task = "t"
    measure = "m"


class ReportCb(CallbackData, prefix="rep"):
    """A screen of the report: `code` is a direction, task or measure code (empty: summary)."""

    level: ReportLevel
    year: int
    code: str = ""


class ReportFile(StrEnum):
    chart = "png"
    csv = "csv"
    xlsx = "xlsx"
    json = "json"
    docx = "docx"  # the year's report for the public review of measure 1.2.1


class ReportFileCb(CallbackData, prefix="repf"):
    kind: ReportFile
    year: int


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=short(text), callback_data=data.pack())


def _met(s: Summary) -> str:
    return _("{met} of {total}").format(met=s.met, total=s.total)


def _back(year: int, level: ReportLevel = ReportLevel.summary, code: str = "") -> ReportCb:
    return ReportCb(level=level, year=year, code=code)


def summary_view(
    plan: Plan,
    year: int,
    progress: Sequence[IndicatorProgress],
    waiting: int = 0,
    years: Sequence[int] = (),
) -> tuple[str, InlineKeyboardMarkup]:
    """The year's summary; `years` are those of every plan loaded (default: this plan's)."""
    summaries = summarize(progress, plan)
    by_status = {s: sum(1 for p in progress if p.status == s) for s in STATUSES}
    lines = [
        _("<b>Report on the plan for {year}</b>").format(year=year),
        _("Indicators met: <b>{met} of {total}</b>").format(
            met=summaries[""].met, total=summaries[""].total
        ),
        "",
        *(f"{STATUS_EMOJI[s]} {status_name(s)}: {by_status[s]}" for s in STATUSES),
    ]
    if waiting:
        lines += [
            "",
            _(
                "⏳ Activities waiting for their organisation's verification: {n}. They count "
                "once a coordinator verifies the organisation (/organisations)."
            ).format(n=waiting),
        ]
    lines += [
        "",
        _("<b>By direction</b>"),
    ]
    builder = InlineKeyboardBuilder()
    for direction in plan.directions:
        s = summaries[direction.code]
        title = escape(short(direction.title, _TITLE_CHARS))
        lines.append(f"{direction.code}. {title}: {_met(s)}")
        builder.row(
            _button(
                f"{direction.code}. {direction.title} ({s.met}/{s.total})",
                ReportCb(level=ReportLevel.direction, year=year, code=direction.code),
            )
        )
    builder.row(_button(_("📊 Chart"), ReportFileCb(kind=ReportFile.chart, year=year)))
    builder.row(
        _button("CSV", ReportFileCb(kind=ReportFile.csv, year=year)),
        _button("XLSX", ReportFileCb(kind=ReportFile.xlsx, year=year)),
        _button("JSON", ReportFileCb(kind=ReportFile.json, year=year)),
        _button("DOCX", ReportFileCb(kind=ReportFile.docx, year=year)),
    )
    builder.row(*year_buttons(years or plan.years, year, _back))
    return "\n".join(lines), builder.as_markup()


def direction_view(
    plan: Plan, year: int, code: str, progress: Sequence[IndicatorProgress]
) -> tuple[str, InlineKeyboardMarkup] | None:
    direction = plan.direction(code)
    if direction is None:
        return None
    by_task = summarize_by(progress, plan, "task")
    whole = summarize(progress, plan)[code]
    lines = [
        _("<b>Direction {code}, {year}</b>").format(code=escape(code), year=year),
        escape(direction.title),
        _("Indicators met: <b>{met} of {total}</b>").format(met=whole.met, total=whole.total),
        "",
    ]
    builder = InlineKeyboardBuilder()
    for task in direction.tasks:
        s = by_task[task.code]
        lines.append(f"{task.code}. {escape(short(task.title, _TITLE_CHARS))}: {_met(s)}")
        builder.row(
            _button(
                f"{task.code}. {task.title} ({s.met}/{s.total})",
                ReportCb(level=ReportLevel.task, year=year, code=task.code),
            )
        )
    builder.row(_button(_("⬆ Summary"), _back(year)))
    return "\n".join(lines), builder.as_markup()


def task_view(
    plan: Plan, year: int, code: str, progress: Sequence[IndicatorProgress]
) -> tuple[str, InlineKeyboardMarkup] | None:
    task = plan.task(code)
    if task is None:
        return None
    by_measure = summarize_by(progress, plan, "measure")
    whole = summarize_by(progress, plan, "task")[code]
    lines = [
        _("<b>Task {code}, {year}</b>").format(code=escape(code), year=year),
        escape(task.title),
        _("Indicators met: <b>{met} of {total}</b>").format(met=whole.met, total=whole.total),
        "",
    ]
    builder = InlineKeyboardBuilder()
    for measure in task.measures:
        s = by_measure[measure.code]
        lines.append(f"{measure.code}. {escape(short(measure.title, _TITLE_CHARS))}: {_met(s)}")
        builder.row(
            _button(
                f"{measure.code}. {measure.title} ({s.met}/{s.total})",
                ReportCb(level=ReportLevel.measure, year=year, code=measure.code),
            )
        )
    builder.row(
        _button(
            _("⬅ Direction {code}").format(code=task.direction_code),
            _back(year, ReportLevel.direction, task.direction_code),
        ),
        _button(_("⬆ Summary"), _back(year)),
    )
    return "\n".join(lines), builder.as_markup()


def _activity_line(row: ExportRow) -> str:
    day = short_date(date.fromisoformat(row.date), get_i18n().current_locale)
    # A joint activity is credited to every organisation that ran it.
    names = ", ".join(echo(name, 60) for name in row.organisations)
    line = f"  – {day} · {echo(row.title, 80)} · <i>{names}</i>"
    if row.quantity > 1:
        line += f" (×{row.quantity})"
    return line


def measure_view(
    plan: Plan,
    year: int,
    code: str,
    progress: Sequence[IndicatorProgress],
    activities: dict[str, list[ExportRow]],
) -> tuple[str, InlineKeyboardMarkup] | None:
    measure = plan.measure(code)
    if measure is None:
        return None
    lines = [
        _("<b>Measure {code}, {year}</b>").format(code=escape(code), year=year),
        escape(measure.title),
    ]
    for p in progress:
        if p.indicator.measure_code != code:
            continue
        lines += [
            "",
            f"{STATUS_EMOJI.get(p.status, '')} <b>{escape(p.indicator.description)}</b>",
            _("Actual/target: {value} — {status}").format(
                value=actual_of_target(p), status=status_name(p.status)
            ),
        ]
        rows = activities.get(p.indicator.id, [])
        if not rows:
            lines.append(_("No activities counted."))
            continue
        lines.append(_("Activities counted:"))
        lines += [_activity_line(r) for r in rows[:MAX_ACTIVITIES]]
        if len(rows) > MAX_ACTIVITIES:
            lines.append("  " + _("…and {n} more").format(n=len(rows) - MAX_ACTIVITIES))
    builder = InlineKeyboardBuilder()
    builder.row(
        _button(
            _("⬅ Task {code}").format(code=measure.task_code),
            _back(year, ReportLevel.task, measure.task_code),
        ),
        _button(_("⬆ Summary"), _back(year)),
    )
    return "\n".join(lines), builder.as_markup()


def counted_rows(
    plan: Plan,
    measure: Measure,
    rows: Sequence[ExportRow],
    counted: Sequence[CountedActivity],
    year: int,
) -> dict[str, list[ExportRow]]:
    """The activities that make up each indicator's actual in `year`, as the engine chose them."""
    by_id = {row.id: row for row in rows}
    return {
        i.id: [by_id[a.id] for a in contributing(plan, i, counted, year) if a.id in by_id]
        for i in measure.indicators
    }


async def cmd_report(message: Message, plans: Plans, db: Database, clock: Clock) -> None:
    today = clock.today()
    year = plans.report_year(today)
    plan = plans.for_year(year) or plans.current(today)
    progress, waiting = await year_progress(db, plan, year, today)
    await answer(message, *summary_view(plan, year, progress, waiting, plans.years))


async def _stale(query: CallbackQuery) -> None:
    await query.answer(_("This button is out of date. Send /report again."), show_alert=True)


async def on_report_screen(
    query: CallbackQuery, callback_data: ReportCb, plans: Plans, db: Database, clock: Clock
) -> None:
    year, code = callback_data.year, callback_data.code
    plan = plans.for_year(year)
    if plan is None:
        await _stale(query)
        return
    progress, waiting = await year_progress(db, plan, year, clock.today())
    level = callback_data.level
    view: tuple[str, InlineKeyboardMarkup] | None
    if level is ReportLevel.summary:
        view = summary_view(plan, year, progress, waiting, plans.years)
    elif level is ReportLevel.direction:
        view = direction_view(plan, year, code, progress)
    elif level is ReportLevel.task:
        view = task_view(plan, year, code, progress)
    else:
        measure = plan.measure(code)
        activities: dict[str, list[ExportRow]] = {}
        if measure is not None:
            async with db.read() as repos:
                rows = await repos.activities.export_rows(plan.id)
                counted = await repos.activities.counted(plan.id)
            activities = counted_rows(plan, measure, rows, counted, year)
        view = measure_view(plan, year, code, progress, activities)
    if view is None:
        await _stale(query)
        return
    await show(query, *view)


async def on_report_file(
    query: CallbackQuery, callback_data: ReportFileCb, plans: Plans, db: Database, clock: Clock
) -> None:
    year = callback_data.year
    plan = plans.for_year(year)
    if plan is None or query.bot is None:
        await _stale(query)
        return
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    progress, waiting = await year_progress(db, plan, year, clock.today())
    whole = summarize(progress, plan)[""]
    kind = callback_data.kind
    if kind is ReportFile.chart:
        await query.answer(_("Drawing the chart…"))
        title = _("Progress of indicators in {year}").format(year=year)
        caption = "\n".join(
            [
                _("Indicators met in {year}: {met} of {total}.").format(
                    year=year, met=whole.met, total=whole.total
                ),
                _(
                    "Each bar is the actual against the target, capped at 100%; a monthly "
                    "indicator's bar is its months met."
                ),
                " ".join(f"{STATUS_EMOJI[s]} {status_name(s)}" for s in STATUSES),
            ]
        )
        async with preparing(query.bot, chat_id, ChatAction.UPLOAD_PHOTO):
            # The thread gets a copy of this context, so the figures are in the reader's language.
            png = await asyncio.to_thread(progress_chart, progress, title, actual_of_target)
            await query.bot.send_photo(
                chat_id,
                BufferedInputFile(png, filename=f"progress-{year}.png"),
                caption=caption[:_CAPTION_LIMIT],
            )
        return
    # python-docx and openpyxl (with numpy and Pillow) are imported when the first file is
    # made, not at every start-up of the bot.
    from handlers.report_docx import docx_bytes
    from handlers.report_files import csv_bytes, json_bytes, xlsx_bytes

    async with preparing(query.bot, chat_id):
        if kind is ReportFile.docx:
            await query.answer(_("Preparing the document…"))
            async with db.read() as repos:
                activities = await repos.public.activities(plan.id, year)
            # python-docx and the chart take a second or two: off the event loop.
            data = await asyncio.to_thread(
                docx_bytes, plan, year, progress, activities, clock.today()
            )
            caption = _("The report for {year} as a document for the public review.")
        elif kind is ReportFile.json:
            data = json_bytes(plan, year, progress, waiting)
            caption = _("The report for {year} as JSON, for programs and data journalists.")
        elif kind is ReportFile.xlsx:
            data = await asyncio.to_thread(xlsx_bytes, plan, year, progress, clock.today())
            caption = _("The report for {year}, laid out like Annex 4.")
        else:
            data = csv_bytes(plan, year, progress, clock.today())
            caption = _("The report for {year}, laid out like Annex 4.")
        if kind is not ReportFile.docx:
            await query.answer()
        await query.bot.send_document(
            chat_id,
            BufferedInputFile(data, filename=f"report-{year}.{kind.value}"),
            caption=caption.format(year=year),
        )


async def refuse_report(message: Message) -> None:
    await answer(message, _refusal())


async def refuse_report_button(query: CallbackQuery) -> None:
    await query.answer(_refusal(), show_alert=True)


def _refusal() -> str:
    return _(
        "Reports are for the plan's coordinators. Everyone can see the plan's progress: /progress"
    )


def build_router() -> Router:
    router = Router(name=__name__)
    coordinators = Router(name=f"{__name__}.coordinators")
    # Checked at router level: a forged button from anyone else matches nothing here.
    guard(coordinators, HasRole(COORDINATOR))
    coordinators.message.register(cmd_report, commands.REPORT.filter)
    coordinators.callback_query.register(on_report_screen, ReportCb.filter())
    coordinators.callback_query.register(on_report_file, ReportFileCb.filter())
    others = Router(name=f"{__name__}.others")
    others.message.register(refuse_report, commands.REPORT.filter)
    others.callback_query.register(refuse_report_button, ReportCb.filter())
    others.callback_query.register(refuse_report_button, ReportFileCb.filter())
    router.include_routers(coordinators, others)
    return router
