"""The deploy steps and the one send budget without Redis, as real processes: `cso-bot webhook
set|info|delete`, and `newsletter send` handing the send to the bot running on this machine."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis

from db import Database
from fakes.bot_api import FakeBotAPI
from tests.test_two_processes import ROOT, rows, start_bot, stop_bot

TOKEN = "123456:DEPLOY-token"
MONTH = "2026-11"
SUBSCRIBERS = range(40_001, 40_061)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(TOKEN, rate_limit=30) as server:
        yield server


async def cli(api: FakeBotAPI, database: Path, *args: str, **extra: str) -> tuple[int, str]:
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api.url,
        "DATABASE_PATH": str(database),
        "PLAN_FILE": str(ROOT / "data" / "annex4.yaml"),
        **extra,
    }
    for name in ("WEBHOOK_URL", "WEBHOOK_SECRET", "REDIS_URL"):
        if name not in extra:
            env.pop(name, None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, cwd=str(database.parent), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def approved_issue(database: Path) -> None:
    """SUBSCRIBERS and an approved issue of MONTH."""
    db = await Database.open(database)
    try:
        async with db.transaction() as repo:
            for chat in SUBSCRIBERS:
                await repo.subscribers.subscribe(chat, chat, datetime.now(UTC))
            await repo.newsletters.create(MONTH, ["Новини"], datetime.now(UTC), status="approved")
    finally:
        await db.close()


async def test_the_webhook_is_set_shown_and_deleted_by_the_operator(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    database = tmp_path / "bot.sqlite3"
    hook = {"WEBHOOK_URL": "https://bot.example.org/webhook", "WEBHOOK_SECRET": "deploy-s3cret"}
    code, output = await cli(api, database, "webhook", "set", **hook)
    assert code == 0, output
    assert api.webhook_url == "https://bot.example.org/webhook"
    (call,) = api.calls_of("setWebhook")
    assert call.params["secret_token"] == "deploy-s3cret"
    assert "message" in call.params["allowed_updates"]
    assert "callback_query" in call.params["allowed_updates"]
    assert "deploy-s3cret" not in output  # the secret is never printed

    code, output = await cli(api, database, "webhook", "info")
    assert code == 0 and "url: https://bot.example.org/webhook" in output, output

    code, output = await cli(api, database, "webhook", "delete")
    assert code == 0 and "webhook deleted" in output and "(none: polling)" in output, output
    assert api.webhook_url == ""


async def test_setting_the_webhook_without_its_settings_says_what_is_missing(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    code, output = await cli(api, tmp_path / "bot.sqlite3", "webhook", "set")
    assert code == 2 and "WEBHOOK_URL and WEBHOOK_SECRET" in output, output
    assert not api.calls_of("setWebhook")


async def test_a_cli_send_is_handed_to_the_running_bot(api: FakeBotAPI, tmp_path: Path) -> None:
    """Without Redis the running bot holds the scheduler lease (a lock beside the database):
    the CLI does not send beside it (two budgets) but hands it the send."""
    database = tmp_path / "bot.sqlite3"
    await approved_issue(database)
    bot = await start_bot(api, database, "bot", LEADER_LEASE="1")
    try:
        # The bot leads once it holds the lock.
        deadline = asyncio.get_running_loop().time() + 30
        while "scheduler leader now" not in bot.output():
            assert asyncio.get_running_loop().time() < deadline, bot.output()
            await asyncio.sleep(0.1)
        code, output = await cli(api, database, "newsletter", "send", "--month", MONTH)
        assert code == 0, output
        assert "the bot running on this machine sends it now" in output, output
        deadline = asyncio.get_running_loop().time() + 30
        while any(api.sent_count[c] == 0 for c in SUBSCRIBERS):
            assert asyncio.get_running_loop().time() < deadline, bot.output()
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)
    finally:
        log = await stop_bot(bot)
    assert all(api.sent_count[c] == 1 for c in SUBSCRIBERS)
    assert rows(database, f"SELECT status FROM newsletters WHERE month = '{MONTH}'") == [("sent",)]
    assert "resuming newsletter" in log or "newsletter 1" in log


async def test_with_no_bot_running_the_cli_sends_itself(api: FakeBotAPI, tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    await approved_issue(database)
    code, output = await cli(api, database, "newsletter", "send", "--month", MONTH)
    assert code == 0, output
    assert f"{MONTH} sent: sent {len(SUBSCRIBERS)}" in output, output
    assert all(api.sent_count[c] == 1 for c in SUBSCRIBERS)


async def test_with_redis_the_cli_sends_itself_on_the_shared_budget(
    api: FakeBotAPI, tmp_path: Path, redis_url: str
) -> None:
    database = tmp_path / "bot.sqlite3"
    await approved_issue(database)
    code, output = await cli(
        api, database, "newsletter", "send", "--month", MONTH, REDIS_URL=redis_url
    )
    assert code == 0, output
    assert all(api.sent_count[c] == 1 for c in SUBSCRIBERS)
    redis = Redis.from_url(redis_url)
    try:
        # Its slots were taken from the bot's budget in Redis, where the workers take theirs.
        assert await redis.exists(f"cso-bot:{TOKEN.split(':')[0]}:next-slot")
    finally:
        await redis.aclose()
