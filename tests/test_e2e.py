"""End to end: the real `cso-bot run` process against a local fake Telegram Bot API over HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
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


async def _start_bot(
    api: FakeBotAPI, tmp_path: Path, log_level: str = "DEBUG", database: str | Path | None = None
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api.url,
        "DATABASE_PATH": str(tmp_path / "e2e.sqlite3"),
        "COORDINATOR_IDS": "1",
        "LOG_LEVEL": log_level,
    }
    env.pop("WEBHOOK_URL", None)
    if isinstance(database, str):  # a PostgreSQL database instead of the file
        env["DATABASE_URL"] = database
    # A file, not a pipe: nobody reads a pipe while the bot runs, and a full one stalls it.
    with (tmp_path / "bot.log").open("ab") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run",
            cwd=str(tmp_path), env=env, stdout=log, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip


async def _say(api: FakeBotAPI, text: str) -> Call:
    after = len(api.calls)
    api.push_message(CHAT, text)
    return await api.wait_for_reply(CHAT, after=after, timeout=15)


async def test_real_process_walks_the_plan_over_http(
    api: FakeBotAPI, tmp_path: Path, database_target: str | Path
) -> None:
    process = await _start_bot(api, tmp_path, database=database_target)
    try:
        await api.wait_for(lambda c: c.method == "getUpdates", timeout=90)
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
        await asyncio.wait_for(process.wait(), timeout=30)
    log = (tmp_path / "bot.log").read_text(errors="replace")
    assert process.returncode == 0, log
    assert TOKEN not in log
    assert TOKEN.split(":")[1] not in log
    refused = [c for c in api.calls if c.method in ("sendMessage", "editMessageText") and not c.ok]
    assert not refused, [c.description for c in refused]


async def _run_with(api: FakeBotAPI, tmp_path: Path) -> asyncio.subprocess.Process:
    process = await _start_bot(api, tmp_path, "INFO")
    await api.wait_polling(timeout=60)
    return process


async def _stop(process: asyncio.subprocess.Process, tmp_path: Path) -> str:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.wait(), timeout=30)
    log = (tmp_path / "bot.log").read_text(errors="replace")
    assert process.returncode == 0, log[-5000:]
    assert "Traceback" not in log, log[-5000:]
    return log


def _answered(api: FakeBotAPI, chat: int) -> list[Call]:
    return [c for c in api.calls_of("sendMessage") if c.ok and c.params["chat_id"] == chat]


async def test_200_people_send_start_within_a_second_and_every_one_is_answered(
    tmp_path: Path,
) -> None:
    """Telegram's limits (30/s for the bot, one chat's burst) enforced with 429 + retry_after."""
    people = range(10_001, 10_201)
    async with FakeBotAPI(TOKEN, rate_limit=30, chat_burst=3) as api:
        process = await _run_with(api, tmp_path)
        try:
            for person in people:
                api.push_message(person, "/start")
            for person in people:
                await api.wait_for_reply(person, timeout=60)
        finally:
            await _stop(process, tmp_path)
    assert all(len(_answered(api, person)) == 1 for person in people)


async def test_a_reply_that_meets_a_429_arrives_after_retry_after(tmp_path: Path) -> None:
    async with FakeBotAPI(TOKEN, rate_limit=30, chat_burst=3) as api:
        process = await _run_with(api, tmp_path)
        try:
            api.flood(retry_after=2)  # the next send meets Telegram's flood control
            after = len(api.calls)
            api.push_message(CHAT, "/start")
            reply = await api.wait_for_reply(CHAT, after=after, timeout=30)
        finally:
            await _stop(process, tmp_path)
    refused = [c for c in api.calls[after:] if c.status == 429 and c.method == "sendMessage"]
    assert refused, "the reply should have met the 429"
    retry_after = refused[0].response["parameters"]["retry_after"]
    assert reply.at - refused[0].at >= retry_after - 0.05


async def test_5xx_for_a_few_seconds_then_every_person_is_answered(tmp_path: Path) -> None:
    people = range(20_001, 20_021)
    async with FakeBotAPI(TOKEN) as api:
        process = await _run_with(api, tmp_path)
        try:
            api.fail_for(4)
            for person in people:
                api.push_message(person, "/start")
            for person in people:
                await api.wait_for_reply(person, timeout=60)
        finally:
            await _stop(process, tmp_path)
    assert all(len(_answered(api, person)) == 1 for person in people)
    assert any(c.status == 502 for c in api.calls_of("sendMessage"))


async def test_subscribe_then_unsubscribe_in_one_batch_leaves_the_person_unsubscribed(
    tmp_path: Path,
) -> None:
    people = range(30_001, 30_031)
    async with FakeBotAPI(TOKEN) as api:
        process = await _run_with(api, tmp_path)
        try:
            for person in people:  # queued together: one getUpdates batch
                api.push_message(person, "/subscribe")
                api.push_message(person, "/unsubscribe")
            for person in people:  # both answered
                first = await api.wait_for_reply(person, timeout=60)
                await api.wait_for_reply(person, after=first.index + 1, timeout=60)
        finally:
            await _stop(process, tmp_path)
    rows = (
        sqlite3.connect(tmp_path / "e2e.sqlite3")
        .execute("SELECT user_id FROM subscribers WHERE active")
        .fetchall()
    )
    assert not {r[0] for r in rows} & set(people)


async def test_started_while_the_api_is_unreachable_it_waits_and_then_polls(
    tmp_path: Path,
) -> None:
    async with FakeBotAPI(TOKEN) as api:
        await api.go_offline()
        process = await _start_bot(api, tmp_path, "INFO")
        try:
            for _ in range(600):  # until it has tried at least twice
                log = (tmp_path / "bot.log").read_text(errors="replace")
                if log.count("unreachable") >= 2:
                    break
                await asyncio.sleep(0.1)
            await api.go_online()
            await api.wait_polling(timeout=60)
            reply = await _say(api, "/start")
            assert "План партнерства" in reply.params["text"]
        finally:
            log = await _stop(process, tmp_path)
    assert log.count("unreachable") >= 2
    assert "Unclosed client session" not in log and "Traceback" not in log


async def test_stopped_while_the_api_is_unreachable_it_exits_cleanly(tmp_path: Path) -> None:
    async with FakeBotAPI(TOKEN) as api:
        await api.go_offline()
        process = await _start_bot(api, tmp_path, "INFO")
        for _ in range(600):
            if "unreachable" in (tmp_path / "bot.log").read_text(errors="replace"):
                break
            await asyncio.sleep(0.1)
        log = await _stop(process, tmp_path)
    assert "unreachable" in log and "Unclosed client session" not in log
