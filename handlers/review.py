"""Coordinators review activity reports: /pending; approve, return, reject, mark duplicates."""

from __future__ import annotations

from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _

from db import Database
from db.activity_reports import ActivityRecord
from handlers import commands
from handlers.reply import answer, drop_keyboard
from handlers.review_views import (
    ReviewCb,
    interested,
    report_lines,
    review_keyboard,
    send_evidence,
    status_label,
)
from handlers.roles import COORDINATOR, HasRole, guard, refuse_non_coordinator
from plan import Plan
from plan.clock import Clock
from plan.progress import IndicatorProgress, met_pairs, newly_met, plan_progress
from plan.validation import MAX_DESCRIPTION, InputError, clean_text, parse_whole
from scheduler.notifier import Notifier

PENDING_SHOWN = 10


class ReviewForm(StatesGroup):
    comment = State()
    original = State()


async def cmd_pending(message: Message, db: Database, plan: Plan, event_from_user: User) -> None:
    async with db.read() as repo:
        waiting = await repo.reports.pending()
    # Four eyes: a coordinator's own organisation's reports are for the other coordinators.
    pending = []
    others = 0
    for record in waiting:
        if event_from_user.id in await interested(db, record):
            others += 1
        else:
            pending.append(record)
    if others:
        await answer(
            message,
            _("Reports of your own organisation waiting for another coordinator: {n}.").format(
                n=others
            ),
        )
    if not pending:
        await answer(message, _("No reports are waiting for review. 🎉"))
        return
    await answer(
        message,
        _("Reports waiting for review: {n}").format(
            n=f"{PENDING_SHOWN}+" if len(pending) > PENDING_SHOWN else len(pending)
        ),
    )
    for record in pending[:PENDING_SHOWN]:
        await answer(message, "\n".join(report_lines(plan, record)), review_keyboard(record.id))
        if message.bot is not None:
            await send_evidence(message.bot, message.chat.id, record)


async def on_decision(
    query: CallbackQuery,
    callback_data: ReviewCb,
    state: FSMContext,
    db: Database,
    plan: Plan,
    bot: Bot,
    clock: Clock,
    notifier: Notifier,
    event_from_user: User,
) -> None:
    async with db.read() as repo:
        record = await repo.reports.get(callback_data.activity_id)
    if record is None:
        await query.answer(_("There is no such report."), show_alert=True)
        return
    if event_from_user.id in await interested(db, record):
        await query.answer(
            _(
                "Report №{id} is from your own organisation: another coordinator decides on it."
            ).format(id=record.id),
            show_alert=True,
        )
        return
    if record.status != "submitted":
        await query.answer(
            _("Report №{id} is already decided: {status}.").format(
                id=record.id, status=status_label(record.status)
            ),
            show_alert=True,
        )
        return
    if callback_data.action == "approve":
        await query.answer()
        await _decide(
            query, db, plan, bot, clock, notifier, event_from_user.id, record, "approve", None
        )
        return
    if callback_data.action in ("return", "reject"):
        await state.set_state(ReviewForm.comment)
        await state.set_data({"activity_id": record.id, "decision": callback_data.action})
        await query.answer()
        prompt = (
            _("Why is report №{id} returned? Write what to correct; the organisation will see it.")
            if callback_data.action == "return"
            else _("Why is report №{id} rejected? The organisation will see your reason.")
        )
        await bot.send_message(
            event_from_user.id,
            prompt.format(id=record.id) + "\n" + _("/cancel to leave it undecided."),
        )
        return
    if callback_data.action == "duplicate":
        await state.set_state(ReviewForm.original)
        await state.set_data({"activity_id": record.id})
        await query.answer()
        await bot.send_message(
            event_from_user.id,
            _(
                "Report №{id} describes the same event as which report? Send that report's "
                "number; it will be counted once and credited to both organisations. "
                "/cancel to leave it undecided."
            ).format(id=record.id),
        )
        return
    await query.answer(_("This button is out of date."), show_alert=True)


async def on_comment(
    message: Message,
    state: FSMContext,
    db: Database,
    plan: Plan,
    bot: Bot,
    clock: Clock,
    notifier: Notifier,
    event_from_user: User,
) -> None:
    try:
        comment = clean_text(message.text or "", limit=MAX_DESCRIPTION)
    except InputError:
        await answer(
            message,
            _("Please write a comment of up to {limit} characters.").format(limit=MAX_DESCRIPTION),
        )
        return
    data = await state.get_data()
    await state.clear()
    async with db.read() as repo:
        record = await repo.reports.get(int(data["activity_id"]))
    if record is None:
        return
    await _decide(
        message,
        db,
        plan,
        bot,
        clock,
        notifier,
        event_from_user.id,
        record,
        data["decision"],
        comment,
    )


async def on_original(
    message: Message,
    state: FSMContext,
    db: Database,
    plan: Plan,
    bot: Bot,
    notifier: Notifier,
    event_from_user: User,
) -> None:
    try:
        original_id = parse_whole((message.text or "").lstrip("№#"), minimum=1, maximum=10**9)
    except InputError:
        await answer(message, _("Please send the report's number, e.g. 12."))
        return
    data = await state.get_data()
    activity_id = int(data["activity_id"])
    async with db.transaction() as repo:
        marked = await repo.reports.mark_duplicate(
            activity_id, original_id, actor=event_from_user.id
        )
        record = await repo.reports.get(activity_id)
    if not marked or record is None:
        await answer(
            message,
            _(
                "Report №{original} cannot be the original of №{id}: it must exist, be another "
                "report for the same result, and not be a duplicate itself. Send another number "
                "or /cancel."
            ).format(original=original_id, id=activity_id),
        )
        return
    await state.clear()
    await answer(
        message,
        _("Report №{id} is counted once with №{original}.").format(
            id=activity_id, original=original_id
        ),
    )
    await _tell_organisation(bot, db, plan, notifier, record)


async def on_review_cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await answer(message, _("Left undecided. The report stays in /pending."))


async def _decide(
    event: CallbackQuery | Message,
    db: Database,
    plan: Plan,
    bot: Bot,
    clock: Clock,
    notifier: Notifier,
    actor: int,
    record: ActivityRecord,
    decision: str,
    comment: str | None,
) -> None:
    async with db.transaction() as repo:
        changed = await repo.reports.decide(record.id, decision, actor=actor, comment=comment)
        updated = await repo.reports.get(record.id)
    chat_id = (
        event.message.chat.id if isinstance(event, CallbackQuery) and event.message else actor
    )
    if not changed or updated is None:
        await bot.send_message(
            chat_id, _("Report №{id} was already decided by someone else.").format(id=record.id)
        )
        return
    await bot.send_message(
        chat_id,
        _("Report №{id}: {status}.").format(id=record.id, status=status_label(updated.status)),
    )
    if isinstance(event, CallbackQuery) and isinstance(event.message, Message):
        await drop_keyboard(event.message)
    await _tell_organisation(bot, db, plan, notifier, updated)
    if decision == "approve":
        for reached in await _reached_by(db, plan, clock, record):
            await _celebrate(bot, db, plan, notifier, reached)


async def _reached_by(
    db: Database, plan: Plan, clock: Clock, record: ActivityRecord
) -> list[IndicatorProgress]:
    """The indicators this approval newly met in its year: its own, and through `part_of`
    the whole it is part of. The plan's rule (`newly_met`), with and without the report."""
    async with db.read() as repo:
        counted = await repo.activities.counted(plan.id)
    year, today = record.date.year, clock.today()
    before = plan_progress(plan, [a for a in counted if a.id != record.id], year, today)
    return newly_met(plan_progress(plan, counted, year, today), met_pairs(before))


async def _tell_organisation(
    bot: Bot, db: Database, plan: Plan, notifier: Notifier, record: ActivityRecord
) -> None:
    def compose() -> str:
        text = "\n".join([_("Your report was reviewed."), "", *report_lines(plan, record)])
        if record.status == "returned":
            text += "\n\n" + _("Correct it in /myreports and send it again.")
        return text

    await notifier.tell(bot, await interested(db, record), compose)


async def _celebrate(
    bot: Bot, db: Database, plan: Plan, notifier: Notifier, reached: IndicatorProgress
) -> None:
    indicator = reached.indicator
    # Those who reported a part ("в т.ч.": the ТОТ of 1.1.1's six) contributed to the whole.
    counted_for = [
        indicator.id,
        *(i.id for i in plan.indicators if indicator in plan.wholes_of(i)),
    ]
    async with db.read() as repo:
        organisations = {
            o for i in counted_for for o in await repo.reports.contributors(plan.id, i)
        }
        people: set[int] = set()
        for organisation_id in organisations:
            people.update(await repo.memberships.members_of(organisation_id))
    await notifier.tell(
        bot,
        people,
        lambda: _(
            "🎉 Indicator achieved: «{description}» (measure {code}) for {year}. Thank you for "
            "your contribution!"
        ).format(
            description=escape(indicator.description),
            code=indicator.measure_code,
            year=reached.year,
        ),
    )


async def on_not_coordinator(event: Message | CallbackQuery) -> None:
    await refuse_non_coordinator(event)


def build_router() -> Router:
    router = Router(name=__name__)
    coordinators = Router(name=f"{__name__}.coordinators")
    guard(coordinators, HasRole(COORDINATOR))
    coordinators.message.register(cmd_pending, commands.PENDING.filter)
    coordinators.callback_query.register(on_decision, ReviewCb.filter())
    coordinators.message.register(
        on_review_cancel,
        commands.CANCEL.filter,
        StateFilter(ReviewForm.comment, ReviewForm.original),
    )
    coordinators.message.register(
        on_comment, StateFilter(ReviewForm.comment), ~F.text.startswith("/")
    )
    coordinators.message.register(
        on_original, StateFilter(ReviewForm.original), ~F.text.startswith("/")
    )
    # Everyone else: a clear refusal, and nothing changes. (A router tries its own handlers
    # before its children's, so this is a child router placed after the coordinators'.)
    others = Router(name=f"{__name__}.others")
    others.message.register(on_not_coordinator, commands.PENDING.filter)
    others.callback_query.register(on_not_coordinator, ReviewCb.filter())
    router.include_routers(coordinators, others)
    return router
