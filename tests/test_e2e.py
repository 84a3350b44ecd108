"""End to end: the real `cso-bot run` process against a local fake Telegram Bot API over HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fakes.bot_api import Call, FakeBotAPI

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:E2E-secret-token-value"
CHAT = 4242


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(TOKEN) as server:
        yield server


async def _start_bot(api: FakeBotAPI, tmp_path: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api.url,
        "DATABASE_PATH": str(tmp_path / "e2e.sqlite3"),
        "COORDINATOR_IDS": "1",
        "LOG_LEVEL": "DEBUG",
    }
    env.pop("WEBHOOK_URL", None)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run",
        cwd=str(tmp_path), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def _say(api: FakeBotAPI, text: str) -> Call:
    after = len(api.calls)
    api.push_message(CHAT, text)
    return await api.wait_for_reply(CHAT, after=after, timeout=15)


async def test_real_process_walks_the_plan_over_http(api: FakeBotAPI, tmp_path: Path) -> None:
    process = await _start_bot(api, tmp_path)
    try:
        await api.wait_for(lambda c: c.method == "getUpdates", timeout=30)
        assert api.calls_of("deleteWebhook"), "polling must delete any webhook first"
        assert api.calls_of("setMyCommands")

        reply = await _say(api, "/start")
        assert "План партнерства" in reply.params["text"]

        reply = await _say(api, "/plan")
        assert "Оберіть стратегічний напрям" in reply.params["text"]
        plan_message = reply.result["message_id"]
        buttons = reply.params["reply_markup"]["inline_keyboard"]
        first_direction = buttons[0][0]["callback_data"]

        after = len(api.calls)
        api.push_callback(CHAT, first_direction, message_id=plan_message)
        edit = await api.wait_for(
            lambda c: c.method == "editMessageText" and c.ok, timeout=15, after=after
        )
        assert edit.params["message_id"] == plan_message
        assert "Стратегічний напрям 1" in edit.params["text"]
        await api.wait_for(lambda c: c.method == "answerCallbackQuery", timeout=15, after=after)

        reply = await _say(api, "/measure 1.1.1")
        assert "Захід 1.1.1" in reply.params["text"]
        assert "Цикл навчальних" in reply.params["text"]

        reply = await _say(api, "форум")
        assert "1.1.2" in reply.params["text"] and "2.4.4" in reply.params["text"]

        reply = await _say(api, "<b>&")
        assert "&lt;b&gt;&amp;" in reply.params["text"]

        # Every update was confirmed to Telegram with offset = last update_id + 1.
        last = api.push_message(CHAT, "/help")
        await api.wait_confirmed(last, timeout=20)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    log = output.decode()
    assert process.returncode == 0, log
    assert TOKEN not in log
    assert TOKEN.split(":")[1] not in log
    refused = [c for c in api.calls if c.method in ("sendMessage", "editMessageText") and not c.ok]
    assert not refused, [c.description for c in refused]
