"""A send that meets an outage waits it out: Telegram unreachable for 60 s, or answering 502
for 10 s, in the middle of a send. Afterwards every subscriber has the issue exactly once, and
the issue is 'sent' only then; meanwhile it is 'sending' and coordinators see why it waits."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.i18n import build_i18n
from bot.outgoing import OutgoingPath
from db import Database
from scheduler.newsletter.board import ProgressBoard
from scheduler.newsletter.delivery import DeliveryOptions, send_newsletter
from scheduler.notifier import Notifier
from tests.faults import OutageBotAPI

TOKEN = "123456:OUTAGE-token"
NOW = datetime(2026, 11, 1, 8, tzinfo=UTC)
SUBSCRIBERS = range(20_001, 20_201)
COORDINATOR = 7
# The production schedule waits minutes, then hours; the test's waits seconds.
OPTIONS = DeliveryOptions(
    retry_delays=(0.05, 0.1),
    outage_backoff=(1.0, 2.0, 4.0, 8.0),
    status_poll_interval=0.1,
    progress_interval=0.5,
)


@pytest.fixture
async def api() -> AsyncIterator[OutageBotAPI]:
    server = OutageBotAPI(TOKEN)
    async with server:
        yield server


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "outage.sqlite3")
    yield database
    await database.close()


def _copies(api: OutageBotAPI) -> Counter[int]:
    return Counter(api.sent_count[chat] for chat in SUBSCRIBERS)


@pytest.mark.parametrize(("fault", "seconds"), [("unreachable", 60.0), ("server_errors", 10.0)])
async def test_a_send_waits_out_an_outage(
    api: OutageBotAPI, db: Database, fault: str, seconds: float
) -> None:
    async with db.transaction() as repo:
        for chat in SUBSCRIBERS:
            await repo.subscribers.subscribe(chat, chat, NOW)
        newsletter_id = await repo.newsletters.create(
            "2026-11", ["<b>Листопад</b>"], NOW, status="approved"
        )
    session = AiohttpSession(api=TelegramAPIServer.from_base(api.url))
    # The newsletter's pace is the bot's one outgoing path, as `cso-bot run` builds it.
    session.middleware(OutgoingPath(28, retry_delays=(0.05, 0.1)))
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
    board = ProgressBoard(
        Notifier(db, build_i18n()), bot, newsletter_id, "2026-11", {COORDINATOR: None}
    )
    try:
        send = asyncio.create_task(
            send_newsletter(
                db, bot, newsletter_id, OPTIONS, on_progress=board, on_wait=board.waiting
            )
        )
        # The board is up and a quarter of the subscribers have it: then Telegram goes away.
        await api.wait_for(
            lambda c: (
                sum(api.sent_count[s] for s in SUBSCRIBERS) >= 50
                and bool(api.messages.get(COORDINATOR))
            ),
            timeout=30,
        )
        setattr(api, fault, True)
        await asyncio.sleep(seconds)
        async with db.read() as repo:
            status = await repo.newsletters.status(newsletter_id)
            counts = await repo.newsletters.counts(newsletter_id)
            waiting, next_try = await repo.newsletters.waiting(newsletter_id, datetime.now(UTC))
        setattr(api, fault, False)
        assert status == "sending", "an outage must not end the send"
        assert counts["failed"] == 0 and counts["pending"] > 0, counts
        assert api.refused > 0
        board_texts = [m.get("text", "") for m in api.messages[COORDINATOR]]
        assert any("Telegram недоступний" in t for t in board_texts) or any(
            "Telegram недоступний" in str(c.params.get("text", ""))
            for c in api.calls_of("editMessageText")
        ), board_texts

        summary = await asyncio.wait_for(send, timeout=60)
    finally:
        await bot.session.close()
    assert summary is not None and summary.status == "sent", summary
    assert _copies(api) == Counter({1: len(SUBSCRIBERS)})
    async with db.read() as repo:
        assert await repo.newsletters.counts(newsletter_id) == {
            "pending": 0, "sent": len(SUBSCRIBERS), "failed": 0,
        }  # fmt: skip
        assert await repo.newsletters.status(newsletter_id) == "sent"
    print(f"\n{fault} for {seconds:.0f} s: {api.refused} sends refused, waited {waiting} "
          f"(next try {next_try}); every subscriber one copy")  # fmt: skip
