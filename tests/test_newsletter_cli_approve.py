"""`cso-bot newsletter` as an operator uses it: approve a draft, send a draft (which approves it,
in the audit log as from the command line), and refusals that say what to do next."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db import Database
from fakes.bot_api import FakeBotAPI
from tests.test_newsletter_cli import TOKEN, _run

SUBSCRIBERS = (7001, 7002, 7003)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(TOKEN) as server:
        yield server


async def _drafts(tmp_path: Path, *months: str) -> None:
    db = await Database.open(tmp_path / "newsletter.sqlite3")
    try:
        async with db.transaction() as repo:
            for chat in SUBSCRIBERS:
                await repo.subscribers.subscribe(chat, chat, datetime.now(UTC))
            for month in months:
                await repo.newsletters.create(month, [f"<b>Випуск {month}</b>"], datetime.now(UTC))
    finally:
        await db.close()


async def _audited(tmp_path: Path) -> int:
    db = await Database.open(tmp_path / "newsletter.sqlite3")
    try:
        async with db.read() as repo:
            return await repo.activities.audit_count("newsletter")
    finally:
        await db.close()


async def test_the_operator_approves_and_sends_drafts(api: FakeBotAPI, tmp_path: Path) -> None:
    await _drafts(tmp_path, "2026-09", "2026-10")

    code, output = await _run(api, tmp_path, "approve", "--month", "2026-09")
    assert code == 0 and "approved from the command line" in output, output
    code, output = await _run(api, tmp_path, "status", "--month", "2026-09")
    assert "2026-09 approved" in output
    code, output = await _run(api, tmp_path, "approve", "--month", "2026-09")
    assert code == 2 and "newsletter send --month 2026-09" in output, output

    # Sending a draft is the operator's approval: recorded, then sent to everyone once.
    code, output = await _run(api, tmp_path, "send", "--month", "2026-10")
    assert code == 0 and "2026-10 sent" in output, output
    assert all(api.sent_count[chat] == 1 for chat in SUBSCRIBERS)
    assert await _audited(tmp_path) == 2

    # Every refusal says what to do next.
    code, output = await _run(api, tmp_path, "pause", "--month", "2026-10")
    assert code == 2 and "newsletter status --month 2026-10" in output, output
    code, output = await _run(api, tmp_path, "cancel", "--month", "2026-08")
    assert code == 2 and "newsletter send --month 2026-08" in output, output
    code, output = await _run(api, tmp_path, "resume", "--month", "2026-10")
    assert code == 0 and "already sent" in output, output
