"""/coordinators: coordinators add and remove the coordinators added in the bot."""

from __future__ import annotations

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    KeyboardButton,
    KeyboardButtonRequestUsers,
    Message,
    MessageOriginUser,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    User,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db import Database
from db.coordinators import Coordinators
from db.users import Person
from handlers.commands import offer_coordinator_menu
from handlers.coordinators.keyboards import CoordAction, CoordCb
from handlers.people import person, person_label, person_of
from handlers.reply import answer
from scheduler.notifier import Notifier

MAX_USER_ID = 10**15  # Telegram ids fit in 52 bits; anything longer is a typo


class CoordinatorForm(StatesGroup):
    user_id = State()


async def cmd_coordinators(message: Message, coordinators: Coordinators, db: Database) -> None:
    added = await coordinators.added()
    configured = sorted(coordinators.configured)
    async with db.read() as repo:
        people = await repo.users.people([*configured, *added])
    lines = [_("<b>Coordinators</b>"), ""]
    lines += [
        _("{user} — from the bot's settings (cannot be removed here)").format(
            user=person(people[u])
        )
        for u in configured
    ]
    lines += [_("{user} — added in the bot").format(user=person(people[u])) for u in added]
    builder = InlineKeyboardBuilder()
    for user_id in added:
        builder.button(
            text=_("✖ Remove {user}").format(user=person_label(people[user_id])),
            callback_data=CoordCb(action=CoordAction.remove, user=user_id),
        )
    builder.button(text=_("➕ Add a coordinator"), callback_data=CoordCb(action=CoordAction.add))
    builder.adjust(1)
    await answer(message, "\n".join(lines), builder.as_markup())


SHARE_REQUEST = 1  # the request_id of the «choose a person» button; Telegram echoes it back


def _cancel_label() -> str:
    return _("✖ Cancel")


async def _ask_for_person(message: Message) -> None:
    """The prompt, with Telegram's «choose a person» button (a reply keyboard)."""
    keyboard = ReplyKeyboardMarkup(
        keyboard=[
            [
                KeyboardButton(
                    text=_("👤 Choose the person"),
                    request_users=KeyboardButtonRequestUsers(
                        request_id=SHARE_REQUEST,
                        user_is_bot=False,
                        max_quantity=1,
                        request_name=True,
                        request_username=True,
                    ),
                )
            ],
            [KeyboardButton(text=_cancel_label())],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await message.answer(
        _(
            "Who is the new coordinator? Press «Choose the person» below, or forward any "
            "message of theirs here, or send their numeric Telegram user id (e.g. 123456789)."
        ),
        reply_markup=keyboard,
    )


async def _say(message: Message, text: str) -> None:
    """The dialog's last word: the «choose a person» keyboard goes away with it."""
    await message.answer(text, reply_markup=ReplyKeyboardRemove())


async def on_add(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(CoordinatorForm.user_id)
    if isinstance(query.message, Message):
        await _ask_for_person(query.message)


def _candidate(message: Message) -> Person | str:
    """Who the message names (a shared user, a forwarded message's sender, a typed id), or why
    it names nobody."""
    if message.users_shared is not None and message.users_shared.users:
        shared = message.users_shared.users[0]
        return Person(shared.user_id, shared.first_name, shared.username)
    origin = message.forward_origin
    if isinstance(origin, MessageOriginUser):
        if origin.sender_user.is_bot:
            return _("⚠ That message was sent by a bot; a bot cannot be a coordinator.")
        return person_of(origin.sender_user)
    if origin is not None:
        return _(
            "⚠ That message does not show who sent it (their privacy settings hide it, or it "
            "came from a channel or a group). Press «Choose the person» instead, or send their "
            "numeric id."
        )
    raw = (message.text or "").strip()
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) < MAX_USER_ID:
        return _("⚠ A Telegram user id is a number made of digits only.")
    return Person(int(raw))


async def on_user_id(
    message: Message,
    state: FSMContext,
    db: Database,
    coordinators: Coordinators,
    notifier: Notifier,
    bot: Bot,
    i18n: I18n,
    event_from_user: User,
) -> None:
    if message.text == _cancel_label():
        await on_add_cancel(message, state)
        return
    candidate = _candidate(message)
    if isinstance(candidate, str):
        await answer(message, candidate)
        await _ask_for_person(message)
        return
    user_id = candidate.id
    async with db.read() as repo:
        known = (await repo.users.people([user_id]))[user_id]
    # What Telegram just told about them is newer than what the bot saw (if it saw them).
    who = person(candidate if candidate.first_name or candidate.username else known)
    if coordinators.is_configured(user_id):
        await state.clear()
        await _say(
            message,
            _("{user} is already a coordinator (from the bot's settings).").format(user=who),
        )
        return
    async with db.transaction() as repo:
        added = await repo.coordinators.add(user_id, actor=event_from_user.id)
        ids = (
            await notifier.enqueue(repo, [user_id], _welcome, "coordinator added") if added else []
        )
    await state.clear()
    if not added:
        await _say(message, _("{user} is already a coordinator.").format(user=who))
        return
    await _say(message, _("✅ {user} is a coordinator now. See /coordinators.").format(user=who))
    await offer_coordinator_menu(bot, i18n, user_id, offer=True)
    await notifier.deliver(bot, ids)


def _welcome() -> tuple[str, InlineKeyboardMarkup | None]:
    return (
        _(
            "You were made a coordinator of the partnership plan bot. See /organisations "
            "and /help."
        ),
        None,
    )


async def on_add_cancel(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    text = _("Cancelled: no coordinator was added.")
    if isinstance(event, CallbackQuery):
        await event.answer()
        if isinstance(event.message, Message):
            await event.message.edit_text(text)
        return
    await _say(event, text)


def _configured_refusal(user_id: int) -> str:
    return _(
        "{user} is a coordinator from the bot's settings (COORDINATOR_IDS) and cannot be removed "
        "in the bot. Nothing was changed."
    ).format(user=user_id)


async def _person(db: Database, user_id: int) -> str:
    async with db.read() as repo:
        return person((await repo.users.people([user_id]))[user_id])


async def on_remove(
    query: CallbackQuery, callback_data: CoordCb, coordinators: Coordinators, db: Database
) -> None:
    user_id = callback_data.user
    if coordinators.is_configured(user_id):
        await query.answer(_configured_refusal(user_id), show_alert=True)
        return
    await query.answer()
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Yes, remove"), callback_data=CoordCb(action=CoordAction.remove_yes, user=user_id)
    )
    builder.button(
        text=_("No, keep"), callback_data=CoordCb(action=CoordAction.remove_no, user=user_id)
    )
    if isinstance(query.message, Message):
        await answer(
            query.message,
            _("Remove {user} from the coordinators?").format(user=await _person(db, user_id)),
            builder.as_markup(),
        )


async def on_remove_confirmed(
    query: CallbackQuery,
    callback_data: CoordCb,
    db: Database,
    coordinators: Coordinators,
    bot: Bot,
    i18n: I18n,
    notifier: Notifier,
    event_from_user: User,
) -> None:
    user_id = callback_data.user
    if coordinators.is_configured(user_id):
        await query.answer(_configured_refusal(user_id), show_alert=True)
        return

    def farewell() -> str:
        return _("You are no longer a coordinator of the partnership plan bot.")

    told: list[int] = []
    async with db.transaction() as repo:
        removed = await repo.coordinators.remove(user_id, actor=event_from_user.id)
        if removed:
            told = await notifier.enqueue(repo, [user_id], farewell, "coordinator removed")
    if not removed:
        await query.answer(
            _("{user} is not a coordinator (any more). Nothing was changed.").format(user=user_id),
            show_alert=True,
        )
        return
    await query.answer()
    await offer_coordinator_menu(bot, i18n, user_id, offer=False)
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("{user} is no longer a coordinator.").format(user=await _person(db, user_id))
        )
    await notifier.deliver(bot, told)


async def on_remove_declined(query: CallbackQuery) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Nothing was changed."))
