"""handlers.routing's Gate: a router turned away before aiogram's machinery, except where an
outer middleware of its own must still see the update."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.filters import Command
from aiogram.types import Chat, Message, Update, User

from handlers.routing import Reachable, gate_of, index_routes


def _update(text: str) -> Update:
    message = Message(
        message_id=1,
        date=datetime.now(UTC),
        chat=Chat(id=1, type="private"),
        from_user=User(id=1, is_bot=False, first_name="T"),
        text=text,
    )
    return Update(update_id=1, message=message)


async def test_a_router_with_outer_middleware_keeps_the_filter_and_its_middleware_runs() -> None:
    seen: list[str] = []
    watched, plain = Router(name="watched"), Router(name="plain")

    async def watch(handler: Any, event: Any, data: dict[str, Any]) -> Any:
        seen.append("watched")
        return await handler(event, data)

    watched.message.outer_middleware(watch)

    @watched.message(Command("x"))
    async def on_x(message: Message) -> str:
        return "x"

    @plain.message(Command("y"))
    async def on_y(message: Message) -> str:
        return "y"

    root = Router(name="root")
    root.include_routers(watched, plain)
    index_routes(root)
    watched_gate = gate_of(watched)
    assert watched_gate is not None and set(watched_gate.keys) == {"callback_query"}
    assert any(isinstance(f.callback, Reachable) for f in watched.message._handler.filters or ())
    gate = gate_of(plain)
    assert gate is not None and set(gate.keys) == {"message", "callback_query"}

    dp = Dispatcher()
    dp.include_router(root)
    bot = Bot("123:abc")
    assert await dp.feed_update(bot, _update("/y")) == "y"
    assert seen == ["watched"]  # turned away by its filter, after its middleware, as before
    assert await dp.feed_update(bot, _update("/x")) == "x"
    await bot.session.close()
