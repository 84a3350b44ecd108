"""The outbox survives a SIGKILL: a coordinator's decision committed, the process killed before
the members' messages reach Telegram, then started again: each member gets it exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from db import Database, NewActivity
from tests.faults import OutageBotAPI

TOKEN = "123456:OUTBOX-crash-token"
COORDINATOR = 1
MEMBERS = (3101, 3102)
PLAN_ID = "vinnytsia-cso-partnership-2023-2024"


@pytest.fixture
async def api() -> AsyncIterator[OutageBotAPI]:
    server = OutageBotAPI(TOKEN)
    async with server:
        yield server
        server.released.set()


async def _start_bot(api: OutageBotAPI, database: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api.url,
        "DATABASE_PATH": str(database),
        "COORDINATOR_IDS": str(COORDINATOR),
        "LOG_LEVEL": "DEBUG",
    }
    env.pop("WEBHOOK_URL", None)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run",
        cwd=str(database.parent), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def _seed(database: Path) -> int:
    """A verified organisation of two members, and a report of theirs waiting for review."""
    db = await Database.open(database)
    try:
        async with db.transaction() as repo:
            org = await repo.organisations.create("ГО «Тест»", status="verified")
            for member in MEMBERS:
                await repo.memberships.request(member, org.id, approved=True)
            return await repo.activities.add(
                NewActivity(
                    PLAN_ID, "2.1.2-dialogue-meetings", "2.1.2", org.id, date(2024, 5, 1), 1,
                    "Зустріч", cso_participants=6, council_participants=2,
                    reported_by=MEMBERS[0],
                ),
                status="submitted",
                actor=MEMBERS[0],
            )  # fmt: skip
    finally:
        await db.close()


def _decisions(api: OutageBotAPI, chat: int) -> list[str]:
    return [
        m["text"] for m in api.messages.get(chat, []) if "Ваш звіт розглянуто" in m.get("text", "")
    ]


async def _stop(process: asyncio.subprocess.Process) -> bytes:
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    return output


async def test_a_decision_killed_before_delivery_reaches_each_member_once(
    api: OutageBotAPI, tmp_path: Path
) -> None:
    database = tmp_path / "outbox.sqlite3"
    await _seed(database)
    api.hang_chats = set(MEMBERS)  # the members' messages never get through before the kill

    process = await _start_bot(api, database)
    try:
        await api.wait_for(lambda c: c.method == "getUpdates", timeout=90)
        after = len(api.calls)
        api.push_message(COORDINATOR, "/pending")
        card = await api.wait_for(
            lambda c: c.method == "sendMessage" and c.ok and "reply_markup" in c.params,
            timeout=15, after=after,
        )  # fmt: skip
        approve = card.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        api.push_callback(COORDINATOR, approve, message_id=card.result["message_id"])
        # The decision is committed and its first message is on its way: kill the process.
        await api.wait_for(lambda c: bool(api.hung), timeout=15)
    finally:
        process.send_signal(signal.SIGKILL)
        await process.communicate()
    assert not any(_decisions(api, m) for m in MEMBERS), "nothing reached Telegram before the kill"

    api.hang_chats = set()
    process = await _start_bot(api, database)
    try:
        await api.wait_for(lambda c: all(_decisions(api, m) for m in MEMBERS), timeout=30)
        await asyncio.sleep(2)  # time for a duplicate to show up, if there were one
    finally:
        output = await _stop(process)
    for member in MEMBERS:
        assert len(_decisions(api, member)) == 1, (member, output.decode()[-3000:])
    db = await Database.open(database)
    try:
        async with db.read() as repo:
            for member in MEMBERS:
                assert [state for state, _ in await repo.outbox.of_chat(member)] == ["sent"]
    finally:
        await db.close()
