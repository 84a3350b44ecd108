"""/activity: a CSO member reports an activity against an indicator of the plan, step by step.

The steps are declared in handlers/activity_form.py and run by the form engine; what is this
feature's own is how a finished report is submitted for review.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _

from db import Database
from db.activity_reports import ActivityReport
from db.coordinators import Coordinators
from handlers import commands
from handlers.activity_form import ACTIVITY, ActivityCb, Draft
from handlers.forms import CONFIRM, Act, refusal
from handlers.reply import answer, drop_keyboard
from handlers.review_views import deliver_submission, enqueue_submission
from handlers.roles import ReportsForOrganisation, guard
from plan import Plan
from plan.clock import Clock
from plan.plans import Plans
from plan.validation import InputError
from scheduler.notifier import Notifier

SUBMITTED = "submitted"  # FSM data after a submit: [the summary's message id, the report's id]


async def cmd_activity(message: Message, state: FSMContext, **deps: Any) -> None:
    if await ACTIVITY.resume_if_open(message, state, deps):
        return
    await ACTIVITY.start(message, state, deps, Draft())


def first_missing(draft: Draft, plan: Plan) -> str | None:
    """The first step a complete report still needs, if any."""
    indicator = plan.indicator(draft.indicator or "")
    if draft.measure is None:
        return "measure"
    if indicator is None:
        return "indicator"
    if draft.date is None:
        return "date"
    if draft.title is None:
        return "title"
    if draft.quantity is None:
        return "quantity"
    if indicator.min_participants is not None and (draft.cso is None or draft.council is None):
        return "cso"
    return None


async def on_submit(
    query: CallbackQuery,
    state: FSMContext,
    plan: Plan,
    plans: Plans,
    db: Database,
    bot: Bot,
    clock: Clock,
    coordinators: Coordinators,
    notifier: Notifier,
    event_from_user: User,
    organisation_id: int,
    **deps: Any,
) -> None:
    if not isinstance(query.message, Message):
        await query.answer()
        return
    deps.update(plan=plan, plans=plans, db=db, clock=clock)
    turn = await ACTIVITY.turn(state, query.message, deps, pressed=True)
    draft = turn.draft
    missing = first_missing(draft, plan)
    if missing is None and draft.date is not None:
        # A pre-filled report (from an event) or an older draft may carry a date the loaded plan
        # does not cover: check it again before anything is stored.
        try:
            plans.parse_date(draft.date, clock.today())
        except InputError as e:
            await query.answer()
            await answer(query.message, "⚠ " + refusal(e))
            missing = "date"
    if missing is not None:
        await query.answer()
        draft.editing = True
        await ACTIVITY.ask(turn, missing)
        return
    async with db.transaction() as repo:
        activity_id = await repo.reports.submit(
            _as_report(draft, plans, plan, organisation_id, event_from_user.id)
        )
        told = await enqueue_submission(
            repo, notifier, plan, activity_id, await coordinators.all()
        )
    await state.clear()
    # A second tap on this summary's "submit" (a double tap) finds the report already made.
    await state.set_data({SUBMITTED: [query.message.message_id, activity_id]})
    await query.answer()
    await drop_keyboard(query.message)
    await answer(
        query.message,
        _(
            "✅ Report №{id} was sent for review. You will be told the outcome; see /myreports."
        ).format(id=activity_id),
    )
    await deliver_submission(bot, db, notifier, activity_id, told)


async def on_submitted_again(query: CallbackQuery, state: FSMContext) -> None:
    summary, activity_id = (await state.get_data()).get(SUBMITTED) or (0, 0)
    if not isinstance(query.message, Message) or query.message.message_id != summary:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    await query.answer(
        _("Report №{id} is already submitted; see /myreports.").format(id=activity_id),
        show_alert=True,
    )


def _as_report(
    draft: Draft, plans: Plans, plan: Plan, organisation_id: int, user_id: int
) -> ActivityReport:
    assert draft.measure and draft.indicator and draft.date and draft.title and draft.quantity
    return ActivityReport(
        id=draft.activity_id,
        # The report belongs to the plan whose period covers its date.
        plan_id=(plans.covering(date.fromisoformat(draft.date)) or plan).id,
        indicator_id=draft.indicator,
        measure_code=draft.measure,
        organisation_id=organisation_id,
        reported_by=user_id,
        date=date.fromisoformat(draft.date),
        quantity=draft.quantity,
        cso_participants=draft.cso,
        council_participants=draft.council,
        title=draft.title,
        description=draft.description,
        co_organisers=draft.co_organisers,
        evidence_kind=draft.evidence_kind,
        evidence=draft.evidence,
    )


async def on_not_member(message: Message) -> None:
    await answer(
        message,
        _(
            "Reports are sent on behalf of a registered organisation. Register yours or ask to "
            "join it with /register; a coordinator will confirm it."
        ),
    )


def build_router() -> Router:
    router = Router(name=__name__)
    members = Router(name=f"{__name__}.members")
    guard(members, ReportsForOrganisation())
    members.message.register(cmd_activity, commands.ACTIVITY.filter)
    ACTIVITY.register(members)
    members.callback_query.register(
        on_submit, ActivityCb.filter(F.action == Act.submit), ACTIVITY.at(CONFIRM)
    )
    members.callback_query.register(
        on_submitted_again, ActivityCb.filter(F.action == Act.submit), StateFilter(None)
    )
    ACTIVITY.register_fallbacks(members)
    # A router tries its own handlers before its children's, so the guests' answer is a child too.
    guests = Router(name=f"{__name__}.guests")
    guests.message.register(
        on_not_member, Command(commands.ACTIVITY.name, commands.MYREPORTS.name)
    )
    router.include_routers(members, guests)
    return router
