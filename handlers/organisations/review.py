"""/organisations: coordinators decide on registrations and join requests."""

from __future__ import annotations

from html import escape

from aiogram import Bot
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
from handlers.reply import answer
from plan import Plan
from scheduler.notifier import Compose, Notifier


async def cmd_organisations(message: Message, db: Database, plan: Plan) -> None:
    async with db.read() as repo:
        organisations = await repo.organisations.pending()
        requests = await repo.memberships.pending()
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
            join_card(request.user_id, request.organisation_name),
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
) -> None:
    if callback_data.kind == ReviewKind.organisation:
        await _decide_organisation(query, callback_data, db, plan, bot, notifier, event_from_user)
    else:
        await _decide_join(query, callback_data, db, bot, notifier, event_from_user)


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
    ids: list[int] = []
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
            # Those affected hear of the decision through the outbox, committed with it.
            registrant = {org.registered_by} if org.registered_by is not None else set()
            registrant_news, requester_news = _organisation_news(escape(org.name), approve)
            ids = await notifier.enqueue(repo, registrant, registrant_news, "organisation decided")
            ids += await notifier.enqueue(
                repo, set(rejected_users) - registrant, requester_news, "organisation decided"
            )
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
    outcome = (
        _("✅ Verified by {user}.").format(user=actor.id)
        if approve
        else _("❌ Rejected by {user}.").format(user=actor.id)
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(organisation_card(org, plan) + "\n\n" + outcome)
    await notifier.deliver(bot, ids)


def _organisation_news(name: str, approve: bool) -> tuple[Compose, Compose]:
    """What the registrant and those whose requests fell with the organisation are told."""

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

    return registrant_news, requester_news


async def _decide_join(
    query: CallbackQuery,
    data: OrgReviewCb,
    db: Database,
    bot: Bot,
    notifier: Notifier,
    actor: User,
) -> None:
    approve = data.action == ReviewAction.approve
    ids: list[int] = []
    async with db.transaction() as repo:
        changed = await repo.memberships.decide(
            data.user, data.org, approve=approve, actor=actor.id
        )
        found: list[Membership] = [
            m for m in await repo.memberships.of_user(data.user) if m.organisation_id == data.org
        ]
        if changed and found:
            news = _join_news(escape(found[0].organisation_name), approve)
            ids = await notifier.enqueue(repo, [data.user], news, "join decided")
    if not found:
        await query.answer(_("There is no such request."), show_alert=True)
        return
    membership = found[0]
    if not changed:
        await query.answer(
            _("Already decided: this request is {status}. Nothing was changed.").format(
                status=status_word(membership.status)
            ),
            show_alert=True,
        )
        return
    outcome = (
        _("✅ Approved by {user}.").format(user=actor.id)
        if approve
        else _("❌ Rejected by {user}.").format(user=actor.id)
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            join_card(data.user, membership.organisation_name) + "\n\n" + outcome
        )
    await notifier.deliver(bot, ids)


def _join_news(name: str, approve: bool) -> Compose:
    """What a person who asked to join is told of the decision."""

    def news() -> tuple[str, InlineKeyboardMarkup | None]:
        if approve:
            text = _(
                "✅ Your request to join «{name}» was approved. You can report its activities "
                "with /activity."
            )
        else:
            text = _("❌ Your request to join «{name}» was rejected by the coordinators.")
        return text.format(name=name), None

    return news
