"""What an update costs in trips to the database, and the caches that keep it low: the dialog
state in front of its table, each user's profile in front of the users' tables."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bench.common import TripCounter
from bot.app import App, build_app
from bot.config import Secret, Settings
from db.events import NewEvent
from plan.clock import Clock
from tests.conftest import COORDINATOR_ID, Chat, texts
from tests.test_activity_reports import MEMBER_ID, _organisation, member  # noqa: F401


async def _trips(chat: Chat, text: str) -> int:
    with TripCounter() as counter:
        await chat.send(text)
    return counter.trips


async def test_a_search_and_a_plan_button_cost_at_most_one_trip(chat: Chat) -> None:
    await chat.send("/start")
    await chat.send("/help")  # a known user: the profile is read once, then kept
    assert await _trips(chat, "форум") <= 1
    await chat.send("/plan")
    message_id, buttons = chat.keyboard()
    with TripCounter() as counter:
        await chat.press(message_id, buttons[0][1])
    assert counter.trips <= 1


async def test_a_dialog_step_costs_one_trip(member: Chat) -> None:  # noqa: F811
    await member.send("/help")
    await member.send("/activity")
    # The issue allows three; the step and its draft are one statement (handlers.dialog.enter).
    assert await _trips(member, "2.1.2") <= 1


async def test_opening_a_dialog_costs_at_most_three_trips(member: Chat) -> None:  # noqa: F811
    await member.send("/help")
    with TripCounter() as counter:
        assert "1.1.1" in texts(await member.send("/activity"))
    assert counter.trips <= 3  # it was 9 for a first update, 5 for a known member


async def test_a_first_update_costs_at_most_three_trips(chat: Chat) -> None:
    # The person's dialogs (one read), their profile (one read) and their first record.
    assert await _trips(chat, "/plan") <= 3


async def test_measure_events_and_an_event_card_cost_at_most_one_trip(
    app: App, chat: Chat
) -> None:
    starts = datetime.now(UTC) + timedelta(days=3)
    async with app.db.transaction() as repo:
        await repo.events.create(
            NewEvent(
                title="Форум ІГС",
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                place="Вінниця",
                organiser="ІРМ",
                organisation_id=None,
                measures=("2.1.3",),
                description="",
                capacity=10,
                status="approved",
                proposed_by=None,
                created_by=COORDINATOR_ID,
            ),
            datetime.now(UTC),
        )
    await chat.send("/start")
    await chat.send("/help")
    assert await _trips(chat, "/measure 1.1.1") <= 1
    with TripCounter() as counter:
        assert "Форум ІГС" in texts(await chat.send("/events"))
    assert counter.trips <= 1
    with TripCounter() as counter:
        await chat.tap("Форум ІГС")
    assert counter.trips <= 1  # the event and the person's answer to it in one query


async def test_a_subscription_costs_one_trip(chat: Chat) -> None:
    await chat.send("/start")
    await chat.send("/help")
    assert await _trips(chat, "/subscribe") <= 1  # one statement, no BEGIN and COMMIT
    assert await _trips(chat, "/unsubscribe") <= 1


async def test_a_deactivated_organisation_s_member_is_a_guest_on_the_next_update(
    app: App,
    member: Chat,  # noqa: F811
) -> None:
    assert "1.1.1" in texts(await member.send("/activity"))
    await member.send("/cancel")
    async with app.db.read() as repo:
        standing = await repo.memberships.standing(MEMBER_ID)
    assert standing.organisation_id is not None
    async with app.db.transaction() as repo:
        assert await repo.organisations.deactivate(standing.organisation_id, actor=COORDINATOR_ID)
    assert "/register" in texts(await member.send("/activity"))


async def test_the_chosen_language_holds_from_the_next_update(chat: Chat) -> None:
    await chat.send("/help")
    assert "План партнерства" in texts(await chat.send("/start"))  # the profile is kept now
    await chat.send("/language")
    await chat.tap("English")
    assert "partnership plan" in texts(await chat.send("/start"))


async def test_with_redis_a_worker_sees_another_worker_s_change_on_the_next_update(
    settings: Settings, clock: Clock, redis_url: str
) -> None:
    shared = replace(settings, redis_url=Secret(redis_url))
    first, second = await build_app(shared, clock), await build_app(shared, clock)
    try:
        person = Chat(first, MEMBER_ID)
        assert "/register" in texts(await person.send("/activity"))
        # The membership is approved through the other worker (its own database objects).
        await _organisation(second, "ГО «Рух»", MEMBER_ID, "14360570")
        assert "1.1.1" in texts(await person.send("/activity"))
    finally:
        await first.close()
        await second.close()
