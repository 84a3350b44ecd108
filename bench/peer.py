"""The peer of bench.updates: a small, typical aiogram + aiosqlite bot, fed the same updates.

What a competent three-feature bot looks like: an outer middleware that reads the user with one
aiosqlite query (inserting them on first sight), aiogram's in-memory FSM, three routers
(commands, a three-step dialog, buttons and free text) and 6-button inline keyboards built with
InlineKeyboardBuilder. It answers every update the bench sends ours with one or two requests,
as ours does, so the ratio says what our twenty features, roles and durable dialogs cost.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
from aiogram import BaseMiddleware, Dispatcher, F, Router
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject
from aiogram.utils.keyboard import InlineKeyboardBuilder

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class Report(StatesGroup):
    measure = State()
    title = State()
    people = State()


class UserMiddleware(BaseMiddleware):
    """The user's row: one query per update (an insert only on first sight)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = data.get("event_from_user")
        if user is not None:
            rows = list(
                await self.conn.execute_fetchall(
                    "SELECT id, language FROM users WHERE id = ?", (user.id,)
                )
            )
            if not rows:
                await self.conn.execute(
                    "INSERT INTO users (id, first_name, language) VALUES (?, ?, 'uk')",
                    (user.id, user.first_name),
                )
                await self.conn.commit()
                rows = [(user.id, "uk")]
            data["language"] = rows[0][1]
        return await handler(event, data)


def keyboard(prefix: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for n in range(6):
        builder.button(text=f"{prefix} {n + 1}", callback_data=f"{prefix}:{n}")
    builder.adjust(2)
    return builder.as_markup()


def commands() -> Router:
    router = Router(name="commands")

    @router.message(CommandStart())
    async def start(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer("<b>Вітаємо!</b> Оберіть розділ:", reply_markup=keyboard("menu"))

    @router.message(Command("help"))
    async def help_(message: Message) -> None:
        await message.answer("Команди: /start, /plan, /activity, /help")

    @router.message(Command("plan", "measure", "search", "bodies", "events", "myreports"))
    async def section(message: Message) -> None:
        await message.answer(f"Розділ {message.text}", reply_markup=keyboard("plan"))

    @router.message(Command("subscribe"))
    async def subscribe(message: Message) -> None:
        await message.answer("Ви підписані.")

    return router


def dialog() -> Router:
    router = Router(name="dialog")

    @router.message(Command("activity"))
    async def begin(message: Message, state: FSMContext) -> None:
        await state.set_state(Report.measure)
        await message.answer("Захід плану?", reply_markup=keyboard("measure"))

    @router.message(StateFilter(Report.measure), F.text)
    async def measure(message: Message, state: FSMContext) -> None:
        await state.update_data(measure=message.text)
        await state.set_state(Report.title)
        await message.answer("Назва?")

    @router.message(StateFilter(Report.title), F.text)
    async def title(message: Message, state: FSMContext) -> None:
        await state.update_data(title=message.text)
        await state.set_state(Report.people)
        await message.answer("Скільки учасників?", reply_markup=keyboard("n"))

    @router.message(StateFilter(Report.people), F.text)
    async def people(message: Message, state: FSMContext) -> None:
        data = await state.get_data()
        await state.clear()
        await message.answer(f"Збережено: {len(data)} полів.")

    return router


def buttons() -> Router:
    router = Router(name="buttons")

    @router.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer()
        if query.message is not None:
            await query.message.answer(f"Обрано {query.data}", reply_markup=keyboard("p"))

    @router.message(F.text)
    async def search(message: Message) -> None:
        await message.answer("Знайдено 3 заходи", reply_markup=keyboard("found"))

    return router


async def build_peer(file: Path) -> tuple[Dispatcher, aiosqlite.Connection]:
    """The peer's dispatcher and its database connection (the caller closes it)."""
    conn = await aiosqlite.connect(str(file))
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, first_name TEXT, language TEXT)"
    )
    await conn.commit()
    dp = Dispatcher(storage=MemoryStorage())
    dp.update.outer_middleware(UserMiddleware(conn))
    dp.include_routers(commands(), dialog(), buttons())
    return dp, conn
