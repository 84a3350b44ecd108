"""/newevent: a member (or a coordinator) proposes an event; its steps, declared for the engine.

A member's proposal waits for a coordinator's approval; a coordinator's is published at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db import Database
from db.coordinators import Coordinators
from db.events import NewEvent
from handlers import commands
from handlers.events.admin import announce_proposal
from handlers.events.callbacks import EventFormCb
from handlers.events.parsing import parse_capacity, parse_end, parse_when
from handlers.events.views import place_text, when_text
from handlers.forms import (
    CONFIRM,
    STAY,
    Act,
    Form,
    FormDraft,
    FormTexts,
    Question,
    Skip,
    Step,
    Turn,
    refusal,
    text_step,
)
from handlers.forms.measures import read_measures
from handlers.reply import answer, drop_keyboard
from handlers.roles import COORDINATOR
from plan import Plan
from plan.clock import Clock
from plan.validation import InputError, clean_text
from scheduler.notifier import Notifier
from scheduler.reminders import ReminderPlanner

MAX_TITLE = 200
MAX_PLACE = 300
MAX_ORGANISER = 300
MAX_DESCRIPTION = 1000
OWN = "own"  # the picked value "my organisation organises it"


class EventForm(StatesGroup):
    title = State()
    starts = State()
    ends = State()
    place = State()
    organiser = State()
    measures = State()
    description = State()
    capacity = State()
    confirm = State()
    cancel = State()


@dataclass
class EventDraft(FormDraft):
    """The proposal so far, as kept in FSM data (JSON-friendly values only)."""

    KEY = "event"

    title: str | None = None
    starts: str | None = None  # ISO 8601 with offset
    ends: str | None = None
    place: str | None = None
    organiser: str | None = None
    organisation_id: int | None = None
    measures: list[str] = field(default_factory=list)
    description: str = ""
    capacity: int | None = None


# --- parsing ----------------------------------------------------------------------------------


# --- the steps --------------------------------------------------------------------------------


def read_starts(turn: Turn[EventDraft], raw: str) -> str:
    clock: Clock = turn.clock
    return parse_when(raw, clock.timezone, clock.now()).isoformat()


async def read_ends(turn: Turn[EventDraft], raw: str) -> Any:
    clock: Clock = turn.clock
    if turn.draft.starts is None:
        await turn.form.ask(turn, "starts")
        return STAY
    starts = datetime.fromisoformat(turn.draft.starts)
    return parse_end(raw, starts, clock.timezone, clock.now()).isoformat()


def _end_after_start(draft: EventDraft) -> bool:
    if draft.starts is None or draft.ends is None:
        return False
    return datetime.fromisoformat(draft.ends) > datetime.fromisoformat(draft.starts)


def ask_organiser(turn: Turn[EventDraft]) -> Question:
    own = turn.data.get("org_name")
    return Question(
        _("Who organises it? Write the name, or choose your organisation."),
        [(own, OWN)] if own else [],  # the form cuts a label; it is never escaped
    )


def read_organiser(turn: Turn[EventDraft], raw: str) -> Any:
    if turn.pressed:
        own = turn.data.get("org_name")
        return (own, turn.data.get("org_id")) if raw == OWN and own else STAY
    return clean_text(raw, limit=MAX_ORGANISER), None


def store_organiser(turn: Turn[EventDraft], value: tuple[str, int | None]) -> None:
    turn.draft.organiser, turn.draft.organisation_id = value


def ask_summary(turn: Turn[EventDraft]) -> Question:
    draft = turn.draft
    dash = "—"
    when = dash
    if draft.starts and draft.ends:
        when = when_text(
            datetime.fromisoformat(draft.starts), datetime.fromisoformat(draft.ends), turn.clock
        )
    lines = [
        _("<b>Check the event</b>"),
        "",
        _("<b>Title:</b> {value}").format(value=escape(draft.title or dash)),
        _("<b>When:</b> {value}").format(value=when),
        _("<b>Where:</b> {value}").format(value=place_text(draft.place or dash)),
        _("<b>Organiser:</b> {value}").format(value=escape(draft.organiser or dash)),
        _("<b>Measures:</b> {value}").format(value=", ".join(draft.measures) or dash),
        _("<b>Description:</b> {value}").format(value=escape(draft.description or dash)),
        _("<b>Places:</b> {value}").format(
            value=draft.capacity if draft.capacity else _("no limit")
        ),
    ]
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Confirm"), callback_data=EventFormCb(action=Act.submit))
    for text, step in (
        (_("✏ Title"), "title"),
        (_("✏ Start"), "starts"),
        (_("✏ End"), "ends"),
        (_("✏ Place"), "place"),
        (_("✏ Organiser"), "organiser"),
        (_("✏ Measures"), "measures"),
        (_("✏ Description"), "description"),
        (_("✏ Places"), "capacity"),
    ):
        builder.button(text=text, callback_data=EventFormCb(action=Act.edit, value=step))
    builder.button(text=_("✖ Cancel"), callback_data=EventFormCb(action=Act.cancel))
    builder.adjust(1, 2, 2, 2, 2, 1)
    return Question("\n".join(lines), markup=builder.as_markup())


STEPS: tuple[Step[EventDraft], ...] = (
    text_step(
        "title",
        lambda: _("What is the event called? A short title (up to 200 characters)."),
        MAX_TITLE,
    ),
    Step(
        "starts",
        lambda t: Question(
            _(
                "When does it start? Kyiv time as <code>ДД.ММ.РРРР ГГ:ХХ</code>, "
                "e.g. 15.03.2027 14:00."
            )
        ),
        read=read_starts,
    ),
    # A new start may leave the old end before it: then the end is asked too.
    Step(
        "ends",
        lambda t: Question(
            _(
                "When does it end? <code>ДД.ММ.РРРР ГГ:ХХ</code>, or just <code>ГГ:ХХ</code> "
                "on the same day."
            )
        ),
        read=read_ends,
        missing=lambda d: not _end_after_start(d),
    ),
    text_step("place", lambda: _("Where? An address, or a link for an online event."), MAX_PLACE),
    Step(
        "organiser", ask_organiser, read=read_organiser, pick=read_organiser, store=store_organiser
    ),
    Step(
        "measures",
        lambda t: Question(
            _(
                "Which measures of the plan does it serve? Their codes, e.g. <code>2.1.3</code> "
                "or <code>2.1.2, 2.1.3</code>."
            )
        ),
        read=read_measures,
        pick=read_measures,
    ),
    text_step(
        "description",
        lambda: _("Describe the event (up to 1000 characters), or skip."),
        MAX_DESCRIPTION,
        skip=Skip(""),
    ),
    Step(
        "capacity",
        lambda t: Question(
            _("How many places are there? A whole number, or skip if there is no limit.")
        ),
        read=lambda t, raw: parse_capacity(raw),
        skip=Skip(None, label=lambda: _("No limit ➡")),
    ),
    Step(CONFIRM, ask_summary),
)

PROPOSAL = Form(
    states=EventForm,
    draft=EventDraft,
    callback=EventFormCb,
    steps=STEPS,
    texts=FormTexts(
        discard_question=lambda: _("Discard this event? What you have entered will be lost."),
        discarded=lambda: _("The event was discarded. Nothing was published."),
        unfinished=lambda: _("You have an unfinished event; let us continue it."),
        offer=lambda: _("You have an unfinished event. Continue it?"),
    ),
    refusal=refusal,
    command=commands.NEWEVENT.name,
)


# --- entering and submitting ------------------------------------------------------------------


async def cmd_newevent(
    message: Message,
    state: FSMContext,
    db: Database,
    organisation_id: int | None,
    **deps: Any,
) -> None:
    if await PROPOSAL.resume_if_open(message, state, {**deps, "db": db}):
        return
    name = None
    if organisation_id is not None:
        async with db.read() as repo:
            organisation = await repo.organisations.get(organisation_id)
        name = organisation.name if organisation else None
    await PROPOSAL.start(
        message, state, {**deps, "db": db}, EventDraft(), org_name=name, org_id=organisation_id
    )


def _first_missing(draft: EventDraft) -> str | None:
    for step, value in (
        ("title", draft.title),
        ("starts", draft.starts),
        ("ends", draft.ends),
        ("place", draft.place),
        ("organiser", draft.organiser),
        ("measures", draft.measures),
    ):
        if not value:
            return step
    return None


async def on_submit(
    query: CallbackQuery,
    state: FSMContext,
    db: Database,
    plan: Plan,
    bot: Bot,
    clock: Clock,
    reminders: ReminderPlanner,
    coordinators: Coordinators,
    notifier: Notifier,
    role: str,
    event_from_user: User,
    **deps: Any,
) -> None:
    if not isinstance(query.message, Message):
        await query.answer()
        return
    deps.update(plan=plan, clock=clock)
    turn = await PROPOSAL.turn(state, query.message, deps, pressed=True)
    draft = turn.draft
    missing = _first_missing(draft)
    moment = clock.now()
    if missing is None and datetime.fromisoformat(draft.starts or "") <= moment:
        missing = "starts"
        await answer(query.message, "⚠ " + refusal(InputError("when_past")))
    if missing is not None:
        await query.answer()
        draft.editing = True
        await PROPOSAL.ask(turn, missing)
        return
    assert draft.title and draft.starts and draft.ends and draft.place and draft.organiser
    coordinator = role == COORDINATOR
    new = NewEvent(
        title=draft.title,
        starts_at=datetime.fromisoformat(draft.starts),
        ends_at=datetime.fromisoformat(draft.ends),
        place=draft.place,
        organiser=draft.organiser,
        organisation_id=draft.organisation_id,
        measures=tuple(draft.measures),
        description=draft.description,
        capacity=draft.capacity,
        status="approved" if coordinator else "pending",
        proposed_by=None if coordinator else event_from_user.id,
        created_by=event_from_user.id,
    )
    told: list[int] = []
    deciders = [] if coordinator else await coordinators.all()
    async with db.transaction() as repo:
        event_id = await repo.events.create(new, moment)
        event = await repo.events.get(event_id)
        assert event is not None
        if not coordinator:
            told = await announce_proposal(repo, plan, clock, deciders, notifier, event)
    await state.clear()
    await query.answer()
    await drop_keyboard(query.message)
    if coordinator:
        reminders.plan(event)
        await answer(
            query.message, _("✅ Event №{id} is published: see /events.").format(id=event_id)
        )
        return
    await answer(
        query.message,
        _(
            "✅ Event №{id} was sent to the coordinators for approval. "
            "I will tell you the outcome."
        ).format(id=event_id),
    )
    await notifier.deliver(bot, told)


def register(router: Router) -> None:
    """The proposal dialog on a router already guarded for members and coordinators."""
    router.message.register(cmd_newevent, commands.NEWEVENT.filter)
    PROPOSAL.register(router)
    router.callback_query.register(
        on_submit, EventFormCb.filter(F.action == Act.submit), PROPOSAL.at(CONFIRM)
    )
    PROPOSAL.register_fallbacks(router)
