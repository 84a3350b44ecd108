"""/progress: the plan's progress for a year, public: totals and a line per indicator, no names."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from html import escape

from aiogram import Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from db import Database
from formats.site import SiteLinks
from handlers import commands
from handlers.keyboards import rows
from handlers.plan_views import short, site_button
from handlers.reply import answer, show
from plan import Plan
from plan.clock import Clock
from plan.plans import Plans
from plan.progress import (
    ACHIEVED,
    BEHIND,
    NOT_MET,
    NOT_STARTED,
    ON_TRACK,
    STATUSES,
    IndicatorProgress,
    awaiting_verification,
    plan_progress,
    summarize,
)
from plan.report import STATUS_SYMBOL

STATUS_EMOJI = STATUS_SYMBOL
_TITLE_CHARS = 60


async def year_progress(
    db: Database, plan: Plan, year: int, today: date
) -> tuple[list[IndicatorProgress], int]:
    """The year's progress by the plan's rules, and how many approved activities wait for
    their organisation's verification (they do not count until then)."""
    async with db.read() as repo:
        counted = await repo.activities.counted(plan.id)
    return plan_progress(plan, counted, year, today), awaiting_verification(plan, counted)


class ProgressCb(CallbackData, prefix="prg"):
    year: int


def status_name(status: str) -> str:
    names = {
        ACHIEVED: _("achieved"),
        NOT_MET: _("not achieved"),
        ON_TRACK: _("on track"),
        BEHIND: _("behind"),
        NOT_STARTED: _("not started"),
    }
    return names.get(status, status)


def status_legend() -> str:
    return " ".join(f"{STATUS_EMOJI[s]} {status_name(s)}" for s in STATUSES)


def actual_of_target(p: IndicatorProgress) -> str:
    """actual/target, or the months met of a monthly indicator: "9 of 12 months"."""
    if p.months_total is not None:
        return ngettext(
            "{met} of {total} month", "{met} of {total} months", p.months_total
        ).format(met=p.months_met or 0, total=p.months_total)
    return f"{p.actual}/{p.target}"


def year_buttons(
    years: Iterable[int], year: int, data: Callable[[int], CallbackData]
) -> list[InlineKeyboardButton]:
    """A button per year (of a plan, or of every plan loaded); the one shown is marked."""
    return [
        InlineKeyboardButton(
            text=f"• {y} •" if y == year else str(y), callback_data=data(y).pack()
        )
        for y in years
    ]


def progress_text(plan: Plan, year: int, progress: Sequence[IndicatorProgress]) -> str:
    summaries = summarize(progress, plan)
    whole = summaries[""]
    lines = [
        _("<b>Progress of the plan in {year}</b>").format(year=year),
        _("Indicators met: <b>{met} of {total}</b>").format(met=whole.met, total=whole.total),
        "",
    ]
    for direction in plan.directions:
        s = summaries[direction.code]
        lines.append(
            _("Direction {code}: {met} of {total}").format(
                code=direction.code, met=s.met, total=s.total
            )
        )
    by_direction: dict[str, list[IndicatorProgress]] = {}
    for p in progress:
        measure = plan.measure(p.indicator.measure_code)
        if measure is not None:
            by_direction.setdefault(measure.direction_code, []).append(p)
    for direction in plan.directions:
        lines += ["", f"<b>{direction.code}. {escape(short(direction.title, _TITLE_CHARS))}</b>"]
        for p in by_direction.get(direction.code, []):
            description = escape(short(p.indicator.description, _TITLE_CHARS))
            lines.append(
                f"{STATUS_EMOJI.get(p.status, '')} {p.indicator.measure_code} {description}: "
                f"{actual_of_target(p)}"
            )
    lines += ["", status_legend()]
    return "\n".join(lines)


def progress_keyboard(
    years: Iterable[int], year: int, page: InlineKeyboardButton | None = None
) -> InlineKeyboardMarkup:
    return rows(
        year_buttons(years, year, lambda y: ProgressCb(year=y)), [page] if page is not None else []
    )


async def _view(
    db: Database, plans: Plans, plan: Plan, year: int, clock: Clock, site: SiteLinks, chat: Chat
) -> tuple[str, InlineKeyboardMarkup]:
    progress, _waiting = await year_progress(db, plan, year, clock.today())
    url = site.plan(plan.id, year)
    # The same numbers, on the public website, when it is published (WEB_PUBLIC_URL).
    page = site_button(url, site, chat.type == "private") if url else None
    return progress_text(plan, year, progress), progress_keyboard(plans.years, year, page)


async def cmd_progress(
    message: Message, plans: Plans, db: Database, clock: Clock, site: SiteLinks
) -> None:
    today = clock.today()
    year = plans.report_year(today)
    plan = plans.for_year(year) or plans.current(today)
    await answer(message, *await _view(db, plans, plan, year, clock, site, message.chat))


async def on_progress_year(
    query: CallbackQuery,
    callback_data: ProgressCb,
    plans: Plans,
    db: Database,
    clock: Clock,
    site: SiteLinks,
) -> None:
    plan = plans.for_year(callback_data.year)
    if plan is None or query.message is None:
        await query.answer(_("This button is out of date. Send /progress again."))
        return
    chat = query.message.chat
    await show(query, *await _view(db, plans, plan, callback_data.year, clock, site, chat))


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_progress, commands.PROGRESS.filter)
    router.callback_query.register(on_progress_year, ProgressCb.filter())
    return router
