"""The newsletter delivery engine against the fake Bot API over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import SendMessage

from bot.app import App, outgoing_path
from bot.outgoing import OutgoingPath
from db import Database
from fakes.bot_api import FakeBotAPI
from scheduler.newsletter.delivery import (
    DeliveryHandle,
    DeliveryOptions,
    DeliveryRunner,
    NewsletterDelivery,
    pause_newsletter,
    resume_interrupted,
    send_newsletter,
)
from scheduler.newsletter.keyboards import UnsubscribeCb, unsubscribe_keyboard
from tests.conftest import COORDINATOR_ID

TOKEN = "123456:DELIVERY-test-token"
ADDED_COORDINATOR = 901
NOW = datetime(2026, 11, 1, 10, tzinfo=UTC)
FAST = DeliveryOptions(retry_delays=(0.05, 0.1, 0.2, 0.4), status_poll_interval=0.1)
MARKUP = unsubscribe_keyboard("Відписатися")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "delivery.sqlite3")
    yield database
    await database.close()


def make_bot(api: FakeBotAPI, rate: float = 28.0) -> Bot:
    """A bot with the one outgoing path, as `cso-bot run` builds it: the newsletter's pace."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api.url))
    session.middleware(OutgoingPath(rate, retry_delays=(0.05, 0.1)))
    return Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))


def path_of(bot: Bot) -> OutgoingPath:
    path = outgoing_path(bot)
    assert path is not None
    return path


async def subscribe(db: Database, chats: range | list[int]) -> None:
    async with db.transaction() as repo:
        for chat in chats:
            await repo.subscribers.subscribe(chat, chat, NOW)


async def create(db: Database, parts: list[str], month: str = "2026-11") -> int:
    async with db.transaction() as repo:
        return await repo.newsletters.create(month, parts, NOW, status="approved")


async def test_500_subscribers_with_blocked_unknown_flaky_and_rate_limit(
    db: Database,
) -> None:
    chats = list(range(1001, 1501))
    blocked = set(chats[10:500:50])  # 10 chats
    unknown = set(chats[25:500:50])  # 10 chats
    unsubscribed = set(chats[5:500:100])  # 5 chats
    await subscribe(db, chats)
    async with db.transaction() as repo:
        for chat in unsubscribed:
            await repo.subscribers.unsubscribe(chat, NOW)
    newsletter = await create(db, ["<b>Розсилка</b> за листопад"])
    async with FakeBotAPI(
        TOKEN, rate_limit=30, blocked_chats=blocked, unknown_chats=unknown, flaky_every=37
    ) as api:
        bot = make_bot(api)
        progress: list[tuple[int, int, int]] = []

        async def on_progress(sent: int, failed: int, remaining: int) -> None:
            progress.append((sent, failed, remaining))

        try:
            summary = await send_newsletter(
                db, bot, newsletter, FAST, reply_markup=MARKUP, on_progress=on_progress
            )
        finally:
            await bot.session.close()

    assert summary is not None
    reachable = set(chats) - blocked - unknown - unsubscribed
    assert {c for c, n in api.sent_count.items() if n} == reachable
    assert all(api.sent_count[c] == 1 for c in reachable)
    assert not any(api.sent_count[c] for c in unsubscribed | blocked | unknown)
    assert summary.status == "sent"
    assert (summary.sent, summary.failed, summary.remaining) == (
        len(reachable),
        len(blocked) + len(unknown),
        0,
    )
    # Every 429 the server sent was honoured (the path paces at 28/s < 30/s); the 502s were
    # retried, by the outgoing path first.
    path = path_of(bot)
    assert api.too_many_requests == summary.too_many_requests + path.stats.flood_waits
    assert summary.retries + path.stats.retries >= 1
    assert summary.rate <= 30
    assert progress[-1] == (len(reachable), len(blocked) + len(unknown), 0)
    print(
        f"\n500 subscribers: {summary.messages} messages in {summary.elapsed:.1f} s = "
        f"{summary.rate:.1f}/s against a 30/s server; {summary.too_many_requests} × 429, "
        f"{summary.retries} retries after 502"
    )

    async with db.read() as repo:
        for chat in blocked | unknown:
            record = await repo.subscribers.get(chat)
            assert record is not None and not record.active and record.inactive_reason
            delivery = await repo.newsletters.delivery(newsletter, chat)
            assert delivery is not None and delivery.state == "failed" and delivery.last_error
        blocked_one = await repo.subscribers.get(min(blocked))
        assert blocked_one is not None and "blocked" in (blocked_one.inactive_reason or "")
        unknown_one = await repo.subscribers.get(min(unknown))
        assert unknown_one is not None and "chat not found" in (unknown_one.inactive_reason or "")
        assert await repo.newsletters.counts(newsletter) == {
            "pending": 0,
            "sent": len(reachable),
            "failed": len(blocked) + len(unknown),
        }
    # The unsubscribe button goes with the message.
    message = api.messages[min(reachable)][0]
    button = message["reply_markup"]["inline_keyboard"][0][0]
    assert button["callback_data"] == UnsubscribeCb().pack()


async def test_429s_pause_everyone_and_the_same_message_is_retried(db: Database) -> None:
    chats = list(range(2001, 2121))
    await subscribe(db, chats)
    newsletter = await create(db, ["Новини"])
    # The sender is set twice as fast as the server allows: it must slow down on 429s.
    options = DeliveryOptions(status_poll_interval=0.1)
    async with FakeBotAPI(TOKEN, rate_limit=30) as api:
        bot = make_bot(api, rate=60)
        try:
            summary = await send_newsletter(db, bot, newsletter, options)
        finally:
            await bot.session.close()
    assert summary is not None and summary.status == "sent"
    assert all(api.sent_count[c] == 1 for c in chats)
    assert api.too_many_requests > 0
    # Each 429 honoured by the one outgoing path (every sender paused), none left to the engine.
    assert path_of(bot).stats.flood_waits + summary.too_many_requests == api.too_many_requests
    print(
        f"\nsender at 60/s vs server 30/s: {summary.messages} messages in "
        f"{summary.elapsed:.1f} s = {summary.rate:.1f}/s, {summary.too_many_requests} × 429"
    )


async def test_multi_part_newsletter_resumes_at_the_next_part(db: Database) -> None:
    chats = list(range(3001, 3011))
    await subscribe(db, chats)
    parts = ["Частина 1", "Частина 2", "Частина 3"]
    newsletter = await create(db, parts)
    async with db.transaction() as repo:
        await repo.newsletters.start_sending(newsletter, NOW)
        # As if a previous process was killed after Telegram confirmed some parts.
        await repo.newsletters.part_sent(newsletter, 3001, 1, 3, 1, NOW)
        await repo.newsletters.part_sent(newsletter, 3002, 2, 3, 2, NOW)
    async with FakeBotAPI(TOKEN, rate_limit=30) as api:
        bot = make_bot(api)
        try:
            summaries = await resume_interrupted(db, bot, FAST, reply_markup=MARKUP)
        finally:
            await bot.session.close()
    assert [s.status for s in summaries] == ["sent"]
    got = {c: [m["text"] for m in api.messages.get(c, [])] for c in chats}
    assert got[3001] == parts[1:]
    assert got[3002] == parts[2:]
    for chat in chats[2:]:
        assert got[chat] == parts
    for chat in chats:
        messages = api.messages[chat]
        assert "reply_markup" in messages[-1]  # the button sits under the last part only
        assert all("reply_markup" not in m for m in messages[:-1])
    # One chat never got two parts within a second: the server would have answered 429.
    assert api.too_many_requests == 0
    async with db.read() as repo:
        delivery = await repo.newsletters.delivery(newsletter, 3003)
        assert delivery is not None and delivery.parts_sent == 3 and delivery.state == "sent"


async def test_pause_then_resume_sends_each_part_once(db: Database) -> None:
    chats = list(range(4001, 4031))
    await subscribe(db, chats)
    parts = ["Перша", "Друга"]
    newsletter = await create(db, parts)
    options = DeliveryOptions(status_poll_interval=0.05)
    async with FakeBotAPI(TOKEN, rate_limit=30) as api:
        bot = make_bot(api, rate=20)
        try:
            task = asyncio.create_task(send_newsletter(db, bot, newsletter, options))
            await api.wait_for(lambda c: len(api.calls) >= 10, timeout=15)
            assert await pause_newsletter(db, newsletter)
            paused = await asyncio.wait_for(task, 10)
            assert paused is not None and paused.status == "paused" and paused.remaining > 0
            sent_before = sum(api.sent_count.values())
            await asyncio.sleep(0.5)
            assert sum(api.sent_count.values()) == sent_before  # nothing after the pause
            resumed = await send_newsletter(db, bot, newsletter, options)
        finally:
            await bot.session.close()
    assert resumed is not None and resumed.status == "sent"
    for chat in chats:
        assert [m["text"] for m in api.messages[chat]] == parts


async def test_in_process_stop_and_cancelled_newsletter_is_not_sent(db: Database) -> None:
    chats = list(range(5001, 5031))
    await subscribe(db, chats)
    newsletter = await create(db, ["Текст"])
    async with FakeBotAPI(TOKEN) as api:
        bot = make_bot(api)
        try:
            handle = DeliveryHandle()
            handle.stop("test")
            assert await send_newsletter(db, bot, newsletter, FAST, handle=handle) is not None
            assert sum(api.sent_count.values()) == 0
            async with db.transaction() as repo:
                assert await repo.newsletters.set_status(
                    newsletter, "cancelled", only_from=("sending",)
                )
            assert await send_newsletter(db, bot, newsletter, FAST) is None
            summary = await NewsletterDelivery(db, bot, newsletter, FAST).run()
        finally:
            await bot.session.close()
    assert summary.status == "cancelled"
    assert sum(api.sent_count.values()) == 0


async def test_unsubscribing_during_sending_stops_that_copy(db: Database) -> None:
    chats = list(range(6001, 6011))
    await subscribe(db, chats)
    newsletter = await create(db, ["Текст"])
    async with db.transaction() as repo:
        await repo.newsletters.start_sending(newsletter, NOW)
        await repo.subscribers.unsubscribe(6005, NOW)
    async with FakeBotAPI(TOKEN) as api:
        bot = make_bot(api)
        try:
            [summary] = await resume_interrupted(db, bot, FAST)
        finally:
            await bot.session.close()
    assert api.sent_count[6005] == 0
    assert summary.sent == 9 and summary.failed == 1


async def test_a_message_telegram_refuses_pauses_instead_of_failing_everyone(
    db: Database,
) -> None:
    chats = list(range(7001, 7021))
    await subscribe(db, chats)
    newsletter = await create(db, ["Гарна частина", "<b>Зламана частина"])
    async with FakeBotAPI(TOKEN) as api:
        bot = make_bot(api)
        try:
            summary = await send_newsletter(db, bot, newsletter, FAST)
        finally:
            await bot.session.close()
    assert summary is not None and summary.status == "paused"
    assert summary.error is not None and "can't parse entities" in summary.error
    async with db.read() as repo:
        counts = await repo.newsletters.counts(newsletter)
        assert counts["failed"] == 0 and counts["pending"] == len(chats)
        assert await repo.subscribers.count_active() == len(chats)


async def test_the_bot_resumes_an_interrupted_newsletter_at_startup(app: App) -> None:
    from bot.chat import Conversation

    await subscribe(app.db, [8001, 8002, 8003])
    newsletter = await create(app.db, ["Продовження розсилки"])
    async with app.db.transaction() as repo:
        await repo.newsletters.start_sending(newsletter, NOW)
        await repo.newsletters.part_sent(newsletter, 8001, 1, 1, 1, NOW)
    async with app.db.transaction() as repo:  # a coordinator added in the bot sees it too
        await repo.coordinators.add(ADDED_COORDINATOR, actor=COORDINATOR_ID)
    coordinator = Conversation(app, COORDINATOR_ID)
    dp = app.dispatcher
    await dp.emit_startup(bot=coordinator.bot, dispatcher=dp, **dp.workflow_data)
    try:
        runner: DeliveryRunner = dp["newsletter"].deliveries
        await asyncio.wait_for(asyncio.gather(*runner.tasks), timeout=10)
    finally:
        await dp.emit_shutdown(bot=coordinator.bot, dispatcher=dp, **dp.workflow_data)
    sends = [r for r in coordinator.session.requests if isinstance(r, SendMessage)]
    coordinators = (COORDINATOR_ID, ADDED_COORDINATOR)
    assert sorted(r.chat_id for r in sends if r.chat_id not in coordinators) == [8002, 8003]
    # Coordinators see the progress in one message: sent 3 (one before the restart), 0 left.
    for chat_id in coordinators:
        progress = [r.text for r in sends if r.chat_id == chat_id]
        assert progress == ["Розсилка за листопад 2026: надіслано 3, не вдалося 0, залишилося 0."]
    async with app.db.read() as repo:
        assert await repo.newsletters.status(newsletter) == "sent"


async def test_a_second_sender_of_the_same_newsletter_sends_nothing(db: Database) -> None:
    chats = list(range(9001, 9041))
    await subscribe(db, chats)
    newsletter = await create(db, ["Текст"])
    options = DeliveryOptions(status_poll_interval=0.05)
    async with FakeBotAPI(TOKEN) as api:
        bot = make_bot(api, rate=40)
        try:
            first = asyncio.create_task(send_newsletter(db, bot, newsletter, options))
            await api.wait_for(lambda c: len(api.calls) >= 5, timeout=10)
            second = await send_newsletter(db, bot, newsletter, options)
            assert second is not None and second.busy_with and second.messages == 0
            done = await asyncio.wait_for(first, 10)
        finally:
            await bot.session.close()
    assert done is not None and done.status == "sent"
    assert all(api.sent_count[c] == 1 for c in chats)
    async with db.read() as repo:
        assert await repo.newsletters.sender(newsletter) is None  # released when done


async def test_a_stale_sender_is_taken_over(db: Database) -> None:
    await subscribe(db, [9101, 9102])
    newsletter = await create(db, ["Текст"])
    async with db.transaction() as repo:
        await repo.newsletters.start_sending(newsletter, NOW)
        # A sender on another machine that has not been heard of for long.
        await repo.newsletters.set_sender(newsletter, "elsewhere:1:dead", NOW)
    async with FakeBotAPI(TOKEN) as api:
        bot = make_bot(api)
        try:
            [summary] = await resume_interrupted(db, bot, FAST)
        finally:
            await bot.session.close()
    assert summary.status == "sent" and summary.busy_with is None
    assert api.sent_count[9101] == api.sent_count[9102] == 1
