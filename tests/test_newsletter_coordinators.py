"""A coordinator added with /coordinators hears about the newsletter exactly as a configured one:
the draft, the test send, the send's progress board and its summary."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.methods import TelegramMethod

from bot.app import App
from plan.clock import Clock
from scheduler.newsletter import job
from scheduler.newsletter.keyboards import IssueAction, NewsletterCb
from tests.conftest import COORDINATOR_ID, Chat, texts

DRAFT_DUE = datetime(2024, 3, 30, 12, tzinfo=UTC)  # April's issue goes out 1 April, 10:00 Kyiv
SEND_DUE = datetime(2024, 4, 1, 8, tzinfo=UTC)  # 11:00 Kyiv
ADDED_ID = 901
SUBSCRIBER = 501


@pytest.fixture
def clock() -> Clock:
    return Clock.fixed(DRAFT_DUE)


def _to(requests: list[TelegramMethod[Any]], chat_id: int) -> list[tuple[str, str, Any]]:
    """What one chat was sent: method, text and buttons, in order."""
    return [
        (r.__api_method__, str(getattr(r, "text", "")), getattr(r, "reply_markup", None))
        for r in requests
        if getattr(r, "chat_id", None) == chat_id
    ]


async def _tick(app: App) -> None:
    """The newsletter's hourly check, as APScheduler calls it; then wait for its sends."""
    await app.scheduler.get_job(job.CHECK_JOB).func()  # type: ignore[attr-defined]
    newsletter = app.dispatcher["newsletter"]
    await asyncio.wait_for(asyncio.gather(*newsletter.deliveries.tasks), timeout=10)


async def test_an_added_coordinator_gets_the_draft_test_send_and_board(
    app: App, coordinator: Chat, clock: Clock
) -> None:
    await coordinator.send("/coordinators")
    await coordinator.tap("Додати")
    assert str(ADDED_ID) in texts(await coordinator.send(str(ADDED_ID)))
    added = Chat(app, ADDED_ID)
    async with app.db.transaction() as repo:
        await repo.subscribers.subscribe(SUBSCRIBER, SUBSCRIBER, DRAFT_DUE)

    # The bot starts with the configured coordinator's chat as its bot; the draft falls due.
    dp, bot = app.dispatcher, coordinator.bot
    await dp.emit_startup(bot=bot, dispatcher=dp, **dp.workflow_data)
    try:
        seen = len(coordinator.session.requests)
        await _tick(app)
        draft = coordinator.session.requests[seen:]
        to_configured, to_added = _to(draft, COORDINATOR_ID), _to(draft, ADDED_ID)
        assert to_configured and to_added == to_configured
        assert "чернетка" in to_added[-1][1].lower() and to_added[-1][2] is not None
        async with app.db.read() as repo:
            issue = await repo.newsletters.by_month("2024-04")
        assert issue is not None and issue.status == "draft"

        # A test send: the added coordinator gets what the configured one gets.
        test = NewsletterCb(action=IssueAction.test, id=issue.id).pack()
        seen = len(coordinator.session.requests)
        await coordinator.press(1, test)
        mine = _to(coordinator.session.requests[seen:], COORDINATOR_ID)
        theirs = _to(await added.press(1, test), ADDED_ID)
        assert theirs and theirs == mine and "🧪" in theirs[-1][1]

        # The added coordinator approves it; at send time the board goes to both.
        await added.press(1, NewsletterCb(action=IssueAction.approve, id=issue.id).pack())
        clock.set(SEND_DUE)
        seen = len(coordinator.session.requests)
        await _tick(app)
        send = coordinator.session.requests[seen:]
    finally:
        await dp.emit_shutdown(bot=bot, dispatcher=dp, **dp.workflow_data)
    assert [m for m, *_ in _to(send, SUBSCRIBER)] == ["sendMessage"]
    board_configured, board_added = _to(send, COORDINATOR_ID), _to(send, ADDED_ID)
    assert board_added == board_configured
    assert board_added[0][0] == "sendMessage" and "Розсилка за квітень 2024" in board_added[0][1]
    assert "✅" in board_added[-1][1]  # the summary: the send is done
    async with app.db.read() as repo:
        assert await repo.newsletters.status(issue.id) == "sent"
