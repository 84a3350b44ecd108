"""Coordinators' desk: /organisations (registrations and join requests) and /coordinators."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from html import escape

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
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
from db.members import Membership
from db.organisations import OrganisationProfile
from handlers import commands
from handlers.commands import offer_coordinator_menu
from handlers.reply import answer
from handlers.roles import COORDINATOR, HasRole, guard
from plan import Plan

log = logging.getLogger(__name__)
MAX_USER_ID = 10**15  # Telegram ids fit in 52 bits; anything longer is a typo


class OrgReviewCb(CallbackData, prefix="orgrev"):
    """A decision on a registration (`kind` "org") or a join request ("join")."""

    kind: str
    action: str  # "approve" or "reject"
    org: int
    user: int = 0


class CoordCb(CallbackData, prefix="coord"):
    action: str  # "add", "cancel", "remove", "remove_yes", "remove_no"
    user: int = 0


class CoordinatorForm(StatesGroup):
    user_id = State()


# --- what coordinators see ----------------------------------------------------------------------


def organisation_card(org: OrganisationProfile, plan: Plan) -> str:
    areas = [f"{d.code}. {escape(d.title)}" for d in plan.directions if d.code in set(org.areas)]
    dash = "—"
    return "\n".join(
        [
            _("<b>Organisation registration №{id}</b>").format(id=org.id),
            _("<b>Name:</b> {value}").format(value=escape(org.name)),
            _("<b>ЄДРПОУ:</b> {value}").format(value=escape(org.edrpou or dash)),
            _("<b>Contact person:</b> {value}").format(value=escape(org.contact_person or dash)),
            _("<b>Phone or e-mail:</b> {value}").format(value=escape(org.contact or dash)),
            _("<b>Areas:</b> {value}").format(value="; ".join(areas) or dash),
            _("<b>Registered by:</b> Telegram user {user}").format(user=org.registered_by or dash),
        ]
    )


def join_card(user_id: int, organisation_name: str) -> str:
    return _("<b>Join request:</b> Telegram user {user} asks to join «{name}».").format(
        user=user_id, name=escape(organisation_name)
    )


def review_keyboard(kind: str, org: int, user: int = 0) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Approve"),
        callback_data=OrgReviewCb(kind=kind, action="approve", org=org, user=user),
    )
    builder.button(
        text=_("❌ Reject"),
        callback_data=OrgReviewCb(kind=kind, action="reject", org=org, user=user),
    )
    return builder.as_markup()


async def all_coordinators(db: Database, config: Settings) -> set[int]:
    async with db.read() as repo:
        return set(config.coordinator_ids) | set(await repo.coordinators.all())


async def tell(
    bot: Bot,
    db: Database,
    i18n: I18n,
    user_ids: Iterable[int],
    compose: Callable[[], tuple[str, InlineKeyboardMarkup | None]],
) -> None:
    """Send each user a message composed in their own language; a failure skips only them."""
    for user_id in user_ids:
        async with db.read() as repo:
            record = await repo.users.get(user_id)
        locale = i18n.default_locale
        if record is not None and record.language in i18n.available_locales:
            locale = record.language
        with i18n.use_locale(locale):
            text, markup = compose()
        try:
            await bot.send_message(user_id, text, reply_markup=markup)
        except TelegramAPIError as e:
            # Blocked the bot or never started it: the decision stands, the news is lost.
            log.warning("could not tell user %s: %s", user_id, e)


# --- /organisations -----------------------------------------------------------------------------


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
        await answer(message, organisation_card(org, plan), review_keyboard("org", org.id))
    for request in requests:
        await answer(
            message,
            join_card(request.user_id, request.organisation_name),
            review_keyboard("join", request.organisation_id, request.user_id),
        )


def _status_word(status: str) -> str:
    return {
        "verified": _("verified"),
        "approved": _("approved"),
        "rejected": _("rejected"),
        "pending": _("pending"),
    }.get(status, status)


async def on_review(
    query: CallbackQuery,
    callback_data: OrgReviewCb,
    db: Database,
    plan: Plan,
    bot: Bot,
    i18n: I18n,
    event_from_user: User,
) -> None:
    if callback_data.kind == "org":
        await _decide_organisation(query, callback_data, db, plan, bot, i18n, event_from_user)
    elif callback_data.kind == "join":
        await _decide_join(query, callback_data, db, bot, i18n, event_from_user)
    else:
        await query.answer()


async def _decide_organisation(
    query: CallbackQuery,
    data: OrgReviewCb,
    db: Database,
    plan: Plan,
    bot: Bot,
    i18n: I18n,
    actor: User,
) -> None:
    approve = data.action == "approve"
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
                name=org.name[:60], status=_status_word(org.status)
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
    await tell(bot, db, i18n, registrant, registrant_news)
    await tell(bot, db, i18n, set(rejected_users) - registrant, requester_news)


async def _decide_join(
    query: CallbackQuery, data: OrgReviewCb, db: Database, bot: Bot, i18n: I18n, actor: User
) -> None:
    approve = data.action == "approve"
    async with db.transaction() as repo:
        changed = await repo.memberships.decide(
            data.user, data.org, approve=approve, actor=actor.id
        )
        found: list[Membership] = [
            m for m in await repo.memberships.of_user(data.user) if m.organisation_id == data.org
        ]
    if not found:
        await query.answer(_("There is no such request."), show_alert=True)
        return
    membership = found[0]
    if not changed:
        await query.answer(
            _("Already decided: this request is {status}. Nothing was changed.").format(
                status=_status_word(membership.status)
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
    name = escape(membership.organisation_name)

    def news() -> tuple[str, InlineKeyboardMarkup | None]:
        if approve:
            text = _(
                "✅ Your request to join «{name}» was approved. You can report its activities "
                "with /activity."
            )
        else:
            text = _("❌ Your request to join «{name}» was rejected by the coordinators.")
        return text.format(name=name), None

    await tell(bot, db, i18n, [data.user], news)


# --- /coordinators ------------------------------------------------------------------------------


async def cmd_coordinators(message: Message, db: Database, config: Settings) -> None:
    async with db.read() as repo:
        added = [u for u in await repo.coordinators.all() if u not in config.coordinator_ids]
    lines = [_("<b>Coordinators</b>"), ""]
    lines += [
        _("{user} — from the bot's settings (cannot be removed here)").format(user=u)
        for u in sorted(config.coordinator_ids)
    ]
    lines += [_("{user} — added in the bot").format(user=u) for u in added]
    builder = InlineKeyboardBuilder()
    for user_id in added:
        builder.button(
            text=_("✖ Remove {user}").format(user=user_id),
            callback_data=CoordCb(action="remove", user=user_id),
        )
    builder.button(text=_("➕ Add a coordinator"), callback_data=CoordCb(action="add"))
    builder.adjust(1)
    await answer(message, "\n".join(lines), builder.as_markup())


def _add_prompt() -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✖ Cancel"), callback_data=CoordCb(action="cancel"))
    return (
        _(
            "Send the new coordinator's numeric Telegram user id, e.g. 123456789. (They can "
            "learn it from a bot such as @userinfobot.)"
        ),
        builder.as_markup(),
    )


async def on_add(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(CoordinatorForm.user_id)
    if isinstance(query.message, Message):
        await answer(query.message, *_add_prompt())


async def on_user_id(
    message: Message,
    state: FSMContext,
    db: Database,
    config: Settings,
    bot: Bot,
    i18n: I18n,
    event_from_user: User,
) -> None:
    raw = (message.text or "").strip()
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) < MAX_USER_ID:
        await answer(message, _("⚠ A Telegram user id is a number made of digits only."))
        await answer(message, *_add_prompt())
        return
    user_id = int(raw)
    if user_id in config.coordinator_ids:
        await state.clear()
        await answer(
            message,
            _("{user} is already a coordinator (from the bot's settings).").format(user=user_id),
        )
        return
    async with db.transaction() as repo:
        added = await repo.coordinators.add(user_id, actor=event_from_user.id)
    await state.clear()
    if not added:
        await answer(message, _("{user} is already a coordinator.").format(user=user_id))
        return
    await answer(
        message, _("✅ {user} is a coordinator now. See /coordinators.").format(user=user_id)
    )
    await offer_coordinator_menu(bot, i18n, user_id, offer=True)

    def welcome() -> tuple[str, InlineKeyboardMarkup | None]:
        return (
            _(
                "You were made a coordinator of the partnership plan bot. See /organisations "
                "and /help."
            ),
            None,
        )

    await tell(bot, db, i18n, [user_id], welcome)


async def on_add_cancel(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    text = _("Cancelled: no coordinator was added.")
    if isinstance(event, CallbackQuery):
        await event.answer()
        if isinstance(event.message, Message):
            await event.message.edit_text(text)
        return
    await answer(event, text)


def _configured_refusal(user_id: int) -> str:
    return _(
        "{user} is a coordinator from the bot's settings (COORDINATOR_IDS) and cannot be removed "
        "in the bot. Nothing was changed."
    ).format(user=user_id)


async def on_remove(query: CallbackQuery, callback_data: CoordCb, config: Settings) -> None:
    user_id = callback_data.user
    if user_id in config.coordinator_ids:
        await query.answer(_configured_refusal(user_id), show_alert=True)
        return
    await query.answer()
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Yes, remove"), callback_data=CoordCb(action="remove_yes", user=user_id))
    builder.button(text=_("No, keep"), callback_data=CoordCb(action="remove_no", user=user_id))
    if isinstance(query.message, Message):
        await answer(
            query.message,
            _("Remove {user} from the coordinators?").format(user=user_id),
            builder.as_markup(),
        )


async def on_remove_confirmed(
    query: CallbackQuery,
    callback_data: CoordCb,
    db: Database,
    config: Settings,
    bot: Bot,
    i18n: I18n,
    event_from_user: User,
) -> None:
    user_id = callback_data.user
    if user_id in config.coordinator_ids:
        await query.answer(_configured_refusal(user_id), show_alert=True)
        return
    async with db.transaction() as repo:
        removed = await repo.coordinators.remove(user_id, actor=event_from_user.id)
    if not removed:
        await query.answer(
            _("{user} is not a coordinator (any more). Nothing was changed.").format(user=user_id),
            show_alert=True,
        )
        return
    await query.answer()
    await offer_coordinator_menu(bot, i18n, user_id, offer=False)
    if isinstance(query.message, Message):
        await query.message.edit_text(_("{user} is no longer a coordinator.").format(user=user_id))


async def on_remove_declined(query: CallbackQuery) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Nothing was changed."))


# --- everyone else ------------------------------------------------------------------------------


async def on_not_coordinator(message: Message) -> None:
    await answer(message, _("This is for coordinators only."))


async def on_forged(query: CallbackQuery) -> None:
    await query.answer(_("Only coordinators can do this. Nothing was changed."), show_alert=True)


def build_router() -> Router:
    router = Router(name=__name__)
    desk = Router(name=f"{__name__}.desk")
    guard(desk, HasRole(COORDINATOR))
    adding = StateFilter(CoordinatorForm.user_id)
    desk.message.register(cmd_organisations, commands.ORGANISATIONS.filter)
    desk.message.register(cmd_coordinators, commands.COORDINATORS.filter)
    desk.callback_query.register(
        on_review, OrgReviewCb.filter(F.action.in_({"approve", "reject"}))
    )
    desk.callback_query.register(on_add, CoordCb.filter(F.action == "add"))
    desk.callback_query.register(on_add_cancel, CoordCb.filter(F.action == "cancel"))
    desk.message.register(on_add_cancel, commands.CANCEL.filter, adding)
    desk.message.register(on_user_id, adding, F.text, ~F.text.startswith("/"))
    desk.callback_query.register(on_remove, CoordCb.filter(F.action == "remove"))
    desk.callback_query.register(on_remove_confirmed, CoordCb.filter(F.action == "remove_yes"))
    desk.callback_query.register(on_remove_declined, CoordCb.filter(F.action == "remove_no"))
    # Whoever gets past the desk is not a coordinator: refuse clearly, change nothing. (A
    # router's own handlers run before its sub-routers', so the refusals are a sub-router too.)
    others = Router(name=f"{__name__}.others")
    others.message.register(on_not_coordinator, commands.ORGANISATIONS.filter)
    others.message.register(on_not_coordinator, commands.COORDINATORS.filter)
    others.callback_query.register(on_forged, OrgReviewCb.filter())
    others.callback_query.register(on_forged, CoordCb.filter())
    router.include_routers(desk, others)
    return router
