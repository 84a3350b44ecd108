"""Each user's kept profile (bot/middlewares.py `Profiles`) against what the database says: a
change of language, membership or coordinators by any path shows on the very next update, and
a write that concerns no profile (a subscription) drops no one's copy."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.common import TripCounter
from bot.app import App
from db import PROFILE_TABLES, Written
from tests.conftest import COORDINATOR_ID, USER_ID, Chat, texts
from tests.test_activity_reports import MEMBER_ID, member  # noqa: F401
from tests.test_registration import register

OTHER_ID = 4321


async def _trips(chat: Chat, text: str) -> int:
    with TripCounter() as counter:
        await chat.send(text)
    return counter.trips


async def _known(*chats: Chat) -> None:
    """Each person has written before and their profile is kept."""
    for chat in chats:
        await chat.send("/help")
        await chat.send("/help")


async def test_a_subscription_drops_no_one_else_s_profile(app: App, chat: Chat) -> None:
    other = Chat(app, OTHER_ID)
    await _known(chat, other)
    assert await _trips(chat, "форум") == 0
    assert "раз на місяць" in texts(await other.send("/subscribe"))
    assert await _trips(chat, "форум") == 0  # before, any commit dropped every profile


async def test_one_person_s_language_leaves_the_others_kept(app: App, chat: Chat) -> None:
    other = Chat(app, OTHER_ID)
    await _known(chat, other)
    await other.send("/language")
    await other.tap("English")
    assert await _trips(chat, "форум") == 0
    assert "partnership plan" in texts(await other.send("/start"))


async def test_a_language_set_outside_the_dialog_shows_on_the_next_update(
    app: App, chat: Chat
) -> None:
    await _known(chat)
    async with app.db.transaction() as repo:
        await repo.users.set_language(USER_ID, "en")
    assert "partnership plan" in texts(await chat.send("/start"))


async def test_a_coordinator_added_or_removed_by_any_path_counts_on_the_next_update(
    app: App,
) -> None:
    person = Chat(app, OTHER_ID)
    await _known(person)
    assert "Це можуть лише координатори" in texts(await person.send("/organisations"))
    async with app.db.transaction() as repo:
        assert await repo.coordinators.add(OTHER_ID, actor=COORDINATOR_ID)
    assert "Це можуть лише координатори" not in texts(await person.send("/organisations"))
    async with app.db.transaction() as repo:
        assert await repo.coordinators.remove(OTHER_ID, actor=COORDINATOR_ID)
    assert "Це можуть лише координатори" in texts(await person.send("/organisations"))


async def test_a_membership_approved_in_the_bot_counts_on_the_next_update(
    app: App, chat: Chat, coordinator: Chat
) -> None:
    await register(chat)
    await _known(chat)
    assert "/register" in texts(await chat.send("/activity"))
    await coordinator.send("/organisations")
    await coordinator.tap("Схвалити")
    assert "1.1.1" in texts(await chat.send("/activity"))


async def test_a_join_request_decided_by_any_path_counts_on_the_next_update(
    app: App,
    member: Chat,  # noqa: F811
) -> None:
    joiner = Chat(app, OTHER_ID)
    await _known(joiner, member)
    async with app.db.read() as repo:
        organisation_id = (await repo.memberships.standing(MEMBER_ID)).organisation_id
    assert organisation_id is not None
    async with app.db.transaction() as repo:
        await repo.memberships.request(OTHER_ID, organisation_id)
    assert "/register" in texts(await joiner.send("/activity"))
    async with app.db.transaction() as repo:
        assert await repo.memberships.decide(
            OTHER_ID, organisation_id, approve=True, actor=COORDINATOR_ID
        )
    assert await _trips(member, "форум") == 0  # the member's own profile was not touched
    assert "1.1.1" in texts(await joiner.send("/activity"))


async def test_a_write_that_does_not_say_whose_rows_drops_every_profile(
    app: App, chat: Chat
) -> None:
    other = Chat(app, OTHER_ID)
    await _known(chat, other)
    async with app.db.transaction() as repo:
        await repo.conn.execute("UPDATE users SET language = 'en'")
    assert "partnership plan" in texts(await chat.send("/start"))
    assert "partnership plan" in texts(await other.send("/start"))


async def test_a_unit_of_work_tells_what_it_wrote(app: App) -> None:
    told: list[Written] = []
    app.db.after_commit(told.append)
    async with app.db.transaction() as repo:
        await repo.users.set_language(USER_ID, "en")
        await repo.coordinators.add(OTHER_ID, actor=COORDINATOR_ID)
    (written,) = told
    assert {"users", "coordinators", "audit_log"} <= written.tables
    assert written.people("users") == {USER_ID}
    assert written.people("coordinators") == {OTHER_ID}
    assert written.people("audit_log") is None  # said for nobody: any row
    told.clear()
    async with app.db.read() as repo:
        await repo.users.count()
    async with app.db.transaction() as repo:
        await repo.users.count()  # nothing written: no one is told
    assert told == []
    async with app.db.single_statement() as repo:
        await repo.subscribers.subscribe(USER_ID, USER_ID, datetime.now(UTC))
    (written,) = told
    assert written.tables == {"subscribers"} and not written.touches(PROFILE_TABLES)
    told.clear()
    async with app.db.transaction(quiet=True) as repo:
        await repo.users.set_language(USER_ID, "uk")
    assert told == []
