"""Coordinators' newsletter: preview, test, introduction, approval, send, archive, forgeries."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import Message, MessageEntity, Update

from bot.app import App
from plan.clock import Clock
from scheduler.newsletter.delivery import DeliveryRunner
from scheduler.newsletter.keyboards import NewsletterCb
from tests.conftest import Chat, texts

NOW = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock.fixed(NOW)


def _runner(app: App) -> DeliveryRunner:
    return app.dispatcher["newsletter"].deliveries


async def _issue(app: App) -> int:
    async with app.db.read() as repo:
        issue = await repo.newsletters.by_month("2024-03")
    assert issue is not None
    return issue.id


async def test_draft_test_intro_approve_send_archive(
    app: App, coordinator: Chat, chat: Chat
) -> None:
    async with app.db.transaction() as repo:
        await repo.subscribers.subscribe(777, 777, NOW)
    await coordinator.send("/newsletter")
    issue = await _issue(app)
    sent = await coordinator.tap("🧪")
    assert any(
        getattr(r, "chat_id", None) == 900 and "Розсилка плану" in str(getattr(r, "text", ""))
        for r in sent
    )

    await coordinator.tap("✏")
    refused = texts(await coordinator.send("Вітаємо " * 1250))
    assert "10000" in refused or "3000" in refused
    async with app.db.read() as repo:
        record = await repo.newsletters.get(issue)
    assert record is not None and record.intro == ""  # the old introduction is kept
    # Formatted in Telegram: bold kept; a plain "&" and "<" typed as text are just text.
    text = "Вітаємо & дякуємо <вам>"
    formatted = Message(
        message_id=10_000,
        date=NOW,
        chat=coordinator.chat,
        from_user=coordinator.user,
        text=text,
        entities=[MessageEntity(type="bold", offset=0, length=7)],
    )
    saved = texts(await coordinator.feed(Update(update_id=10_001, message=formatted)))
    assert "<b>Вітаємо</b> &amp; дякуємо &lt;вам&gt;" in saved
    async with app.db.read() as repo:
        record = await repo.newsletters.get(issue)
    assert record is not None and record.intro == "<b>Вітаємо</b> &amp; дякуємо &lt;вам&gt;"

    await coordinator.tap("✅")  # send time has passed: it goes out now
    runner = _runner(app)
    await asyncio.wait_for(asyncio.gather(*runner.tasks), timeout=10)
    async with app.db.read() as repo:
        record = await repo.newsletters.get(issue)
    assert record is not None and record.status == "sent"
    assert any(getattr(r, "chat_id", None) == 777 for r in coordinator.session.requests)

    shown = await chat.send("/newsletters")
    assert "03.2024" in "".join(chat.buttons())
    read = await chat.tap("03.2024")
    assert "<b>Вітаємо</b>" in texts(read)
    assert shown


async def test_forged_admin_callbacks_change_nothing(
    app: App, coordinator: Chat, chat: Chat
) -> None:
    await coordinator.send("/newsletter")
    issue = await _issue(app)
    for action in ("approve", "intro", "test", "pause", "cancel", "resume"):
        answer = await chat.press(1, NewsletterCb(action=action, id=issue).pack())
        assert "координатор" in str(getattr(answer[-1], "text", ""))
    async with app.db.read() as repo:
        record = await repo.newsletters.get(issue)
    assert record is not None and record.status == "draft" and record.approved_by is None
    assert "координатор" in texts(await chat.send("/newsletter"))


async def test_pause_resume_cancel_buttons(app: App, coordinator: Chat) -> None:
    async with app.db.transaction() as repo:
        await repo.subscribers.subscribe(777, 777, NOW)
    await coordinator.send("/newsletter")
    issue = await _issue(app)
    async with app.db.transaction() as repo:
        await repo.newsletters.approve(issue, 900)
        await repo.newsletters.start_sending(issue, NOW)  # as if a send were under way
    await coordinator.press(1, NewsletterCb(action="pause", id=issue).pack())
    async with app.db.read() as repo:
        assert await repo.newsletters.status(issue) == "paused"
    await coordinator.press(1, NewsletterCb(action="resume", id=issue).pack())
    runner = _runner(app)
    await asyncio.wait_for(asyncio.gather(*runner.tasks), timeout=10)
    async with app.db.read() as repo:
        assert await repo.newsletters.status(issue) == "sent"
    answer = await coordinator.press(1, NewsletterCb(action="cancel", id=issue).pack())
    assert answer  # a sent issue can no longer be cancelled
    async with app.db.read() as repo:
        assert await repo.newsletters.status(issue) == "sent"


async def test_a_removed_coordinator_writing_an_introduction_is_let_go(
    app: App, coordinator: Chat
) -> None:
    added = Chat(app, 901)
    async with app.db.transaction() as repo:
        await repo.coordinators.add(901, actor=900)
    await added.send("/newsletter")
    issue = await _issue(app)
    await added.press(1, NewsletterCb(action="intro", id=issue).pack())
    async with app.db.transaction() as repo:
        await repo.coordinators.remove(901, actor=900)
    assert "координатор" in texts(await added.send("<b>Вступ</b>"))
    async with app.db.read() as repo:
        record = await repo.newsletters.get(issue)
    assert record is not None and record.intro == ""
    key = StorageKey(bot_id=added.bot.id, chat_id=901, user_id=901)
    assert await app.dispatcher.storage.get_state(key) is None
    assert "координатор" not in texts(await added.send("/start"))
