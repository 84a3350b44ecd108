"""The registration of an organisation as a form: its draft, its steps, and sending it.

Everything stays pending until a coordinator decides on it in /organisations.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any

from aiogram import Bot, F
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db import Database
from db.coordinators import Coordinators
from handlers import commands
from handlers.forms import (
    CONFIRM,
    STAY,
    Act,
    Form,
    FormDraft,
    FormTexts,
    Question,
    ReplyKeys,
    Step,
    Turn,
    refusal,
    text_step,
)
from handlers.organisations.cards import organisation_card
from handlers.organisations.keyboards import ReviewKind, review_keyboard, subject
from handlers.registration.join import already_placed, offer_join, read_search
from handlers.registration.keyboards import (
    AreaCb,
    RegCb,
    areas_keyboard,
    cancel_button,
    contact_keyboard,
)
from handlers.reply import answer
from plan import Plan
from plan.validation import InputError, clean_text, valid_edrpou
from scheduler.notifier import Notifier

MAX_NAME = 200
MAX_PERSON = 100
MAX_CONTACT = 254
_PHONE = re.compile(r"\+?[0-9]{10,15}")
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


class RegistrationForm(StatesGroup):
    name = State()
    edrpou = State()
    person = State()
    contact = State()
    areas = State()
    join = State()  # searching for a registered organisation to join
    confirm = State()
    cancel = State()


@dataclass
class RegDraft(FormDraft):
    """The registration so far, as kept in FSM data."""

    KEY = "reg"

    name: str | None = None
    edrpou: str | None = None
    person: str | None = None
    contact: str | None = None
    areas: list[str] = field(default_factory=list)


# --- checking what people type ---------------------------------------------------------------


def parse_edrpou(raw: str) -> str:
    """Eight digits that make a valid code (plan/validation.py valid_edrpou decides)."""
    code = "".join(raw.split())
    if not code.isascii() or not code.isdigit():
        raise InputError("edrpou_not_digits")
    if len(code) != 8:
        raise InputError("edrpou_length", length=len(code))
    if not valid_edrpou(code):
        raise InputError("edrpou_zeros" if int(code) == 0 else "edrpou_check", code=code)
    return code


def parse_contact(raw: str) -> str:
    """A plausible phone number (stored as +380… when Ukrainian) or an e-mail address."""
    text = raw.strip()
    if len(text) > MAX_CONTACT:
        raise InputError("too_long", limit=MAX_CONTACT, length=len(text))
    phone = re.sub(r"[\s()\-]", "", text)
    if _PHONE.fullmatch(phone):
        digits = phone.removeprefix("+")
        if len(digits) == 10 and digits.startswith("0"):
            return "+38" + digits
        if len(digits) == 12 and digits.startswith("380"):
            return "+" + digits
        if phone.startswith("+"):
            return phone
        raise InputError("not_a_contact")
    if _EMAIL.fullmatch(text):
        return text
    raise InputError("not_a_contact")


def _words() -> Mapping[str, str]:
    return {
        "empty": _("The answer cannot be empty."),
        "edrpou_not_digits": _("The ЄДРПОУ code is made of digits only: 8 of them."),
        "edrpou_length": _("The ЄДРПОУ code has exactly 8 digits; you sent {length}."),
        "edrpou_check": _(
            "{code} is not a valid ЄДРПОУ code: its last (check) digit does not match the "
            "others. Please check it for a typo."
        ),
        "edrpou_zeros": _("{code} is no organisation's ЄДРПОУ code. Please send the real one."),
        "not_a_contact": _(
            "That is neither a phone number (e.g. +380671234567) nor an e-mail address (e.g. "
            "info@example.org)."
        ),
    }


def input_error(error: InputError) -> str:
    return refusal(error, _words)


# --- the steps ---------------------------------------------------------------------------------


async def read_name(turn: Turn[RegDraft], raw: str) -> Any:
    name = clean_text(raw, limit=MAX_NAME)
    async with turn.db.read() as repo:
        existing = await repo.organisations.by_name(name)
    if existing is not None:
        await offer_join(turn.message, existing, by_code=False)
        return STAY
    return name


async def read_edrpou(turn: Turn[RegDraft], raw: str) -> Any:
    code = parse_edrpou(raw)
    async with turn.db.read() as repo:
        existing = await repo.organisations.by_edrpou(code)
    if existing is not None:
        await offer_join(turn.message, existing, by_code=True)
        return STAY
    return code


def read_contact(turn: Turn[RegDraft], raw: str) -> str:
    """A typed phone or e-mail, or the phone number of a contact shared with the button."""
    shared = turn.message.contact
    return parse_contact(shared.phone_number if shared is not None else raw)


def _contact_taken(value: Any) -> str:
    return _("<b>Phone or e-mail:</b> {value}").format(value=escape(str(value)))


def summary(draft: RegDraft, plan: Plan) -> tuple[str, InlineKeyboardMarkup]:
    areas = [f"{d.code}. {escape(d.title)}" for d in plan.directions if d.code in draft.areas]
    text = "\n".join(
        [
            _("<b>Check the registration</b>"),
            "",
            _("<b>Name:</b> {value}").format(value=escape(draft.name or "")),
            _("<b>ЄДРПОУ:</b> {value}").format(value=escape(draft.edrpou or "")),
            _("<b>Contact person:</b> {value}").format(value=escape(draft.person or "")),
            _("<b>Phone or e-mail:</b> {value}").format(value=escape(draft.contact or "")),
            _("<b>Areas:</b> {value}").format(value="; ".join(areas)),
            "",
            _("A coordinator will check it; until then it stays pending."),
        ]
    )
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Send for verification"), callback_data=RegCb(action=Act.submit))
    cancel_button(builder)
    builder.adjust(1)
    return text, builder.as_markup()


def _summary_question(turn: Turn[RegDraft]) -> Question:
    text, markup = summary(turn.draft, turn.plan)
    return Question(text, markup=markup)


def _unexpected(step: str) -> str:
    if step == "areas":
        return _("Please choose with the buttons below.")
    if step == CONFIRM:
        return _("Please send it or cancel with the buttons below.")
    return _("Please answer with text.")


STEPS: tuple[Step[RegDraft], ...] = (
    Step(
        "name",
        lambda t: Question(_("The full name of your organisation (up to 200 characters)?")),
        read=read_name,
    ),
    Step("edrpou", lambda t: Question(_("Its ЄДРПОУ code (8 digits)?")), read=read_edrpou),
    text_step("person", lambda: _("The contact person: name and surname?"), MAX_PERSON),
    Step(
        "contact",
        lambda t: Question(
            _(
                "A phone number (e.g. +380671234567) or an e-mail address to contact them? "
                "Press «Share my phone number» below, or type it. /cancel stops the registration."
            )
        ),
        read=read_contact,
        accepts=F.text | F.contact,
        reply=ReplyKeys(markup=lambda: contact_keyboard(), taken=_contact_taken),
    ),
    # A checklist: its buttons (AreaCb) are handled below, not as answers of the step.
    Step(
        "areas",
        lambda t: Question(
            _(
                "Which directions of the plan does your organisation work in? Choose one or "
                "more, then press «Done»."
            ),
            markup=areas_keyboard(t.plan, t.draft.areas),
        ),
    ),
    # Not a step of registering: /register's "join" opens the form here.
    Step(
        "join",
        lambda t: Question(
            _("Send the name (or a part of it) or the ЄДРПОУ code of the organisation to join.")
        ),
        read=read_search,
        applies=lambda t: False,
    ),
    Step(CONFIRM, lambda t: _summary_question(t)),
)

REGISTRATION = Form(
    states=RegistrationForm,
    draft=RegDraft,
    callback=RegCb,
    steps=STEPS,
    texts=FormTexts(
        discard_question=lambda: _(
            "Discard this registration? What you have entered will be lost."
        ),
        discarded=lambda: _("The registration was discarded. Nothing was sent."),
        unexpected=_unexpected,
        unfinished=lambda: _("You have an unfinished registration; let us continue it."),
        offer=lambda: _("You have an unfinished registration. Continue it?"),
    ),
    refusal=input_error,
    command=commands.REGISTER.name,
)


async def on_area(
    query: CallbackQuery, callback_data: AreaCb, state: FSMContext, plan: Plan, **deps: Any
) -> None:
    """Toggle a direction, or (Done) go on once at least one is chosen."""
    if not isinstance(query.message, Message):
        await query.answer()
        return
    turn = await REGISTRATION.turn(state, query.message, {**deps, "plan": plan}, pressed=True)
    chosen = turn.draft.areas
    if not callback_data.code:
        if not chosen:
            await query.answer(_("Choose at least one direction."), show_alert=True)
            return
        await query.answer()
        await query.message.edit_reply_markup(reply_markup=None)
        await REGISTRATION.advance(turn, "areas")
        return
    await query.answer()
    if plan.direction(callback_data.code) is None:
        return
    if callback_data.code in chosen:
        chosen.remove(callback_data.code)
    else:
        chosen.append(callback_data.code)
    turn.draft.areas = [d.code for d in plan.directions if d.code in chosen]
    turn.data.update(turn.draft.dump())
    await state.set_data(turn.data)
    await query.message.edit_reply_markup(reply_markup=areas_keyboard(plan, turn.draft.areas))


def _first_missing(draft: RegDraft) -> str | None:
    for step in ("name", "edrpou", "person", "contact", "areas"):
        if not getattr(draft, step):
            return step
    return None


async def on_submit(
    query: CallbackQuery,
    state: FSMContext,
    plan: Plan,
    db: Database,
    bot: Bot,
    coordinators: Coordinators,
    notifier: Notifier,
    event_from_user: User,
    **deps: Any,
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    turn = await REGISTRATION.turn(state, query.message, {**deps, "plan": plan, "db": db})
    draft = turn.draft
    missing = _first_missing(draft)
    if missing is not None:
        await REGISTRATION.ask(turn, missing)
        return
    assert draft.name and draft.edrpou and draft.person and draft.contact
    refusal_text = await already_placed(db, event_from_user.id)
    if refusal_text is not None:
        await state.clear()
        await query.message.edit_reply_markup(reply_markup=None)
        await answer(query.message, refusal_text)
        return
    ids: list[int] = []
    async with db.transaction() as repo:
        # Someone may have registered the same organisation while this dialog was open.
        existing = await repo.organisations.by_edrpou(draft.edrpou)
        by_code = existing is not None
        existing = existing or await repo.organisations.by_name(draft.name)
        if existing is None:
            org = await repo.organisations.register(
                draft.name,
                edrpou=draft.edrpou,
                contact=draft.contact,
                contact_person=draft.person,
                areas=draft.areas,
                registered_by=event_from_user.id,
            )
            await repo.memberships.request(event_from_user.id, org.id)
            profile = await repo.organisations.profile(org.id)
            assert profile is not None
            card = profile  # the coordinators' notice is recorded with the registration
            ids = await notifier.enqueue(
                repo,
                await coordinators.all(),
                lambda: (
                    _("🆕 A new organisation asks to be verified (/organisations).")
                    + "\n\n"
                    + organisation_card(card, plan),
                    review_keyboard(ReviewKind.organisation, card.id),
                ),
                "new organisation",
                subject(ReviewKind.organisation, card.id),
            )
    await query.message.edit_reply_markup(reply_markup=None)
    if existing is not None:
        await offer_join(query.message, existing, by_code=by_code)
        return
    assert profile is not None
    await state.clear()
    await answer(
        query.message,
        _(
            "✅ «{name}» was sent to the coordinators for verification. I will tell you when they "
            "decide."
        ).format(name=escape(profile.name)),
    )
    await notifier.deliver(bot, ids)
