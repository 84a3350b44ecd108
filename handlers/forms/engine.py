"""What every dialog does alike: asking before its input is thrown away, and throwing it away."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.reply import answer


def discard_keyboard(discard: CallbackData, resume: CallbackData) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Yes, discard it"), callback_data=discard)
    builder.button(text=_("No, continue"), callback_data=resume)
    return builder.as_markup()


async def ask_to_discard(
    event: Message | CallbackQuery,
    state: FSMContext,
    cancelling: State,
    question: str,
    keyboard: InlineKeyboardMarkup,
) -> None:
    """Remember the step the dialog was at, then ask before anything entered is lost."""
    data = await state.get_data()
    data["resume"] = await state.get_state()
    await state.set_state(cancelling)
    await state.set_data(data)
    if isinstance(event, CallbackQuery):
        await event.answer()
        if isinstance(event.message, Message):
            await answer(event.message, question, keyboard)
        return
    await answer(event, question, keyboard)


async def discard(query: CallbackQuery, state: FSMContext, done: str) -> None:
    """Forget the dialog and say that nothing was sent."""
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(done)
