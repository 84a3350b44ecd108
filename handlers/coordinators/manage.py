"""/coordinators: coordinators add and remove the coordinators added in the bot."""

from __future__ import annotations

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db import Database
from db.coordinators import Coordinators
from handlers.commands import offer_coordinator_menu
from handlers.coordinators.keyboards import CoordAction, CoordCb
from handlers.reply import answer
from scheduler.notifier import Notifier

MAX_USER_ID = 10**15  # Telegram ids fit in 52 bits; anything longer is a typo


class CoordinatorForm(StatesGroup):
    user_id = State()


async def cmd_coordinators(message: Message, coordinators: Coordinators) -> None:
    added = await coordinators.added()
    lines = [_("<b>Coordinators</b>"), ""]
    lines += [
        _("{user} — from the bot's settings (cannot be removed here)").format(user=u)
        for u in sorted(coordinators.configured)
    ]
    lines += [_("{user} — added in the bot").format(user=u) for u in added]
    builder = InlineKeyboardBuilder()
    for user_id in added:
        builder.button(
            text=_("✖ Remove {user}").format(user=user_id),
            callback_data=CoordCb(action=CoordAction.remove, user=user_id),
        )
    builder.button(text=_("➕ Add a coordinator"), callback_data=CoordCb(action=CoordAction.add))
    builder.adjust(1)
    await answer(message, "\n".join(lines), builder.as_markup())


def _add_prompt() -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✖ Cancel"), callback_data=CoordCb(action=CoordAction.cancel))
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
    coordinators: Coordinators,
    notifier: Notifier,
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
    if coordinators.is_configured(user_id):
        await state.clear()
        await answer(
            message,
            _("{user} is already a coordinator (from the bot's settings).").format(user=user_id),
        )
        return
    async with db.transaction() as repo:
        added = await repo.coordinators.add(user_id, actor=event_from_user.id)
        ids = (
            await notifier.enqueue(repo, [user_id], _welcome, "coordinator added") if added else []
        )
    await state.clear()
    if not added:
        await answer(message, _("{user} is already a coordinator.").format(user=user_id))
        return
    await answer(
        message, _("✅ {user} is a coordinator now. See /coordinators.").format(user=user_id)
    )
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
    await answer(event, text)


def _configured_refusal(user_id: int) -> str:
    return _(
        "{user} is a coordinator from the bot's settings (COORDINATOR_IDS) and cannot be removed "
        "in the bot. Nothing was changed."
    ).format(user=user_id)


async def on_remove(
    query: CallbackQuery, callback_data: CoordCb, coordinators: Coordinators
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
            _("Remove {user} from the coordinators?").format(user=user_id),
            builder.as_markup(),
        )


async def on_remove_confirmed(
    query: CallbackQuery,
    callback_data: CoordCb,
    db: Database,
    coordinators: Coordinators,
    bot: Bot,
    i18n: I18n,
    event_from_user: User,
) -> None:
    user_id = callback_data.user
    if coordinators.is_configured(user_id):
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
