"""The foundation: dialog storage, start-up, commands, splitting, HTML, the webhook secret."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.methods import SetMyCommands

from bot.app import App, build_app
from bot.config import Secret, Settings
from bot.run import build_webhook_app
from fakes.servers import free_port
from formats.telegram_text import html_problem, visible_length
from handlers.commands import COORDINATOR_COMMANDS, GUEST_COMMANDS
from handlers.reply import echo, split_message
from tests.conftest import COORDINATOR_ID, Chat, texts


def _key(user_id: int) -> StorageKey:
    return StorageKey(bot_id=1, chat_id=user_id, user_id=user_id)


async def test_dialog_state_survives_a_restart(settings: Settings) -> None:
    first = await build_app(settings)
    storage = first.dispatcher.storage
    await storage.set_state(_key(7), "ActivityReport:date")
    await storage.set_data(_key(7), {"measure": "1.1.1", "title": "Кава зі змістом <3"})
    await first.close()

    second = await build_app(settings)
    try:
        storage = second.dispatcher.storage
        assert await storage.get_state(_key(7)) == "ActivityReport:date"
        assert await storage.get_data(_key(7)) == {
            "measure": "1.1.1",
            "title": "Кава зі змістом <3",
        }
        await storage.set_state(_key(7), None)
        await storage.set_data(_key(7), {})
        assert await storage.get_state(_key(7)) is None
    finally:
        await second.close()


async def test_plain_text_inside_a_dialog_is_not_searched(chat: Chat, app: App) -> None:
    key = StorageKey(bot_id=chat.bot.id, chat_id=chat.chat.id, user_id=chat.user.id)
    await app.dispatcher.storage.set_state(key, "SomeDialog:step")
    sent = await chat.send("форум")
    assert "Знайдено" not in texts(sent)


async def test_startup_sets_commands_per_language(app: App, chat: Chat) -> None:
    dp = app.dispatcher
    await dp.emit_startup(bot=chat.bot, dispatcher=dp, **dp.workflow_data)
    try:
        calls = [r for r in chat.session.requests if isinstance(r, SetMyCommands)]
        everyone = [c for c in calls if c.scope is None or c.scope.type == "default"]
        by_language = {c.language_code: c.commands for c in everyone}
        assert set(by_language) == {None, "en"}
        assert [c.command for c in by_language[None]] == [c.name for c in GUEST_COMMANDS]
        # Coordinators get their own list in their own chat.
        own = [c for c in calls if c.scope is not None and c.scope.type == "chat"]
        assert {c.scope.chat_id for c in own} == {COORDINATOR_ID}
        assert [c.command for c in own[0].commands] == [c.name for c in COORDINATOR_COMMANDS]
        plan_uk = next(c for c in by_language[None] if c.command == "plan")
        plan_en = next(c for c in by_language["en"] if c.command == "plan")
        assert plan_uk.description.startswith("План")
        assert plan_en.description.startswith("Browse the plan")
        assert app.scheduler.running
    finally:
        await dp.emit_shutdown(bot=chat.bot, dispatcher=dp, **dp.workflow_data)


async def test_coordinator_role_comes_from_config(coordinator: Chat, chat: Chat) -> None:
    assert "/plan" in texts(await coordinator.send("/help"))
    assert "/plan" in texts(await chat.send("/help"))


def test_split_keeps_lines_whole_and_under_the_limit() -> None:
    lines = [f"<b>{i}</b> " + "слово " * 20 for i in range(200)]
    parts = split_message("\n".join(lines))
    assert len(parts) > 1
    assert all(len(p) <= 4096 for p in parts)
    assert all(html_problem(p) is None for p in parts)
    assert "\n".join(parts).split("\n") == lines


def test_split_cuts_an_overlong_line_outside_entities() -> None:
    line = "a&amp;" * 2000  # 12,000 characters, no line breaks
    parts = split_message(line)
    assert all(len(p) <= 4096 and html_problem(p) is None for p in parts)
    assert "".join(parts) == line


def test_echo_escapes_and_shortens() -> None:
    assert echo("<b>&") == "&lt;b&gt;&amp;"
    assert len(echo("я" * 10_000)) <= 200


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("a &lt; b &amp; c", True),
        ('<b>x</b> <a href="https://e.x">y</a>', True),
        ("<b><i>x</i></b>", True),
        ("a < b", False),
        ("Tom & Jerry", False),
        ("<foo>x</foo>", False),
        ("<b>x", False),
        ("<b><i>x</b></i>", False),
    ],
)
def test_html_check_matches_telegram(text: str, ok: bool) -> None:
    assert (html_problem(text) is None) is ok


def test_visible_length_ignores_tags_and_decodes_entities() -> None:
    assert visible_length("<b>ab</b>&amp;") == 3


async def test_webhook_refuses_requests_without_the_secret(settings: Settings) -> None:
    from dataclasses import replace

    from aiohttp import web

    from bot.app import build_bot
    from fakes.session import LocalSession

    port = free_port()
    settings = replace(
        settings,
        webhook_url="https://bot.example.org/tg/webhook",
        webhook_secret=Secret("s3cret-X"),
    )
    app = await build_app(settings)
    session = LocalSession()
    bot = build_bot(settings, session=session)
    runner = web.AppRunner(build_webhook_app(app, bot))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 5, "type": "private"},
            "from": {"id": 5, "is_bot": False, "first_name": "A"},
            "text": "/start",
        },
    }
    url = f"http://127.0.0.1:{port}/tg/webhook"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=update) as resp:
                assert resp.status == 401
            headers = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            async with http.post(url, json=update, headers=headers) as resp:
                assert resp.status == 401
            assert not [r for r in session.requests if r.__api_method__ == "sendMessage"]
            headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-X"}
            async with http.post(url, json=update, headers=headers) as resp:
                assert resp.status == 200
        # The update is handled in the background after Telegram gets its 200.
        for _ in range(100):
            sent = [r for r in session.requests if r.__api_method__ == "sendMessage"]
            if sent:
                break
            await asyncio.sleep(0.05)
        assert sent and "План партнерства" in sent[0].text
        # Registering the webhook is a deploy step (`cso-bot webhook set`), not every worker's.
        assert not [r for r in session.requests if r.__api_method__ == "setWebhook"]
    finally:
        await runner.cleanup()
        await app.close()


async def test_the_interface_follows_the_telegram_app_language_until_one_is_chosen(
    app: App,
) -> None:
    english = Chat(app, 501, language_code="en-GB")
    assert "partnership plan" in texts(await english.send("/start"))
    other = Chat(app, 502, language_code="pl")
    assert "План партнерства" in texts(await other.send("/start"))
    # Choosing with /language wins over the app's language.
    await english.send("/language")
    await english.tap("Українська")
    assert "План партнерства" in texts(await english.send("/start"))
