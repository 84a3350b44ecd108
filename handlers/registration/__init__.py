"""/register: register an organisation step by step, or ask to join one already registered.

form (the registration dialog, declared for the form engine), join (finding an organisation and
asking to join it), keyboards (the buttons and their callback data). The answers live in the
dialog's FSM data (stored in the database), so a restart loses nothing.
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _

from db import Database
from handlers import commands
from handlers.forms import Act
from handlers.registration.form import (
    REGISTRATION,
    RegDraft,
    RegistrationForm,
    on_area,
    on_submit,
    parse_contact,
    parse_edrpou,
)
from handlers.registration.join import already_placed, on_join
from handlers.registration.keyboards import AreaCb, JoinAction, JoinCb, RegCb, entry_keyboard
from handlers.reply import answer

__all__ = ["RegCb", "RegistrationForm", "build_router", "parse_contact", "parse_edrpou"]


async def cmd_register(
    message: Message, state: FSMContext, db: Database, event_from_user: User, **deps: Any
) -> None:
    if await REGISTRATION.resume_if_open(message, state, deps):
        return
    refusal = await already_placed(db, event_from_user.id)
    if refusal is not None:
        await answer(message, refusal)
        return
    await answer(
        message,
        _(
            "Organisations registered here can report their activities under the plan. Register "
            "yours, or ask to join one already registered. A coordinator confirms either."
        ),
        entry_keyboard(),
    )


async def on_entry(
    query: CallbackQuery, callback_data: JoinCb, state: FSMContext, **deps: Any
) -> None:
    """«Register a new one» or «join one»: the form opens at its first or its join step."""
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        step = "name" if callback_data.action == JoinAction.register else "join"
        await REGISTRATION.start(query.message, state, deps, RegDraft(), step)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_register, commands.REGISTER.filter)
    REGISTRATION.register(router)
    router.callback_query.register(
        on_entry, JoinCb.filter(F.action.in_({JoinAction.register, JoinAction.search}))
    )
    router.callback_query.register(on_join, JoinCb.filter(F.action == JoinAction.request))
    router.callback_query.register(on_area, AreaCb.filter(), REGISTRATION.at("areas"))
    router.callback_query.register(
        on_submit, RegCb.filter(F.action == Act.submit), REGISTRATION.at("confirm")
    )
    REGISTRATION.register_fallbacks(router)
    return router
