"""SIGTERM while updates are in hand: they are finished (within the drain's bound), then the
real `cso-bot run` exits 0 with nothing logged as an error."""

from __future__ import annotations

import signal
from pathlib import Path

from fakes.bot_api import FakeBotAPI
from tests.test_journal import rows
from tests.test_two_processes import start_bot, stop_bot

TOKEN = "123456:SHUTDOWN-token"
PEOPLE = range(6001, 6031)


async def test_sigterm_with_updates_in_hand_finishes_them_and_exits_cleanly(
    tmp_path: Path,
) -> None:
    database = tmp_path / "bot.sqlite3"
    async with FakeBotAPI(TOKEN) as api:
        bot = await start_bot(api, database)
        # Each reply is held a second by the server, so the updates are still in hand when
        # the signal comes right after the bot has confirmed them.
        api.hang_for(5, hang=1.0)
        ids = [api.push_message(person, "/subscribe") for person in PEOPLE]
        await api.wait_confirmed(ids[-1], timeout=30)
        bot.process.send_signal(signal.SIGTERM)
        in_hand = rows(database, "SELECT count(*) FROM received_updates WHERE handled_at IS NULL")
        assert in_hand[0][0] > 0, "the signal came after everything was handled"
        log = await stop_bot(bot)
        answered = {c.params["chat_id"] for c in api.calls_of("sendMessage") if c.ok} & set(PEOPLE)
    assert answered == set(PEOPLE), log
    assert rows(database, "SELECT count(*), count(handled_at) FROM received_updates") == [
        (len(PEOPLE), len(PEOPLE))
    ]
