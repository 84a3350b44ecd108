"""One update at a time per person, groups, odd ids and a database that cannot save: through the
real dispatcher, with the person's updates arriving at once as they do in one getUpdates batch."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.types import (
    CallbackQuery,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberUpdated,
    Message,
    MessageEntity,
    Update,
    User,
)
from aiogram.types import (
    Chat as TgChat,
)

from bot.app import App
from tests.conftest import COORDINATOR_ID, Chat, methods, texts
from tests.test_activity_reports import MEETING, _fill, _pending_ids, member  # noqa: F401

GROUP = -100500
STRANGER = 777
_ids = iter(range(10_000_000, 20_000_000))


async def _state(app: App, user_id: int, chat_id: int | None = None) -> Any:
    async with app.db.read() as repo:
        return await repo.dialogs.get(f"fsm:{chat_id or user_id}:{user_id}:default")


async def test_a_double_tap_on_submit_makes_one_report(member: Chat, app: App) -> None:  # noqa: F811
    await _fill(member, MEETING)
    message_id, buttons = member.keyboard()
    submit = next(data for text, data in buttons if "Надіслати" in text)
    before = len(member.session.requests)
    await asyncio.gather(member.press(message_id, submit), member.press(message_id, submit))
    assert len(await _pending_ids(app)) == 1
    answers = [
        r for r in member.session.requests[before:] if r.__api_method__ == "answerCallbackQuery"
    ]
    assert len(answers) == 2, "the second tap is answered too"


async def test_two_answers_typed_back_to_back_land_in_their_own_fields(
    member: Chat,  # noqa: F811
    app: App,
) -> None:
    await _fill(member, MEETING[:4])  # up to the date; the title is asked next
    await asyncio.gather(
        member.send("Зустріч з департаментом освіти"), member.send("Обговорили план на рік")
    )
    _, data = await _state(app, MEMBER_ID)
    draft = data.get("draft") or data
    flat = str(draft)
    assert "Зустріч з департаментом освіти" in flat and "Обговорили план на рік" in flat
    assert draft.get("title") == "Зустріч з департаментом освіти", draft
    assert draft.get("description") == "Обговорили план на рік", draft


MEMBER_ID = 100


async def test_subscribe_then_unsubscribe_at_once_leaves_the_person_unsubscribed(
    app: App, chat: Chat
) -> None:
    for _ in range(5):
        await asyncio.gather(chat.send("/subscribe"), chat.send("/unsubscribe"))
        async with app.db.read() as repo:
            record = await repo.subscribers.get(chat.chat.id)
        assert record is not None and not record.active


def _group_message(text: str | None, user_id: int = STRANGER, **extra: Any) -> Update:
    entities = None
    if text and text.startswith("/"):
        entities = [MessageEntity(type="bot_command", offset=0, length=len(text.split()[0]))]
    message = Message(
        message_id=next(_ids),
        date=datetime.now(UTC),
        chat=TgChat(id=GROUP, type="supergroup", title="ГО і друзі"),
        from_user=User(id=user_id, is_bot=False, first_name="Гість"),
        text=text,
        entities=entities,
        **extra,
    )
    return Update(update_id=next(_ids), message=message)


async def test_in_a_group_the_bot_runs_no_dialog_and_shows_no_coordinator_view(
    app: App, coordinator: Chat
) -> None:
    for text in ("/activity", "/pending", "/start", "/register", "/subscribe", "форум"):
        assert not await coordinator.feed(_group_message(text, COORDINATOR_ID))
        assert not await coordinator.feed(_group_message(text, STRANGER))
    joined = _group_message(None, new_chat_members=[User(id=5, is_bot=False, first_name="Н")])
    assert not await coordinator.feed(joined)
    assert await _state(app, COORDINATOR_ID, GROUP) == (None, {})
    async with app.db.read() as repo:
        assert await repo.subscribers.get(GROUP) is None


async def test_added_to_a_group_it_says_once_that_it_works_in_private_chats(
    coordinator: Chat,
) -> None:
    bot_user = User(id=1, is_bot=True, first_name="CSO Bot")
    adder = User(id=STRANGER, is_bot=False, first_name="Гість")
    group = TgChat(id=GROUP, type="group", title="ГО і друзі")

    def membership(old: Any, new: Any) -> Update:
        change = ChatMemberUpdated(
            chat=group, from_user=adder, date=datetime.now(UTC), old_chat_member=old,
            new_chat_member=new,
        )  # fmt: skip
        return Update(update_id=next(_ids), my_chat_member=change)

    sent = await coordinator.feed(
        membership(ChatMemberLeft(user=bot_user), ChatMemberMember(user=bot_user))
    )
    assert methods(sent) == ["sendMessage"] and sent[0].chat_id == GROUP
    assert "особистих" in texts(sent)
    # Removed again: silence.
    assert not await coordinator.feed(
        membership(ChatMemberMember(user=bot_user), ChatMemberLeft(user=bot_user))
    )


async def test_a_button_pressed_in_a_group_is_answered_and_changes_nothing(
    app: App, coordinator: Chat
) -> None:
    message = Message(
        message_id=5, date=datetime.now(UTC), chat=TgChat(id=GROUP, type="supergroup"), text="…"
    )
    query = CallbackQuery(
        id="g1", from_user=coordinator.user, chat_instance="g", message=message, data="menu:plan"
    )
    sent = await coordinator.feed(Update(update_id=next(_ids), callback_query=query))
    assert methods(sent) == ["answerCallbackQuery"] and "особистих" in sent[0].text


@pytest.mark.parametrize(
    "data",
    ["ev:open:99999999999999999999:0:", "rv:approve:9223372036854775808", "my:show:-9" + "9" * 19],
)
async def test_ids_too_big_for_sqlite_are_a_stale_button(app: App, chat: Chat, data: str) -> None:
    await chat.send("/start")
    sent = await chat.press(1, data)
    assert methods(sent) == ["answerCallbackQuery"]
    assert "застаріла" in sent[0].text or "out of date" in sent[0].text


async def test_a_message_without_a_sender_is_ignored(app: App, chat: Chat) -> None:
    for text in ("/subscribe", "/register", "/activity"):
        message = Message(
            message_id=next(_ids), date=datetime.now(UTC),
            chat=TgChat(id=USER, type="private"), text=text,
            entities=[MessageEntity(type="bot_command", offset=0, length=len(text))],
        )  # fmt: skip
        assert not await chat.feed(Update(update_id=next(_ids), message=message))
    async with app.db.read() as repo:
        assert await repo.subscribers.get(USER) is None


USER = 100


async def test_a_full_disk_is_answered_and_logged_once(
    app: App, chat: Chat, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="bot.safeguards")
    # tests/test_layers.py runs import-linter in-process, which disables existing loggers.
    monkeypatch.setattr(logging.getLogger("bot.safeguards"), "disabled", False)
    await chat.send("/start")

    @asynccontextmanager
    async def full() -> AsyncIterator[Any]:
        # What SQLite raises at the first write when the disk has no room left.
        raise sqlite3.OperationalError("database or disk is full")
        yield  # pragma: no cover

    monkeypatch.setattr(app.db, "transaction", full)
    monkeypatch.setattr(app.db, "single_statement", full)  # /subscribe writes in one statement
    for _ in range(3):
        sent = await chat.send("/subscribe")
        assert "не може зберегти" in texts(sent), texts(sent)
    async with app.db.read() as repo:
        assert await repo.subscribers.get(chat.chat.id) is None
    full_disk = [r for r in caplog.records if "disk is full" in r.getMessage()]
    assert len(full_disk) == 1 and "Traceback" not in caplog.text


async def test_a_title_of_invisible_characters_is_refused_and_nothing_stored(
    member: Chat,  # noqa: F811
    app: App,
) -> None:
    await _fill(member, MEETING[:4])  # the title is asked next
    before = await _state(app, MEMBER_ID)
    sent = await member.send("\u200b\u202e\u200b")
    assert texts(sent).startswith("⚠"), texts(sent)
    assert await _state(app, MEMBER_ID) == before
