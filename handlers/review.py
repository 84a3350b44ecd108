"""Coordinators decide on activity reports: approve, return, reject, mark duplicates."""

from __future__ import annotations

import logging
from html import escape

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _

from db import Database, Repositories
from db.activity_reports import ActivityRecord
from handlers import commands, pending
from handlers.dialog import enter
from handlers.reply import answer, drop_keyboard
from handlers.review_views import (
    ReviewCb,
    interested,
    interested_in,
    report_lines,
    report_subject,
    reporter_of,
    status_label,
)
from handlers.roles import COORDINATOR, HasRole, guard, refuse_non_coordinator
from handlers.routing import TYPED
from plan import Plan
from plan.clock import Clock
from plan.progress import IndicatorProgress, met_pairs, newly_met, plan_progress
from plan.validation import MAX_DESCRIPTION, InputError, clean_text, parse_whole
from scheduler.notifier import Notifier

log = logging.getLogger(__name__)

_CARD = "card"  # FSM data: [chat, message] of the card whose buttons were pressed


def _card_of(query: CallbackQuery) -> list[int] | None:
    return [query.message.chat.id, query.message.message_id] if query.message else None


def _as_pair(card: list[int] | None) -> tuple[int, int] | None:
    return (card[0], card[1]) if card else None


def _pressed(event: CallbackQuery | Message) -> tuple[int, int] | None:
    """The card already dealt with: the one pressed (approve) or whose comment was asked."""
    if isinstance(event, CallbackQuery):
        return _as_pair(_card_of(event))
    return None


async def _drop_card(bot: Bot, card: tuple[int, int] | None) -> None:
    """The decision is taken: the card's buttons go (a comment was typed after pressing)."""
    if not card:
        return
    try:
        await bot.edit_message_reply_markup(chat_id=card[0], message_id=card[1])
    except TelegramBadRequest as e:
        log.info("the buttons of card %s stay: %s", card, e.message)


class ReviewForm(StatesGroup):
    comment = State()
    original = State()


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
        if isinstance(query.message, Message):
            await drop_keyboard(query.message)  # another coordinator's decision came first
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
        await enter(
            state,
            ReviewForm.comment,
            {"activity_id": record.id, "decision": callback_data.action, _CARD: _card_of(query)},
        )
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
        await enter(state, ReviewForm.original, {"activity_id": record.id, _CARD: _card_of(query)})
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
        _as_pair(data.get(_CARD)),
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
        told = (
            await _enqueue_outcome(repo, plan, notifier, record)
            if marked and record is not None
            else []
        )
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
    card = _as_pair(data.get(_CARD))
    await _drop_card(bot, card)
    await notifier.deliver(bot, told)
    await notifier.retire(bot, report_subject(activity_id), card)


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
    card: tuple[int, int] | None = None,
) -> None:
    """Decide; `card` is the card whose button asked for the comment, if one was typed."""
    # The decision and every message that follows from it commit together: a crash after the
    # commit loses none of them, and the outbox sends each once.
    async with db.transaction() as repo:
        changed = await repo.reports.decide(record.id, decision, actor=actor, comment=comment)
        updated = await repo.reports.get(record.id)
        told: list[int] = []
        if changed and updated is not None:
            told = await _enqueue_outcome(repo, plan, notifier, updated)
            if decision == "approve":
                for reached in await _reached_by(repo, plan, clock, record):
                    told += await _enqueue_celebration(repo, plan, notifier, reached)
    chat_id = (
        event.message.chat.id if isinstance(event, CallbackQuery) and event.message else actor
    )
    if isinstance(event, CallbackQuery) and isinstance(event.message, Message):
        await drop_keyboard(event.message)
    if not changed or updated is None:
        await bot.send_message(
            chat_id, _("Report №{id} was already decided by someone else.").format(id=record.id)
        )
        return
    await bot.send_message(
        chat_id,
        _("Report №{id}: {status}.").format(id=record.id, status=status_label(updated.status)),
    )
    await notifier.deliver(bot, told)
    if card is not None:
        await _drop_card(bot, card)
    # The other coordinators' copies of the card lose their buttons too.
    await notifier.retire(bot, report_subject(record.id), _pressed(event) or card)


async def _reached_by(
    repo: Repositories, plan: Plan, clock: Clock, record: ActivityRecord
) -> list[IndicatorProgress]:
    """The indicators this approval newly met in its year: its own, and through `part_of`
    the whole it is part of. The plan's rule (`newly_met`), with and without the report."""
    counted = await repo.activities.counted(plan.id)
    year, today = record.date.year, clock.today()
    before = plan_progress(plan, [a for a in counted if a.id != record.id], year, today)
    return newly_met(plan_progress(plan, counted, year, today), met_pairs(before))


async def _enqueue_outcome(
    repo: Repositories, plan: Plan, notifier: Notifier, record: ActivityRecord
) -> list[int]:
    """The organisation's members and the reporter hear the decision (in the outbox)."""
    reporter = await reporter_of(repo, record)

    def compose() -> str:
        lines = report_lines(plan, record, reporter)
        text = "\n".join([_("Your report was reviewed."), "", *lines])
        if record.status == "returned":
            text += "\n\n" + _("Correct it in /myreports and send it again.")
        return text

    return await notifier.enqueue(
        repo, await interested_in(repo, record), compose, "report decided"
    )


async def _enqueue_celebration(
    repo: Repositories, plan: Plan, notifier: Notifier, reached: IndicatorProgress
) -> list[int]:
    """Everyone whose organisation contributed hears that a target was met (in the outbox)."""
    indicator = reached.indicator
    # Those who reported a part ("в т.ч.": the ТОТ of 1.1.1's six) contributed to the whole.
    counted_for = [
        indicator.id,
        *(i.id for i in plan.indicators if indicator in plan.wholes_of(i)),
    ]
    organisations = {o for i in counted_for for o in await repo.reports.contributors(plan.id, i)}
    people: set[int] = set()
    for organisation_id in organisations:
        people.update(await repo.memberships.members_of(organisation_id))
    return await notifier.enqueue(
        repo,
        people,
        lambda: _(
            "🎉 Indicator achieved: «{description}» (measure {code}) for {year}. Thank you for "
            "your contribution!"
        ).format(
            description=escape(indicator.description),
            code=indicator.measure_code,
            year=reached.year,
        ),
        "target reached",
    )


async def on_not_coordinator(event: Message | CallbackQuery) -> None:
    await refuse_non_coordinator(event)


def build_router() -> Router:
    router = Router(name=__name__)
    coordinators = Router(name=f"{__name__}.coordinators")
    guard(coordinators, HasRole(COORDINATOR))
    coordinators.message.register(pending.cmd_pending, commands.PENDING.filter)
    coordinators.callback_query.register(on_decision, ReviewCb.filter())
    coordinators.message.register(
        on_review_cancel,
        commands.CANCEL.filter,
        StateFilter(ReviewForm.comment, ReviewForm.original),
    )
    coordinators.message.register(on_comment, StateFilter(ReviewForm.comment), TYPED)
    coordinators.message.register(on_original, StateFilter(ReviewForm.original), TYPED)
    # Everyone else: a clear refusal, and nothing changes. (A router tries its own handlers
    # before its children's, so this is a child router placed after the coordinators'.)
    others = Router(name=f"{__name__}.others")
    others.message.register(on_not_coordinator, commands.PENDING.filter)
    others.callback_query.register(on_not_coordinator, ReviewCb.filter())
    router.include_routers(coordinators, others)
    return router
