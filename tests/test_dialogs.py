"""Leaving a form and coming back, through the real dispatcher, for every form alike.

Any command (but /cancel and the form's own) or the main menu leaves a form: the state is
cleared so plain text is a search again, and the draft is kept and offered back.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.app import App
from db.events import NewEvent
from handlers.callbacks import MenuAction, MenuCb
from handlers.forms import KEPT, Kept, KeptCb
from plan.clock import Clock
from scheduler.reminders import ReportEventCb
from tests.conftest import COORDINATOR_ID, Chat, texts

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
MEMBER_ID = 100
OFFER = "У вас є незавершений звіт — продовжити?"


@pytest.fixture
def clock() -> Clock:
    return Clock.fixed(NOW)


@pytest.fixture
async def member(app: App) -> Chat:
    async with app.db.transaction() as repo:
        org = await repo.organisations.create("ГО «Рух»", edrpou="14360570", status="verified")
        await repo.memberships.request(MEMBER_ID, org.id, approved=True)
    return Chat(app, MEMBER_ID)


def _key(chat: Chat) -> StorageKey:
    return StorageKey(bot_id=chat.bot.id, chat_id=chat.chat.id, user_id=chat.user.id)


async def _state(app: App, chat: Chat) -> str | None:
    return await app.dispatcher.storage.get_state(_key(chat))


async def _kept(app: App, chat: Chat) -> dict[str, Any]:
    return await app.dispatcher.storage.get_data(replace(_key(chat), destiny=KEPT))


async def _fill(chat: Chat, steps: list[str | tuple[str, str]]) -> list[Any]:
    sent: list[Any] = []
    for step in steps:
        sent = await chat.tap(step[1]) if isinstance(step, tuple) else await chat.send(step)
    return sent


HALF_A_REPORT: list[str | tuple[str, str]] = [
    "/activity",
    "2.1.2",
    ("tap", "Діалогові зустрічі"),
    "14.03.2024",
]


async def test_start_leaves_the_form_and_plain_text_is_a_search(member: Chat, app: App) -> None:
    await _fill(member, HALF_A_REPORT)
    assert await _state(app, member) == "ActivityForm:title"
    sent = await member.send("/start")
    assert "напишіть, що шукаєте" in texts(sent)
    assert OFFER in texts(sent), "the draft is offered back on the main menu"
    assert await _state(app, member) is None
    sent = await member.send("форум")
    assert "Знайдено за запитом «форум»" in texts(sent)
    kept = (await _kept(app, member))["ActivityForm"]
    assert kept["state"] == "ActivityForm:title"
    assert kept["data"]["draft"]["title"] is None, "the search was not stored as the title"
    assert kept["data"]["draft"]["date"] == "2024-03-14"

    # Back to the form's command: offered, continued where it was left, nothing lost.
    sent = await member.send("/activity")
    assert OFFER in texts(sent)
    assert "Що було зроблено" not in texts(sent), "offered, not resumed unasked"
    sent = await member.tap("Продовжити")
    assert "Що було зроблено" in texts(sent)
    assert await _state(app, member) == "ActivityForm:title"
    assert await _kept(app, member) == {}
    sent = await _fill(
        member,
        [
            "Зустріч з департаментом освіти",
            ("tap", "Пропустити"),
            ("tap", "1"),
            "7",
            "2",
            ("tap", "Пропустити"),
            ("tap", "Пропустити"),
        ],
    )
    summary = texts(sent)
    assert "14 березня 2024" in summary and "Зустріч з департаментом освіти" in summary
    assert "ІГС 7, ВМР 2" in summary
    await member.tap("Надіслати")
    async with app.db.read() as repo:
        (report,) = await repo.reports.pending()
    assert report.measure_code == "2.1.2" and report.title == "Зустріч з департаментом освіти"


async def test_the_main_menu_button_leaves_the_form(member: Chat, app: App) -> None:
    await _fill(member, HALF_A_REPORT)
    sent = await member.press(1, MenuCb(action=MenuAction.main).pack())
    assert OFFER in texts(sent)
    assert await _state(app, member) is None
    assert "Знайдено" in texts(await member.send("форум"))


async def test_any_other_command_leaves_and_the_own_command_resumes(
    member: Chat, app: App
) -> None:
    await _fill(member, HALF_A_REPORT)
    # The form's own command mid-way goes on with it, as before.
    sent = await member.send("/activity")
    assert "незавершений звіт — продовжимо" in texts(sent)
    assert "Що було зроблено" in texts(sent)
    # Another command shows what it shows, and the form is left (no offer there).
    sent = await member.send("/plan")
    assert OFFER not in texts(sent)
    assert await _state(app, member) is None
    assert "ActivityForm" in await _kept(app, member)


async def test_discarding_a_kept_draft_asks_first(member: Chat, app: App) -> None:
    await _fill(member, HALF_A_REPORT)
    await member.send("/plan")
    await member.send("/activity")
    sent = await member.tap("Відкинути")
    assert "Скасувати цей звіт" in texts(sent)
    assert "ActivityForm" in await _kept(app, member), "nothing is lost before the answer"
    sent = await member.tap("Ні, продовжити")
    assert "Що було зроблено" in texts(sent)
    await member.send("/plan")
    await member.send("/activity")
    await member.tap("Відкинути")
    sent = await member.tap("Так")
    assert "нічого не надіслано" in texts(sent)
    assert await _kept(app, member) == {}
    assert await _state(app, member) is None
    # Now the command opens a blank report.
    assert "Який захід плану" in texts(await member.send("/activity"))


async def test_opening_another_form_keeps_the_first(member: Chat, app: App) -> None:
    await _fill(member, HALF_A_REPORT)
    await _fill(member, ["/newproject", "Школа активіста"])
    assert await _state(app, member) == "ProjectForm:organisations"
    sent = await member.send("/activity")
    assert OFFER in texts(sent)
    sent = await member.tap("Продовжити")
    assert "Що було зроблено" in texts(sent)
    # The project left for it waits in its turn, with what was typed.
    kept = await _kept(app, member)
    assert kept["ProjectForm"]["data"]["project"]["title"] == "Школа активіста"
    assert "незавершений проєкт" in texts(await member.send("/newproject"))


@pytest.mark.parametrize(
    ("who", "opening", "offer", "next_question"),
    [
        (
            "coordinator",
            ["/newevent", "Форум громад"],
            "незавершений захід",
            "Коли він починається",
        ),
        ("member", ["/newproject", "Школа активіста"], "незавершений проєкт", "Які організації"),
        (
            "guest",
            ["/register", ("tap", "Зареєструвати нову"), "ГО «Світло»"],
            "незавершена реєстрація",
            "ЄДРПОУ",
        ),
    ],
)
async def test_every_form_is_left_and_offered_back_alike(
    app: App,
    member: Chat,
    who: str,
    opening: list[str | tuple[str, str]],
    offer: str,
    next_question: str,
) -> None:
    chat = {"coordinator": Chat(app, COORDINATOR_ID), "member": member}.get(who) or Chat(app, 555)
    await _fill(chat, opening)
    sent = await chat.send("/start")
    assert offer in texts(sent)
    assert "Знайдено" in texts(await chat.send("форум"))
    command = opening[0]
    assert isinstance(command, str)
    assert offer in texts(await chat.send(command))
    sent = await chat.tap("Продовжити")
    assert next_question in texts(sent)


async def test_a_second_draft_of_the_same_form_never_overwrites_the_first(
    member: Chat, app: App
) -> None:
    await _fill(member, HALF_A_REPORT)
    await member.send("/plan")
    # The report of an event opens the same form, pre-filled, while the first draft is kept.
    async with app.db.transaction() as repo:
        event_id = await repo.events.create(
            NewEvent(
                title="Форум ІГС", starts_at=NOW - timedelta(hours=3),
                ends_at=NOW - timedelta(hours=1), place="Вінниця", organiser="ГО «Рух»",
                organisation_id=None, measures=("2.4.4",), description="", capacity=None,
                status="approved", proposed_by=MEMBER_ID, created_by=MEMBER_ID,
            ),
            NOW - timedelta(days=2),
        )  # fmt: skip
    sent = await member.press(1, ReportEventCb(event_id=event_id).pack())
    assert "Перевірте звіт" in texts(sent)
    sent = await member.send("/start")
    assert texts(sent).count(OFFER) == 2
    assert set(await _kept(app, member)) == {"ActivityForm", "ActivityForm.2"}
    # Continuing one while the other is open keeps the other aside in its turn.
    sent = await member.press(1, KeptCb(action=Kept.resume, slot="ActivityForm").pack())
    assert "Що було зроблено" in texts(sent)
    await member.press(1, KeptCb(action=Kept.resume, slot="ActivityForm.2").pack())
    assert await _state(app, member) == "ActivityForm:confirm"
    kept = await _kept(app, member)
    assert list(kept) == ["ActivityForm"]
    assert kept["ActivityForm"]["data"]["draft"]["date"] == "2024-03-14"
    data = await app.dispatcher.storage.get_data(_key(member))
    assert data["draft"]["title"] == "Форум ІГС"


async def test_cancel_outside_a_dialog_says_so_and_offers_the_draft(
    member: Chat, app: App
) -> None:
    sent = await member.send("/cancel")
    assert "немає діалогу" in texts(sent) and OFFER not in texts(sent)
    await _fill(member, HALF_A_REPORT)
    await member.send("/plan")
    sent = await member.send("/cancel")
    assert "немає діалогу" in texts(sent) and OFFER in texts(sent)
    assert "ActivityForm" in await _kept(app, member), "/cancel alone discards nothing kept"


@pytest.mark.parametrize(
    ("who", "opening", "resumed", "question"),
    [
        ("coordinator", ["/newevent", "Форум громад"], "незавершений захід", "Коли він"),
        ("member", ["/newproject", "Школа активіста"], "незавершений проєкт", "Які організації"),
    ],
)
async def test_the_forms_own_command_mid_way_goes_on_with_it(
    app: App, member: Chat, who: str, opening: list[str], resumed: str, question: str
) -> None:
    chat = member if who == "member" else Chat(app, COORDINATOR_ID)
    await _fill(chat, list(opening))
    sent = await chat.send(opening[0])
    assert resumed in texts(sent) and question in texts(sent)
    assert await _kept(app, chat) == {}, "nothing was left, nothing is kept"
