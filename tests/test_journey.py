"""The reporting issue's whole journey: /register → an approved activity → /report and the CLI."""

from __future__ import annotations

import asyncio
import json
import os
import sys

from bot.app import App
from bot.config import Settings
from handlers.review_views import ReviewCb
from tests.conftest import ROOT, Chat, texts
from tests.test_activity_reports import _fill
from tests.test_registration import register


async def test_from_register_to_the_report(
    app: App, settings: Settings, chat: Chat, coordinator: Chat
) -> None:
    await register(chat)
    await coordinator.send("/organisations")
    await coordinator.tap("Схвалити")

    # The new member reports the yearly forum of 2.4.4 (20 CSOs and 20 council members needed).
    steps = [
        "/activity", "2.4.4", "10.10.2024", "Міський форум ІГС", ("tap", "Пропустити"),
        ("tap", "1"), "24", "22", ("tap", "Пропустити"), "https://example.org/forum",
    ]  # fmt: skip
    await _fill(chat, steps)
    await chat.tap("Надіслати")
    async with app.db.read() as repo:
        (pending,) = await repo.reports.pending()
    await coordinator.press(1, ReviewCb(action="approve", activity_id=pending.id).pack())

    await coordinator.send("/report")
    await coordinator.tap("2024")
    summary = texts(coordinator.session.requests[-3:])
    # One indicator of 44 met in 2024, in direction 2: the forum.
    assert "1 з 44" in summary, summary

    env = {**os.environ, "DATABASE_PATH": str(settings.database_path), "BOT_TOKEN": ""}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "report", "--year", "2024", "--format", "json",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    output, errors = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, errors.decode()
    report = json.loads(output)
    met = [i["indicator"] for i in report["indicators"] if i["met"]]
    assert met == ["2.4.4-forum"]
    forum = next(i for i in report["indicators"] if i["indicator"] == "2.4.4-forum")
    assert forum["actual"] == 1 and forum["target"] == 1
