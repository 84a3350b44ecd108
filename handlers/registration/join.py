"""Joining a registered organisation: finding it, asking to join, and who may ask at all."""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db import Database
from db.coordinators import Coordinators
from db.organisations import OrganisationRecord
from handlers.forms import STAY, Turn
from handlers.organisations.cards import join_card
from handlers.organisations.keyboards import ReviewKind, review_keyboard, subject
from handlers.people import person_of
from handlers.registration.keyboards import JoinAction, JoinCb, cancel_button
from handlers.reply import answer, echo, shorten
from plan.validation import InputError
from scheduler.notifier import Notifier

MAX_NAME = 200
SEARCH_CHOICES = 6


async def already_placed(db: Database, user_id: int) -> str | None:
    """Why this user cannot register or join again, if they cannot."""
    async with db.read() as repo:
        memberships = await repo.memberships.of_user(user_id)
    # A deactivated organisation no longer holds its members: they may register or join anew.
    memberships = [m for m in memberships if m.organisation_active]
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


async def offer_join(message: Message, existing: OrganisationRecord, by_code: bool) -> None:
    text = (
        _("An organisation with the ЄДРПОУ code {code} is already registered: «{name}».")
        if by_code
        else _("An organisation with this name is already registered: «{name}».")
    ).format(code=escape(existing.edrpou or ""), name=escape(existing.name))
    builder = InlineKeyboardBuilder()
    if existing.status != "rejected":
        text += "\n" + _("Ask to join it instead, or send another answer.")
        builder.button(
            text=_("🤝 Ask to join it"),
            callback_data=JoinCb(action=JoinAction.request, org=existing.id),
        )
    else:
        text += "\n" + _("Its registration was rejected; please contact the coordinators.")
    cancel_button(builder)
    builder.adjust(1)
    await answer(message, text, builder.as_markup())


async def read_search(turn: Turn[Any], raw: str) -> Any:
    """The join step: a name, part of it or a code; the matches are offered as buttons."""
    text = raw.strip()
    if not text:
        raise InputError("empty")
    if len(text) > MAX_NAME:
        raise InputError("too_long", limit=MAX_NAME, length=len(text))
    async with turn.db.read() as repo:
        found = await repo.organisations.search(text, SEARCH_CHOICES)
    builder = InlineKeyboardBuilder()
    if not found:
        builder.button(
            text=_("➕ Register a new organisation"),
            callback_data=JoinCb(action=JoinAction.register),
        )
        cancel_button(builder)
        builder.adjust(1)
        await answer(
            turn.message,
            _(
                "No registered organisation matches «{text}». Try other words or the code, or "
                "register it."
            ).format(text=echo(text)),
            builder.as_markup(),
        )
        return STAY
    for org in found:
        label = shorten(org.name)
        builder.button(text=label, callback_data=JoinCb(action=JoinAction.request, org=org.id))
    cancel_button(builder)
    builder.adjust(1)
    await answer(turn.message, _("Which one do you want to join?"), builder.as_markup())
    return STAY


async def on_join(
    query: CallbackQuery,
    callback_data: JoinCb,
    state: FSMContext,
    db: Database,
    bot: Bot,
    coordinators: Coordinators,
    notifier: Notifier,
    event_from_user: User,
) -> None:
    refusal = await already_placed(db, event_from_user.id)
    if refusal is not None:
        await state.clear()
        await query.answer()
        if isinstance(query.message, Message):
            await answer(query.message, refusal)
        return
    user_id, requester = event_from_user.id, person_of(event_from_user)
    told: list[int] = []
    async with db.transaction() as repo:
        org = await repo.organisations.get(callback_data.org)
        closed = org is None or org.status == "rejected"
        closed = closed or await repo.organisations.is_deactivated(callback_data.org)
        if org is not None and not closed:
            await repo.memberships.request(user_id, org.id)
            if org.status != "pending":  # a pending one's requests wait for its own decision
                name, org_id = org.name, org.id
                # The request and the coordinators' notice of it commit together (the outbox).
                told = await notifier.enqueue(
                    repo,
                    await coordinators.all(),
                    lambda: (
                        join_card(requester, name),
                        review_keyboard(ReviewKind.membership, org_id, user_id),
                    ),
                    "join request",
                    subject(ReviewKind.membership, org_id, user_id),
                )
    if org is None or closed:
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
    await notifier.deliver(bot, told)
