"""/organisations: coordinators decide on registrations and join requests."""

from __future__ import annotations

import contextlib
from html import escape

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import gettext as _

from db import Database
from db.members import Membership
from handlers.dialog import enter
from handlers.organisations.cards import join_card, organisation_card, status_word
from handlers.organisations.keyboards import (
    OrgReviewCb,
    ReviewAction,
    ReviewKind,
    review_keyboard,
    subject,
)
from handlers.organisations.manage import show_deactivated, show_verified
from handlers.people import person, person_of
from handlers.reply import answer, drop_keyboard, refuse
from plan import Plan
from plan.validation import InputError, clean_text
from scheduler.notifier import Compose, Notifier


async def waiting_cards(db: Database, plan: Plan) -> list[tuple[str, InlineKeyboardMarkup]]:
    """Every registration and join request waiting for a decision, as cards with buttons."""
    async with db.read() as repo:
        organisations = await repo.organisations.pending()
        requests = await repo.memberships.pending()
        requesters = await repo.users.people(r.user_id for r in requests)
    cards = [
        (organisation_card(org, plan), review_keyboard(ReviewKind.organisation, org.id))
        for org in organisations
    ]
    cards += [
        (
            join_card(requesters[request.user_id], request.organisation_name),
            review_keyboard(ReviewKind.membership, request.organisation_id, request.user_id),
        )
        for request in requests
    ]
    return cards


async def cmd_organisations(message: Message, db: Database, plan: Plan) -> None:
    # The organisations in care first: what waits for a decision is then nearest at hand.
    await show_verified(message, db)
    await show_deactivated(message, db)
    async with db.read() as repo:
        organisations = len(await repo.organisations.pending())
        requests = len(await repo.memberships.pending())
    if not organisations and not requests:
        await answer(message, _("Nothing is waiting: no registrations and no join requests."))
        return
    await answer(
        message,
        _("Waiting for a decision: {orgs} registrations, {joins} join requests.").format(
            orgs=organisations, joins=requests
        ),
    )
    for text, markup in await waiting_cards(db, plan):
        await answer(message, text, markup)


async def on_review(
    query: CallbackQuery,
    callback_data: OrgReviewCb,
    db: Database,
    plan: Plan,
    bot: Bot,
    notifier: Notifier,
    event_from_user: User,
    state: FSMContext,
) -> None:
    if callback_data.kind == ReviewKind.organisation:
        await _decide_organisation(query, callback_data, db, plan, bot, notifier, event_from_user)
    elif callback_data.action == ReviewAction.reject and await _pending(db, callback_data):
        await ask_reason(query, callback_data, state)
    else:
        # Approved, or no longer pending (then nothing changes and the answer says why).
        await _decide_join(query, callback_data, db, bot, notifier, event_from_user)


async def _pending(db: Database, data: OrgReviewCb) -> bool:
    async with db.read() as repo:
        requests = await repo.memberships.of_user(data.user)
    return any(m.organisation_id == data.org and m.status == "pending" for m in requests)


def _card_of(query: CallbackQuery) -> tuple[int, int] | None:
    return (query.message.chat.id, query.message.message_id) if query.message else None


class RefusalForm(StatesGroup):
    reason = State()  # a join request is refused with a reason the requester is told


_REFUSING = "refusing"  # FSM data: the request (org, user) a reason is asked for
_CARD = "card"  # FSM data: [chat, message] of the request's card
MAX_REASON = 500


async def ask_reason(query: CallbackQuery, data: OrgReviewCb, state: FSMContext) -> None:
    await query.answer()
    card = [query.message.chat.id, query.message.message_id] if query.message else None
    await enter(state, RefusalForm.reason, {_REFUSING: [data.org, data.user], _CARD: card})
    if isinstance(query.message, Message):
        await answer(
            query.message,
            _(
                "Why is this join request refused? Write the reason: it is sent to the person "
                "who asked. /cancel keeps the request waiting."
            ),
        )


async def on_reason(
    message: Message,
    state: FSMContext,
    db: Database,
    bot: Bot,
    notifier: Notifier,
    event_from_user: User,
) -> None:
    try:
        reason = clean_text(message.text or "", limit=MAX_REASON)
    except InputError:
        await answer(
            message,
            _("⚠ Please write the reason in up to {limit} characters.").format(limit=MAX_REASON),
        )
        return
    saved = await state.get_data()
    org, user = saved.get(_REFUSING) or (0, 0)
    await state.clear()
    data = OrgReviewCb(kind=ReviewKind.membership, action=ReviewAction.reject, org=org, user=user)
    await _decide_join(message, data, db, bot, notifier, event_from_user, reason, saved.get(_CARD))


async def on_reason_cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await answer(message, _("Nothing was changed: the request is still waiting."))


def _registrant_news(name: str, approve: bool) -> Compose:
    def compose() -> str:
        if approve:
            text = _(
                "✅ «{name}» was verified by the coordinators. You are its member now and can "
                "report activities with /activity."
            )
        else:
            text = _(
                "❌ The coordinators did not confirm the registration of «{name}». If this is a "
                "mistake, please contact them."
            )
        return text.format(name=escape(name))

    return compose


def _requester_news(name: str) -> Compose:
    return lambda: _(
        "❌ Your request to join «{name}» was rejected: the organisation was not confirmed."
    ).format(name=escape(name))


def _join_news(name: str, approve: bool, reason: str | None) -> Compose:
    def compose() -> str:
        if approve:
            text = _(
                "✅ Your request to join «{name}» was approved. You can report its activities "
                "with /activity."
            )
        else:
            text = _(
                "❌ Your request to join «{name}» was rejected by the coordinators.\n"
                "Their reason: {reason}"
            )
        return text.format(name=escape(name), reason=escape(reason or "—"))

    return compose


async def _decide_organisation(
    query: CallbackQuery,
    data: OrgReviewCb,
    db: Database,
    plan: Plan,
    bot: Bot,
    notifier: Notifier,
    actor: User,
) -> None:
    approve = data.action == ReviewAction.approve
    told: list[int] = []
    rejected: list[int] = []
    # The decision and the messages that follow from it commit together (the outbox).
    async with db.transaction() as repo:
        changed = await repo.organisations.decide(data.org, approve=approve, actor=actor.id)
        org = await repo.organisations.profile(data.org)
        if changed and org is not None:
            rejected_users: list[int] = []
            if approve and org.registered_by is not None:
                await repo.memberships.decide(
                    org.registered_by, org.id, approve=True, actor=actor.id
                )
            elif not approve:
                rejected_users = await repo.memberships.reject_all_pending(org.id, actor=actor.id)
            rejected = rejected_users
            registrant = {org.registered_by} if org.registered_by is not None else set()
            told += await notifier.enqueue(
                repo, registrant, _registrant_news(org.name, approve), "organisation decided"
            )
            told += await notifier.enqueue(
                repo,
                set(rejected_users) - registrant,
                _requester_news(org.name),
                "organisation decided",
            )
    if org is None:
        await query.answer(_("There is no such organisation."), show_alert=True)
        return
    if not changed:
        if isinstance(query.message, Message):
            await drop_keyboard(query.message)  # another coordinator's decision came first
        await query.answer(
            _("Already decided: «{name}» is {status}. Nothing was changed.").format(
                name=org.name[:60], status=status_word(org.status)
            ),
            show_alert=True,
        )
        return
    by = person(person_of(actor))
    outcome = (
        _("✅ Verified by {user}.").format(user=by)
        if approve
        else _("❌ Rejected by {user}.").format(user=by)
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(organisation_card(org, plan) + "\n\n" + outcome)
    await notifier.deliver(bot, told)
    await notifier.retire(bot, subject(ReviewKind.organisation, org.id), _card_of(query))
    for user in rejected:  # the requests refused with it are decided too
        await notifier.retire(bot, subject(ReviewKind.membership, org.id, user))


async def _decide_join(
    query: CallbackQuery | Message,
    data: OrgReviewCb,
    db: Database,
    bot: Bot,
    notifier: Notifier,
    actor: User,
    reason: str | None = None,
    card: list[int] | None = None,
) -> None:
    """Approve (a button) or refuse (the reason typed after the button) a join request."""
    approve = data.action == ReviewAction.approve
    told: list[int] = []
    async with db.transaction() as repo:
        changed = await repo.memberships.decide(
            data.user, data.org, approve=approve, actor=actor.id, reason=reason
        )
        found: list[Membership] = [
            m for m in await repo.memberships.of_user(data.user) if m.organisation_id == data.org
        ]
        requester = (await repo.users.people([data.user]))[data.user]
        if changed and found:
            told = await notifier.enqueue(
                repo,
                [data.user],
                _join_news(found[0].organisation_name, approve, reason),
                "join decided",
            )
    if not found:
        await refuse(query, _("There is no such request."))
        return
    membership = found[0]
    if not changed:
        if isinstance(query, CallbackQuery) and isinstance(query.message, Message):
            await drop_keyboard(query.message)  # another coordinator's decision came first
        await refuse(
            query,
            _("Already decided: this request is {status}. Nothing was changed.").format(
                status=status_word(membership.status)
            ),
        )
        return
    by = person(person_of(actor))
    outcome = (
        _("✅ Approved by {user}.").format(user=by)
        if approve
        else _("❌ Rejected by {user}.").format(user=by)
        + "\n"
        + _("<b>Reason:</b> {reason}").format(reason=escape(reason or "—"))
    )
    text = join_card(requester, membership.organisation_name) + "\n\n" + outcome
    pressed = (card[0], card[1]) if card else None
    if isinstance(query, Message):
        await answer(query, text)
        if pressed:  # the request's card, whose "reject" asked for this reason: its buttons go
            with contextlib.suppress(TelegramBadRequest):
                await bot.edit_message_text(text, chat_id=pressed[0], message_id=pressed[1])
    else:
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(text)
        pressed = _card_of(query)
    await notifier.deliver(bot, told)
    await notifier.retire(bot, subject(ReviewKind.membership, data.org, data.user), pressed)
