"""Updates are recorded before they are confirmed, and a killed process loses none of them:
the real `cso-bot run` against the fake Bot API over HTTP, and the webhook's answers."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from bot.app import App, build_app, build_bot
from bot.config import Secret, Settings
from bot.run import build_webhook_app
from fakes.bot_api import FakeBotAPI
from fakes.session import LocalSession
from tests.test_two_processes import rows, start_bot

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:JOURNAL-token"
PEOPLE = range(5001, 5051)


async def test_sigkill_with_50_updates_in_hand_then_each_is_handled_once(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    async with FakeBotAPI(TOKEN) as api:
        first = await start_bot(api, database, "first")
        process = first.process
        try:
            # Every reply fails for now, so the 50 updates stay in hand, retried by the bot.
            api.fail_for(120)
            ids = [api.push_message(person, "/subscribe") for person in PEOPLE]
            await api.wait_confirmed(ids[-1], timeout=30)
            await asyncio.sleep(0.5)
        finally:
            process.kill()
            await process.wait()
        unfinished = rows(
            database, "SELECT count(*) FROM received_updates WHERE handled_at IS NULL"
        )
        assert unfinished[0][0] > 0, "the kill came after everything was handled"
        assert not any(c.ok for c in api.calls_of("sendMessage") if c.params["chat_id"] in PEOPLE)

        api.fail_for(0)
        second = await start_bot(api, database, "second")
        process = second.process
        try:
            for person in PEOPLE:
                await api.wait_for_reply(person, timeout=60)
            await asyncio.sleep(1.0)  # a second answer, if any, would arrive by now
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=30)
        output = second.output()
        assert process.returncode == 0, output
    answers = {
        person: [c for c in api.calls_of("sendMessage") if c.ok and c.params["chat_id"] == person]
        for person in PEOPLE
    }
    assert all(len(sent) == 1 for sent in answers.values()), output
    assert rows(database, "SELECT count(*), count(handled_at) FROM received_updates") == [
        (len(PEOPLE), len(PEOPLE))
    ]
    subscribed = {r[0] for r in rows(database, "SELECT user_id FROM subscribers WHERE active")}
    assert set(PEOPLE) <= subscribed
    assert "replaying" in output


@pytest.fixture
async def webhook(
    settings: Settings, unused_tcp_port: int
) -> AsyncIterator[tuple[str, App, LocalSession]]:
    settings = replace(
        settings,
        webhook_url="https://bot.example.org/tg/webhook",
        webhook_secret=Secret("s3cret-X"),
    )
    app = await build_app(settings)
    session = LocalSession()
    bot = build_bot(settings, session=session)
    from aiohttp import web

    runner = web.AppRunner(build_webhook_app(app, bot))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        yield f"http://127.0.0.1:{unused_tcp_port}/tg/webhook", app, session
    finally:
        await runner.cleanup()
        await app.close()


UPDATE = {
    "update_id": 77,
    "message": {
        "message_id": 1,
        "date": 0,
        "chat": {"id": 5, "type": "private"},
        "from": {"id": 5, "is_bot": False, "first_name": "A"},
        "text": "/start",
    },
}
SECRET = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-X"}


async def test_webhook_answers_200_once_recorded_and_a_resent_update_is_handled_once(
    webhook: tuple[str, App, LocalSession],
) -> None:
    url, app, session = webhook
    async with aiohttp.ClientSession() as http:
        for _ in range(3):  # Telegram re-sends when it did not get its 200 in time
            async with http.post(url, json=UPDATE, headers=SECRET) as resp:
                assert resp.status == 200
                async with app.db.read() as repo:
                    assert [u for u, _ in await repo.received_updates.unfinished()] in ([77], [])
    for _ in range(100):
        async with app.db.read() as repo:
            if not await repo.received_updates.unfinished():
                break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    assert len([r for r in session.requests if r.__api_method__ == "sendMessage"]) == 1


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"update_id": "x"}'])
async def test_webhook_answers_400_to_what_is_not_an_update(
    webhook: tuple[str, App, LocalSession], body: bytes
) -> None:
    url, _, session = webhook
    async with aiohttp.ClientSession() as http:
        headers = {**SECRET, "Content-Type": "application/json"}
        async with http.post(url, data=body, headers=headers) as resp:
            assert resp.status == 400
    assert not [r for r in session.requests if r.__api_method__ == "sendMessage"]
