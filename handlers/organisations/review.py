"""/organisations: coordinators decide on registrations and join requests."""

from __future__ import annotations

from html import escape

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import gettext as _

from db import Database
from db.members import Membership
from handlers.organisations.cards import join_card, organisation_card, status_word
from handlers.organisations.keyboards import (
    OrgReviewCb,
    ReviewAction,
    ReviewKind,
    review_keyboard,
)
from handlers.organisations.manage import show_verified
from handlers.people import person, person_of
from handlers.reply import answer, refuse
from plan import Plan
from plan.validation import InputError, clean_text
from scheduler.notifier import Notifier


async def cmd_organisations(message: Message, db: Database, plan: Plan) -> None:
    async with db.read() as repo:
        organisations = await repo.organisations.pending()
        requests = await repo.memberships.pending()
        requesters = await repo.users.people(r.user_id for r in requests)
    # The organisations in care first: what waits for a decision is then nearest at hand.
    await show_verified(message, db)
    if not organisations and not requests:
        await answer(message, _("Nothing is waiting: no registrations and no join requests."))
        return
    await answer(
        message,
        _("Waiting for a decision: {orgs} registrations, {joins} join requests.").format(
            orgs=len(organisations), joins=len(requests)
        ),
    )
    for org in organisations:
        await answer(
            message, organisation_card(org, plan), review_keyboard(ReviewKind.organisation, org.id)
        )
    for request in requests:
        await answer(
            message,
            join_card(requesters[request.user_id], request.organisation_name),
            review_keyboard(ReviewKind.membership, request.organisation_id, request.user_id),
        )


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


class RefusalForm(StatesGroup):
    reason = State()  # a join request is refused with a reason the requester is told


_REFUSING = "refusing"  # FSM data: the request (org, user) a reason is asked for
MAX_REASON = 500


async def ask_reason(query: CallbackQuery, data: OrgReviewCb, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(RefusalForm.reason)
    await state.set_data({_REFUSING: [data.org, data.user]})
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
    org, user = (await state.get_data()).get(_REFUSING) or (0, 0)
    await state.clear()
    data = OrgReviewCb(kind=ReviewKind.membership, action=ReviewAction.reject, org=org, user=user)
    await _decide_join(message, data, db, bot, notifier, event_from_user, reason)


async def on_reason_cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await answer(message, _("Nothing was changed: the request is still waiting."))


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
    rejected_users: list[int] = []
    async with db.transaction() as repo:
        changed = await repo.organisations.decide(data.org, approve=approve, actor=actor.id)
        org = await repo.organisations.profile(data.org)
        if changed and org is not None:
            if approve and org.registered_by is not None:
                await repo.memberships.decide(
                    org.registered_by, org.id, approve=True, actor=actor.id
                )
            elif not approve:
                rejected_users = await repo.memberships.reject_all_pending(org.id, actor=actor.id)
    if org is None:
        await query.answer(_("There is no such organisation."), show_alert=True)
        return
    if not changed:
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
    name = escape(org.name)

    def registrant_news() -> tuple[str, InlineKeyboardMarkup | None]:
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
        return text.format(name=name), None

    def requester_news() -> tuple[str, InlineKeyboardMarkup | None]:
        return (
            _(
                "❌ Your request to join «{name}» was rejected: the organisation was not "
                "confirmed."
            ).format(name=name),
            None,
        )

    registrant = {org.registered_by} if org.registered_by is not None else set()
    await notifier.tell(bot, registrant, registrant_news)
    await notifier.tell(bot, set(rejected_users) - registrant, requester_news)


async def _decide_join(
    query: CallbackQuery | Message,
    data: OrgReviewCb,
    db: Database,
    bot: Bot,
    notifier: Notifier,
    actor: User,
    reason: str | None = None,
) -> None:
    """Approve (a button) or refuse (the reason typed after the button) a join request."""
    approve = data.action == ReviewAction.approve
    async with db.transaction() as repo:
        changed = await repo.memberships.decide(
            data.user, data.org, approve=approve, actor=actor.id, reason=reason
        )
        found: list[Membership] = [
            m for m in await repo.memberships.of_user(data.user) if m.organisation_id == data.org
        ]
        requester = (await repo.users.people([data.user]))[data.user]
    if not found:
        await refuse(query, _("There is no such request."))
        return
    membership = found[0]
    if not changed:
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
    card = join_card(requester, membership.organisation_name) + "\n\n" + outcome
    if isinstance(query, Message):
        await answer(query, card)
    else:
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(card)
    name = escape(membership.organisation_name)

    def news() -> tuple[str, InlineKeyboardMarkup | None]:
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
        return text.format(name=name, reason=escape(reason or "—")), None

    await notifier.tell(bot, [data.user], news)
