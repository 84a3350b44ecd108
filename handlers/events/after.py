"""After the event: its organiser opens the activity report pre-filled from it."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _

from db import Database
from handlers.activity_form import ACTIVITY, Draft
from handlers.events.views import get_event
from handlers.forms import CONFIRM
from handlers.reply import answer, drop_keyboard
from plan import Plan
from plan.clock import Clock
from scheduler.reminders import ReportEventCb


async def on_report_event(
    query: CallbackQuery,
    callback_data: ReportEventCb,
    state: FSMContext,
    db: Database,
    plan: Plan,
    clock: Clock,
    event_from_user: User,
    **deps: Any,
) -> None:
    """Open the activity report filled in from the event; the organiser checks and sends it."""
    event = await get_event(db, callback_data.event_id)
    if (
        event is None
        or event.proposed_by != event_from_user.id
        or not isinstance(query.message, Message)
    ):
        await query.answer(_("There is no such event among yours."), show_alert=True)
        return
    await query.answer()
    draft = Draft(
        measure=event.measures[0] if event.measures else None,
        date=event.starts_at.astimezone(clock.timezone).date().isoformat(),
        title=event.title,
        description=event.description,
    )
    measure = plan.measure(draft.measure or "")
    if measure is not None and len(measure.indicators) == 1:
        indicator = measure.indicators[0]
        draft.indicator = indicator.id
        if indicator.kind == "count":
            draft.quantity = (event.going or 1) if indicator.counts_people else 1
        elif indicator.kind == "milestone":
            draft.quantity = 1
        if indicator.min_participants is not None:
            draft.cso = event.going
    step = "measure" if measure is None else "indicator"
    if draft.indicator is not None:
        step = CONFIRM
    draft.editing = True
    await drop_keyboard(query.message)
    await answer(
        query.message,
        _("Coming according to the bot: {n}. Check the report and send it.").format(n=event.going),
    )
    await ACTIVITY.start(query.message, state, {**deps, "plan": plan, "clock": clock}, draft, step)
