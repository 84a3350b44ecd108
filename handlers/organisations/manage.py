"""/organisations, second part: verified organisations, their members, editing and deactivating.

Deactivating keeps the organisation and what it reported (that was verified work), but its
members stop reporting for it: the user's standing asks for an organisation not deactivated.
"""

from __future__ import annotations

from html import escape

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db import Database
from db.organisations import OrganisationProfile, OrganisationRecord
from db.users import Person
from handlers.dialog import enter
from handlers.organisations.keyboards import ManageAction, OrgManageCb
from handlers.people import person
from handlers.registration.form import MAX_NAME, input_error, parse_contact
from handlers.reply import answer, refuse, shorten, show
from plan.validation import InputError, clean_text
from scheduler.notifier import Notifier

MAX_LABEL = 60
_EDITING = "org_edit"  # FSM data: [organisation id, field]


class OrgEditForm(StatesGroup):
    value = State()  # the new name or contact, typed


async def show_verified(message: Message, db: Database) -> None:
    """The verified organisations with their members, each with a button to manage it."""
    async with db.read() as repo:
        organisations = await repo.organisations.active()
        members = {o.id: await repo.memberships.members_of(o.id) for o in organisations}
        people = await repo.users.people(u for ids in members.values() for u in ids)
    if not organisations:
        return
    lines = [_("<b>Verified organisations</b>")]
    builder = InlineKeyboardBuilder()
    for org in organisations:
        names = ", ".join(person(people[u]) for u in members[org.id]) or _("no members")
        lines.append(f"• <b>{escape(org.name)}</b>: {names}")
        builder.button(
            text="⚙ " + shorten(org.name, MAX_LABEL),
            callback_data=OrgManageCb(action=ManageAction.show, org=org.id),
        )
    builder.adjust(1)
    await answer(message, "\n".join(lines), builder.as_markup())


def _card(org: OrganisationProfile, members: list[Person]) -> tuple[str, InlineKeyboardMarkup]:
    dash = "—"
    text = "\n".join(
        [
            f"<b>{escape(org.name)}</b>",
            _("<b>ЄДРПОУ:</b> {value}").format(value=escape(org.edrpou or dash)),
            _("<b>Phone or e-mail:</b> {value}").format(value=escape(org.contact or dash)),
            _("<b>Members:</b> {value}").format(
                value=", ".join(person(p) for p in members) or dash
            ),
        ]
    )
    builder = InlineKeyboardBuilder()
    for action, label in (
        (ManageAction.rename, _("✏ Name")),
        (ManageAction.contact, _("✏ Contact")),
        (ManageAction.deactivate, _("⛔ Deactivate")),
    ):
        builder.button(text=label, callback_data=OrgManageCb(action=action, org=org.id))
    builder.adjust(2, 1)
    return text, builder.as_markup()


async def _active(db: Database, org_id: int) -> tuple[OrganisationProfile, list[Person]] | None:
    async with db.read() as repo:
        org = await repo.organisations.profile(org_id)
        if org is None or org.status != "verified":
            return None
        if await repo.organisations.is_deactivated(org_id):
            return None
        ids = await repo.memberships.members_of(org_id)
        people = await repo.users.people(ids)
    return org, [people[u] for u in ids]


async def on_manage(
    query: CallbackQuery, callback_data: OrgManageCb, state: FSMContext, db: Database
) -> None:
    found = await _active(db, callback_data.org)
    if found is None:
        await refuse(query, _("This organisation is not an active verified one any more."))
        return
    org, members = found
    action = callback_data.action
    if action == ManageAction.show:
        await show(query, *_card(org, members))
    elif action in (ManageAction.rename, ManageAction.contact):
        await query.answer()
        await enter(state, OrgEditForm.value, {_EDITING: [org.id, action.value]})
        prompt = (
            _("The new name of «{name}»? /cancel keeps it.")
            if action == ManageAction.rename
            else _("The new phone or e-mail of «{name}»? /cancel keeps it.")
        )
        if isinstance(query.message, Message):
            await answer(query.message, prompt.format(name=escape(org.name)))
    elif action == ManageAction.deactivate:
        builder = InlineKeyboardBuilder()
        builder.button(
            text=_("Yes, deactivate"),
            callback_data=OrgManageCb(action=ManageAction.deactivate_yes, org=org.id),
        )
        builder.button(
            text=_("No, keep it"),
            callback_data=OrgManageCb(action=ManageAction.deactivate_no, org=org.id),
        )
        await show(
            query,
            _(
                "Deactivate «{name}»? Its {count} members will no longer report for it. What it "
                "reported stays counted."
            ).format(name=escape(org.name), count=len(members)),
            builder.as_markup(),
        )
    elif action == ManageAction.deactivate_no:
        await show(query, *_card(org, members))


async def _switch(
    db: Database, notifier: Notifier, org_id: int, actor: int, *, active: bool
) -> tuple[OrganisationRecord | None, list[int] | None]:
    """Deactivate (or reactivate) an organisation and record its members' notice in the same
    transaction; the organisation and the outbox ids, None when nothing changed."""
    async with db.transaction() as repo:
        org = await repo.organisations.get(org_id)
        if active:
            done = await repo.organisations.reactivate(org_id, actor=actor)
        else:
            done = await repo.organisations.deactivate(org_id, actor=actor)
        if not done or org is None:
            return org, None
        members = await repo.memberships.members_of(org_id)
        if not active:  # nobody waits for a decision about an organisation that is gone
            members += await repo.memberships.reject_all_pending(org_id, actor=actor)
        name = escape(org.name)

        def news() -> str:
            text = (
                _(
                    "♻ The coordinators reactivated «{name}»: you can report its activities "
                    "with /activity again."
                )
                if active
                else _(
                    "⛔ The coordinators deactivated «{name}»: reports are no longer sent on its "
                    "behalf. To report for another organisation, use /register."
                )
            )
            return text.format(name=name)

        kind = "organisation reactivated" if active else "organisation deactivated"
        return org, await notifier.enqueue(repo, set(members), news, kind)


async def on_deactivate(
    query: CallbackQuery,
    callback_data: OrgManageCb,
    db: Database,
    bot: Bot,
    notifier: Notifier,
    event_from_user: User,
) -> None:
    org, told = await _switch(db, notifier, callback_data.org, event_from_user.id, active=False)
    if org is None or told is None:
        await refuse(query, _("This organisation is not an active verified one any more."))
        return
    await show(
        query,
        _("⛔ «{name}» was deactivated: its members no longer report for it.").format(
            name=escape(org.name)
        ),
        _reactivate_keyboard(org.id),
    )
    await notifier.deliver(bot, told)


def _reactivate_keyboard(org_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("♻ Reactivate"),
        callback_data=OrgManageCb(action=ManageAction.reactivate, org=org_id),
    )
    return builder.as_markup()


async def show_deactivated(message: Message, db: Database) -> None:
    """Deactivated organisations, each with a button to bring it back."""
    async with db.read() as repo:
        organisations = await repo.organisations.deactivated()
    if not organisations:
        return
    builder = InlineKeyboardBuilder()
    for org in organisations:
        builder.button(
            text="♻ " + shorten(org.name, MAX_LABEL),
            callback_data=OrgManageCb(action=ManageAction.reactivate, org=org.id),
        )
    builder.adjust(1)
    lines = [_("<b>Deactivated organisations</b>")]
    lines += [f"• {escape(org.name)}" for org in organisations]
    await answer(message, "\n".join(lines), builder.as_markup())


async def on_reactivate(
    query: CallbackQuery,
    callback_data: OrgManageCb,
    db: Database,
    bot: Bot,
    notifier: Notifier,
    event_from_user: User,
) -> None:
    org, told = await _switch(db, notifier, callback_data.org, event_from_user.id, active=True)
    if org is None or told is None:
        await refuse(query, _("This organisation is not a deactivated one."))
        return
    found = await _active(db, org.id)
    if found is not None:
        text, markup = _card(*found)
        await show(query, _("♻ Reactivated.") + "\n\n" + text, markup)
    await notifier.deliver(bot, told)


async def on_value(
    message: Message, state: FSMContext, db: Database, event_from_user: User
) -> None:
    org_id, field = (await state.get_data()).get(_EDITING) or (0, "")
    raw = message.text or ""
    try:
        if field == ManageAction.rename:
            value = clean_text(raw, limit=MAX_NAME)
            async with db.read() as repo:
                taken = await repo.organisations.by_name(value)
            if taken is not None and taken.id != org_id:
                await answer(message, _("⚠ Another organisation already has this name."))
                return
        else:
            value = parse_contact(raw)
    except InputError as e:
        await answer(message, "⚠ " + input_error(e))
        return
    async with db.transaction() as repo:
        changes = {"name": value} if field == ManageAction.rename else {"contact": value}
        done = await repo.organisations.edit(org_id, actor=event_from_user.id, **changes)
    await state.clear()
    found = await _active(db, org_id) if done else None
    if found is None:
        await answer(message, _("This organisation is not an active verified one any more."))
        return
    await answer(message, _("✅ Saved."))
    await answer(message, *_card(*found))


async def on_edit_cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await answer(message, _("Nothing was changed."))
