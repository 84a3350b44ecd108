"""/register: register an organisation step by step, or ask to join one already registered.

The answers live in the dialog's FSM data (stored in the database), so a restart loses nothing.
Everything stays pending until a coordinator decides on it in /organisations.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import Settings
from db import Database
from db.organisations import OrganisationRecord
from handlers import commands
from handlers.coordinators import (
    all_coordinators,
    join_card,
    organisation_card,
    review_keyboard,
    tell,
)
from handlers.dialogs import ask_to_discard, discard, discard_keyboard
from handlers.reply import answer, echo
from plan import Plan
from plan.validation import InputError, clean_text, valid_edrpou

MAX_NAME = 200
MAX_PERSON = 100
MAX_CONTACT = 254
SEARCH_CHOICES = 6
_PHONE = re.compile(r"\+?[0-9]{10,15}")
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


class RegistrationForm(StatesGroup):
    name = State()
    edrpou = State()
    person = State()
    contact = State()
    areas = State()
    confirm = State()
    join = State()  # searching for a registered organisation to join
    cancel = State()


class RegCb(CallbackData, prefix="reg"):
    """A button of the registration dialog: `action` says what, `value` carries the choice."""

    action: str
    value: str = ""


_STEP_BY_NAME = {s.state.split(":")[1]: s for s in RegistrationForm.__all_states__ if s.state}


# --- checking what people type ---------------------------------------------------------------


def parse_edrpou(raw: str) -> str:
    """Eight digits whose last one is the right check digit."""
    code = "".join(raw.split())
    if not code.isascii() or not code.isdigit():
        raise InputError("edrpou_not_digits")
    if len(code) != 8:
        raise InputError("edrpou_length", length=len(code))
    if not valid_edrpou(code):
        raise InputError("edrpou_check", code=code)
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


def input_error(error: InputError) -> str:
    messages = {
        "empty": _("The answer cannot be empty."),
        "too_long": _("That is too long: {length} characters, at most {limit} are allowed."),
        "edrpou_not_digits": _("The ЄДРПОУ code is made of digits only: 8 of them."),
        "edrpou_length": _("The ЄДРПОУ code has exactly 8 digits; you sent {length}."),
        "edrpou_check": _(
            "{code} is not a valid ЄДРПОУ code: its last (check) digit does not match the "
            "others. Please check it for a typo."
        ),
        "not_a_contact": _(
            "That is neither a phone number (e.g. +380671234567) nor an e-mail address (e.g. "
            "info@example.org)."
        ),
    }
    return messages.get(error.reason, _("That did not work. Please try again.")).format(
        **error.details
    )


# --- the draft and the questions -----------------------------------------------------------------


def _draft(data: dict[str, Any]) -> dict[str, Any]:
    draft = dict(data.get("reg", {}))
    draft.setdefault("areas", [])
    return draft


def _cancel_button(builder: InlineKeyboardBuilder) -> None:
    builder.button(text=_("✖ Cancel"), callback_data=RegCb(action="cancel"))


def _only_cancel() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    _cancel_button(builder)
    return builder.as_markup()


def areas_keyboard(plan: Plan, chosen: list[str]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for direction in plan.directions:
        mark = "☑" if direction.code in chosen else "☐"
        title = direction.title if len(direction.title) <= 50 else direction.title[:49] + "…"
        builder.button(
            text=f"{mark} {direction.code}. {title}",
            callback_data=RegCb(action="area", value=direction.code),
        )
    builder.button(text=_("✔ Done"), callback_data=RegCb(action="areas_done"))
    _cancel_button(builder)
    builder.adjust(1)
    return builder.as_markup()


def prompt(step: State, draft: dict[str, Any], plan: Plan) -> tuple[str, InlineKeyboardMarkup]:
    if step == RegistrationForm.name:
        return _("The full name of your organisation (up to 200 characters)?"), _only_cancel()
    if step == RegistrationForm.edrpou:
        return _("Its ЄДРПОУ code (8 digits)?"), _only_cancel()
    if step == RegistrationForm.person:
        return _("The contact person: name and surname?"), _only_cancel()
    if step == RegistrationForm.contact:
        return (
            _("A phone number (e.g. +380671234567) or an e-mail address to contact them?"),
            _only_cancel(),
        )
    if step == RegistrationForm.areas:
        return (
            _(
                "Which directions of the plan does your organisation work in? Choose one or more, "
                "then press «Done»."
            ),
            areas_keyboard(plan, draft["areas"]),
        )
    if step == RegistrationForm.join:
        return (
            _("Send the name (or a part of it) or the ЄДРПОУ code of the organisation to join."),
            _only_cancel(),
        )
    return summary(draft, plan)


def summary(draft: dict[str, Any], plan: Plan) -> tuple[str, InlineKeyboardMarkup]:
    areas = [f"{d.code}. {escape(d.title)}" for d in plan.directions if d.code in draft["areas"]]
    text = "\n".join(
        [
            _("<b>Check the registration</b>"),
            "",
            _("<b>Name:</b> {value}").format(value=escape(draft.get("name", ""))),
            _("<b>ЄДРПОУ:</b> {value}").format(value=escape(draft.get("edrpou", ""))),
            _("<b>Contact person:</b> {value}").format(value=escape(draft.get("person", ""))),
            _("<b>Phone or e-mail:</b> {value}").format(value=escape(draft.get("contact", ""))),
            _("<b>Areas:</b> {value}").format(value="; ".join(areas)),
            "",
            _("A coordinator will check it; until then it stays pending."),
        ]
    )
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Send for verification"), callback_data=RegCb(action="submit"))
    _cancel_button(builder)
    builder.adjust(1)
    return text, builder.as_markup()


async def _ask(
    message: Message, state: FSMContext, step: State, draft: dict[str, Any], plan: Plan
) -> None:
    await state.set_state(step)
    await state.set_data({"reg": draft})
    await answer(message, *prompt(step, draft, plan))


async def _current_step(state: FSMContext) -> State:
    current = await state.get_state()
    return _STEP_BY_NAME.get(str(current).split(":")[-1], RegistrationForm.name)


async def _refuse(message: Message, state: FSMContext, plan: Plan, error: InputError) -> None:
    """Say what was wrong and ask the same question again; nothing entered so far is lost."""
    await answer(message, "⚠ " + input_error(error))
    await answer(
        message, *prompt(await _current_step(state), _draft(await state.get_data()), plan)
    )


async def _offer_join(message: Message, existing: OrganisationRecord, by_code: bool) -> None:
    text = (
        _("An organisation with the ЄДРПОУ code {code} is already registered: «{name}».")
        if by_code
        else _("An organisation with this name is already registered: «{name}».")
    ).format(code=escape(existing.edrpou or ""), name=escape(existing.name))
    builder = InlineKeyboardBuilder()
    if existing.status != "rejected":
        text += "\n" + _("Ask to join it instead, or send another answer.")
        builder.button(
            text=_("🤝 Ask to join it"), callback_data=RegCb(action="join", value=str(existing.id))
        )
    else:
        text += "\n" + _("Its registration was rejected; please contact the coordinators.")
    _cancel_button(builder)
    builder.adjust(1)
    await answer(message, text, builder.as_markup())


# --- entering and leaving ------------------------------------------------------------------------


async def cmd_register(
    message: Message, state: FSMContext, db: Database, plan: Plan, event_from_user: User
) -> None:
    current = await state.get_state()
    if current is not None and current.startswith("RegistrationForm:"):
        step = _STEP_BY_NAME[current.split(":")[1]]
        if step != RegistrationForm.cancel:
            await answer(message, _("You have an unfinished registration; let us continue it."))
            await answer(message, *prompt(step, _draft(await state.get_data()), plan))
            return
    refusal = await _already_placed(db, event_from_user.id)
    if refusal is not None:
        await answer(message, refusal)
        return
    builder = InlineKeyboardBuilder()
    builder.button(text=_("➕ Register a new organisation"), callback_data=RegCb(action="new"))
    builder.button(text=_("🤝 Join a registered organisation"), callback_data=RegCb(action="find"))
    builder.adjust(1)
    await answer(
        message,
        _(
            "Organisations registered here can report their activities under the plan. Register "
            "yours, or ask to join one already registered. A coordinator confirms either."
        ),
        builder.as_markup(),
    )


async def _already_placed(db: Database, user_id: int) -> str | None:
    """Why this user cannot register or join again, if they cannot."""
    async with db.read() as repo:
        memberships = await repo.memberships.of_user(user_id)
    for m in memberships:
        if m.status == "approved" and m.organisation_status == "verified":
            return _("You already belong to «{name}».").format(name=escape(m.organisation_name))
    for m in memberships:
        if m.status == "pending" or (
            m.status == "approved" and m.organisation_status == "pending"
        ):
            return _(
                "Your request concerning «{name}» is waiting for a coordinator. You will be told "
                "the outcome."
            ).format(name=escape(m.organisation_name))
    return None


async def on_new(query: CallbackQuery, state: FSMContext, plan: Plan) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await _ask(query.message, state, RegistrationForm.name, _draft({}), plan)


async def on_find(query: CallbackQuery, state: FSMContext, plan: Plan) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await _ask(query.message, state, RegistrationForm.join, _draft({}), plan)


def _discard_question() -> tuple[str, InlineKeyboardMarkup]:
    return _("Discard this registration? What you have entered will be lost."), discard_keyboard(
        RegCb(action="discard"), RegCb(action="resume")
    )


async def on_cancel_request(event: Message | CallbackQuery, state: FSMContext) -> None:
    await ask_to_discard(event, state, RegistrationForm.cancel, *_discard_question())


async def on_still_cancelling(message: Message) -> None:
    await answer(message, *_discard_question())


async def on_discard(query: CallbackQuery, state: FSMContext) -> None:
    await discard(query, state, _("The registration was discarded. Nothing was sent."))


async def on_resume(query: CallbackQuery, state: FSMContext, plan: Plan) -> None:
    data = await state.get_data()
    step = _STEP_BY_NAME.get(str(data.get("resume", "")).split(":")[-1], RegistrationForm.name)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await _ask(query.message, state, step, _draft(data), plan)


# --- the steps -----------------------------------------------------------------------------------


async def on_name(message: Message, state: FSMContext, plan: Plan, db: Database) -> None:
    try:
        name = clean_text(message.text or "", limit=MAX_NAME)
    except InputError as e:
        await _refuse(message, state, plan, e)
        return
    async with db.read() as repo:
        existing = await repo.organisations.by_name(name)
    if existing is not None:
        await _offer_join(message, existing, by_code=False)
        return
    draft = _draft(await state.get_data())
    draft["name"] = name
    await _ask(message, state, RegistrationForm.edrpou, draft, plan)


async def on_edrpou(message: Message, state: FSMContext, plan: Plan, db: Database) -> None:
    try:
        code = parse_edrpou(message.text or "")
    except InputError as e:
        await _refuse(message, state, plan, e)
        return
    async with db.read() as repo:
        existing = await repo.organisations.by_edrpou(code)
    if existing is not None:
        await _offer_join(message, existing, by_code=True)
        return
    draft = _draft(await state.get_data())
    draft["edrpou"] = code
    await _ask(message, state, RegistrationForm.person, draft, plan)


async def on_person(message: Message, state: FSMContext, plan: Plan) -> None:
    try:
        person = clean_text(message.text or "", limit=MAX_PERSON)
    except InputError as e:
        await _refuse(message, state, plan, e)
        return
    draft = _draft(await state.get_data())
    draft["person"] = person
    await _ask(message, state, RegistrationForm.contact, draft, plan)


async def on_contact(message: Message, state: FSMContext, plan: Plan) -> None:
    try:
        contact = parse_contact(message.text or "")
    except InputError as e:
        await _refuse(message, state, plan, e)
        return
    draft = _draft(await state.get_data())
    draft["contact"] = contact
    await _ask(message, state, RegistrationForm.areas, draft, plan)


async def on_area(
    query: CallbackQuery, callback_data: RegCb, state: FSMContext, plan: Plan
) -> None:
    await query.answer()
    if plan.direction(callback_data.value) is None or not isinstance(query.message, Message):
        return
    draft = _draft(await state.get_data())
    chosen: list[str] = draft["areas"]
    if callback_data.value in chosen:
        chosen.remove(callback_data.value)
    else:
        chosen.append(callback_data.value)
    draft["areas"] = [d.code for d in plan.directions if d.code in chosen]
    await state.set_data({"reg": draft})
    await query.message.edit_reply_markup(reply_markup=areas_keyboard(plan, draft["areas"]))


async def on_areas_done(query: CallbackQuery, state: FSMContext, plan: Plan) -> None:
    draft = _draft(await state.get_data())
    if not draft["areas"]:
        await query.answer(_("Choose at least one direction."), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await _ask(query.message, state, RegistrationForm.confirm, draft, plan)


async def on_submit(
    query: CallbackQuery,
    state: FSMContext,
    plan: Plan,
    db: Database,
    bot: Bot,
    i18n: I18n,
    config: Settings,
    event_from_user: User,
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    draft = _draft(await state.get_data())
    missing = next(
        (s for s in ("name", "edrpou", "person", "contact") if not draft.get(s)), None
    ) or ("areas" if not draft["areas"] else None)
    if missing is not None:
        await _ask(query.message, state, _STEP_BY_NAME[missing], draft, plan)
        return
    refusal = await _already_placed(db, event_from_user.id)
    if refusal is not None:
        await state.clear()
        await query.message.edit_reply_markup(reply_markup=None)
        await answer(query.message, refusal)
        return
    async with db.transaction() as repo:
        # Someone may have registered the same organisation while this dialog was open.
        existing = await repo.organisations.by_edrpou(draft["edrpou"])
        by_code = existing is not None
        existing = existing or await repo.organisations.by_name(draft["name"])
        if existing is None:
            org = await repo.organisations.register(
                draft["name"],
                edrpou=draft["edrpou"],
                contact=draft["contact"],
                contact_person=draft["person"],
                areas=draft["areas"],
                registered_by=event_from_user.id,
            )
            await repo.memberships.request(event_from_user.id, org.id)
            profile = await repo.organisations.profile(org.id)
    await query.message.edit_reply_markup(reply_markup=None)
    if existing is not None:
        await _offer_join(query.message, existing, by_code=by_code)
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
    await tell(
        bot,
        db,
        i18n,
        await all_coordinators(db, config),
        lambda: (
            _("🆕 A new organisation asks to be verified (/organisations).")
            + "\n\n"
            + organisation_card(profile, plan),
            review_keyboard("org", profile.id),
        ),
    )


# --- joining -------------------------------------------------------------------------------------


async def on_search(message: Message, state: FSMContext, plan: Plan, db: Database) -> None:
    text = (message.text or "").strip()
    if not text:
        await _refuse(message, state, plan, InputError("empty"))
        return
    if len(text) > MAX_NAME:
        await _refuse(
            message, state, plan, InputError("too_long", limit=MAX_NAME, length=len(text))
        )
        return
    async with db.read() as repo:
        found = await repo.organisations.search(text, SEARCH_CHOICES)
    builder = InlineKeyboardBuilder()
    if not found:
        builder.button(text=_("➕ Register a new organisation"), callback_data=RegCb(action="new"))
        _cancel_button(builder)
        builder.adjust(1)
        await answer(
            message,
            _(
                "No registered organisation matches «{text}». Try other words or the code, or "
                "register it."
            ).format(text=echo(text)),
            builder.as_markup(),
        )
        return
    for org in found:
        label = org.name if len(org.name) <= 60 else org.name[:59] + "…"
        builder.button(text=label, callback_data=RegCb(action="join", value=str(org.id)))
    _cancel_button(builder)
    builder.adjust(1)
    await answer(message, _("Which one do you want to join?"), builder.as_markup())


async def on_join(
    query: CallbackQuery,
    callback_data: RegCb,
    state: FSMContext,
    db: Database,
    bot: Bot,
    i18n: I18n,
    config: Settings,
    event_from_user: User,
) -> None:
    if not callback_data.value.isdigit():
        await query.answer()
        return
    refusal = await _already_placed(db, event_from_user.id)
    if refusal is not None:
        await state.clear()
        await query.answer()
        if isinstance(query.message, Message):
            await answer(query.message, refusal)
        return
    async with db.transaction() as repo:
        org = await repo.organisations.get(int(callback_data.value))
        if org is not None and org.status != "rejected":
            await repo.memberships.request(event_from_user.id, org.id)
    if org is None or org.status == "rejected":
        await query.answer(_("This organisation cannot be joined."), show_alert=True)
        return
    await state.clear()
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.edit_reply_markup(reply_markup=None)
    if org.status == "pending":
        await answer(
            query.message,
            _(
                "Your request to join «{name}» was recorded. The organisation itself is not "
                "verified yet; coordinators will look at your request after it is."
            ).format(name=escape(org.name)),
        )
        return
    await answer(
        query.message,
        _(
            "✅ Your request to join «{name}» was sent to the coordinators. I will tell you when "
            "they decide."
        ).format(name=escape(org.name)),
    )
    user_id = event_from_user.id
    await tell(
        bot,
        db,
        i18n,
        await all_coordinators(db, config),
        lambda: (join_card(user_id, org.name), review_keyboard("join", org.id, user_id)),
    )


async def on_unexpected(message: Message, state: FSMContext, plan: Plan) -> None:
    """A sticker where a name was asked, say: explain and ask again."""
    step = await _current_step(state)
    if step == RegistrationForm.areas:
        await answer(message, _("Please choose with the buttons below."))
    elif step == RegistrationForm.confirm:
        await answer(message, _("Please send it or cancel with the buttons below."))
    else:
        await answer(message, _("Please answer with text."))
    await answer(message, *prompt(step, _draft(await state.get_data()), plan))


def build_router() -> Router:
    router = Router(name=__name__)
    states = [s for s in RegistrationForm.__all_states__ if s != RegistrationForm.cancel]
    in_dialog = StateFilter(*states)
    typed = F.text & ~F.text.startswith("/")
    router.message.register(cmd_register, commands.REGISTER.filter)
    router.message.register(on_cancel_request, commands.CANCEL.filter, in_dialog)
    router.callback_query.register(
        on_cancel_request, RegCb.filter(F.action == "cancel"), in_dialog
    )
    cancelling = StateFilter(RegistrationForm.cancel)
    router.callback_query.register(on_discard, RegCb.filter(F.action == "discard"), cancelling)
    router.callback_query.register(on_resume, RegCb.filter(F.action == "resume"), cancelling)
    router.message.register(on_still_cancelling, cancelling, ~F.text.startswith("/"))
    router.callback_query.register(on_new, RegCb.filter(F.action == "new"))
    router.callback_query.register(on_find, RegCb.filter(F.action == "find"))
    router.message.register(on_name, StateFilter(RegistrationForm.name), typed)
    router.message.register(on_edrpou, StateFilter(RegistrationForm.edrpou), typed)
    router.message.register(on_person, StateFilter(RegistrationForm.person), typed)
    router.message.register(on_contact, StateFilter(RegistrationForm.contact), typed)
    router.callback_query.register(
        on_area, RegCb.filter(F.action == "area"), StateFilter(RegistrationForm.areas)
    )
    router.callback_query.register(
        on_areas_done, RegCb.filter(F.action == "areas_done"), StateFilter(RegistrationForm.areas)
    )
    router.callback_query.register(
        on_submit, RegCb.filter(F.action == "submit"), StateFilter(RegistrationForm.confirm)
    )
    router.message.register(on_search, StateFilter(RegistrationForm.join), typed)
    router.callback_query.register(on_join, RegCb.filter(F.action == "join"))
    # Commands still work inside the dialog; anything else unexpected gets the question again.
    router.message.register(on_unexpected, in_dialog, ~F.text.startswith("/"))
    return router
