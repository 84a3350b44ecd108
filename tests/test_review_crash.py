"""SIGKILL after a coordinator returns a report with a comment: the decision, its comment and
the members' notices were committed together, so after a restart each member gets it once."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from db import Database
from tests.faults import OutageBotAPI
from tests.test_outbox_crash import COORDINATOR, MEMBERS, _decisions, _seed, _start_bot, _stop
from tests.test_outbox_crash import api as api


async def test_a_returned_report_killed_before_delivery_reaches_each_member_once(
    api: OutageBotAPI,
    tmp_path: Path,
) -> None:
    database = tmp_path / "review.sqlite3"
    activity_id = await _seed(database)
    api.hang_chats = set(MEMBERS)

    process = await _start_bot(api, database)
    try:
        await api.wait_for(lambda c: c.method == "getUpdates", timeout=90)
        after = len(api.calls)
        api.push_message(COORDINATOR, "/pending")
        card = await api.wait_for(
            lambda c: c.method == "sendMessage" and c.ok and "reply_markup" in c.params,
            timeout=15, after=after,
        )  # fmt: skip
        buttons = [b for row in card.params["reply_markup"]["inline_keyboard"] for b in row]
        give_back = next(b["callback_data"] for b in buttons if b["text"].startswith("↩"))
        after = len(api.calls)
        api.push_callback(COORDINATOR, give_back, message_id=card.result["message_id"])
        await api.wait_for(
            lambda c: c.method == "sendMessage" and "Чому звіт" in c.params.get("text", ""),
            timeout=15, after=after,
        )  # fmt: skip
        api.push_message(COORDINATOR, "Додайте фото")
        await api.wait_for(lambda c: bool(api.hung), timeout=15)
    finally:
        process.send_signal(signal.SIGKILL)
        await process.communicate()
    assert not any(_decisions(api, m) for m in MEMBERS)

    api.hang_chats = set()
    process = await _start_bot(api, database)
    try:
        await api.wait_for(lambda c: all(_decisions(api, m) for m in MEMBERS), timeout=30)
        await asyncio.sleep(2)  # time for a duplicate to show up, if there were one
    finally:
        output = await _stop(process)
    for member in MEMBERS:
        (notice,) = _decisions(api, member)
        assert "Додайте фото" in notice, output.decode()[-3000:]
    db = await Database.open(database)
    try:
        async with db.read() as repo:
            record = await repo.reports.get(activity_id)
        assert record is not None and record.status == "returned"
    finally:
        await db.close()
