"""Events through the real dispatcher: proposing, approving, RSVPs, calendars and reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    SendDocument,
    SendMessage,
    TelegramMethod,
)

from bot.app import App
from db.events import NewEvent
from handlers.events.callbacks import EventCb
from plan.clock import Clock
from scheduler import reminders
from tests.conftest import COORDINATOR_ID, Chat, texts

KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # 12:00 in Kyiv
MEMBER_ID = 100
OTHER_ID = 200
THIRD_ID = 300


@pytest.fixture
def clock() -> Clock:
    """The handlers' clock, stopped at NOW."""
    return Clock.fixed(NOW)


async def _organisation(app: App, name: str, member: int) -> int:
    async with app.db.transaction() as repo:
        org = await repo.organisations.create(name, edrpou=None, status="verified")
        await repo.memberships.request(member, org.id, approved=True)
    return org.id


@pytest.fixture
async def member(app: App) -> Chat:
    await _organisation(app, "ГО «Рух»", MEMBER_ID)
    return Chat(app, MEMBER_ID)


async def _event(app: App, **changes: Any) -> int:
    values: dict[str, Any] = {
        "title": "Форум ІГС",
        "starts_at": datetime(2026, 3, 14, 10, 0, tzinfo=KYIV),
        "ends_at": datetime(2026, 3, 14, 12, 0, tzinfo=KYIV),
        "place": "Вінниця, вул. Соборна, 59",
        "organiser": "ІРМ",
        "organisation_id": None,
        "measures": ("2.1.3",),
        "description": "",
        "capacity": None,
        "status": "approved",
        "proposed_by": None,
        "created_by": COORDINATOR_ID,
    }
    values.update(changes)
    async with app.db.transaction() as repo:
        return await repo.events.create(NewEvent(**values), NOW)


async def _fill(chat: Chat, steps: list[str | tuple[str, str]]) -> list[TelegramMethod[Any]]:
    sent: list[TelegramMethod[Any]] = []
    for step in steps:
        sent = await chat.tap(step[1]) if isinstance(step, tuple) else await chat.send(step)
    return sent


def _alerts(sent: list[TelegramMethod[Any]]) -> str:
    return "\n".join(r.text or "" for r in sent if isinstance(r, AnswerCallbackQuery))


def _to(sent: list[TelegramMethod[Any]], chat_id: int) -> list[SendMessage]:
    return [r for r in sent if isinstance(r, SendMessage) and r.chat_id == chat_id]


def _key(chat: Chat) -> StorageKey:
    return StorageKey(bot_id=chat.bot.id, chat_id=chat.chat.id, user_id=chat.user.id)


async def _going(app: App, event_id: int) -> tuple[list[int], list[int]]:
    async with app.db.read() as repo:
        return (
            await repo.events.attendees(event_id, "going"),
            await repo.events.attendees(event_id, "waiting"),
        )


FORM: list[str | tuple[str, str]] = [
    "/newevent",
    "Форум ІГС",
    "14.03.2026 10:00",
    "12:30",
    "Вінниця, вул. Соборна, 59",
    "ІРМ",
    "2.1.3",
    ("tap", "Пропустити"),
    "30",
]


class Recorder:
    """A scheduler stand-in that records what was planned."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}

    def add_job(self, func: Any, trigger: Any = None, **kwargs: Any) -> None:
        self.jobs[kwargs["id"]] = {"func": func, "trigger": trigger, **kwargs}

    def remove_job(self, job_id: str, jobstore: str | None = None) -> None:
        if job_id not in self.jobs:
            raise LookupError(job_id)
        del self.jobs[job_id]


# --- proposing and approving ------------------------------------------------------------------


async def test_coordinator_publishes_an_event_and_its_reminder_is_planned(
    coordinator: Chat, app: App
) -> None:
    sent = await _fill(coordinator, FORM)
    summary = texts(sent)
    assert "Перевірте захід" in summary
    assert "сб, 14 березня, 10:00–12:30" in summary
    sent = await coordinator.tap("Підтвердити")
    assert "опубліковано" in texts(sent)
    async with app.db.read() as repo:
        event = await repo.events.get(1)
    assert event is not None and event.status == "approved" and event.capacity == 30
    assert event.starts_at == datetime(2026, 3, 14, 8, 0, tzinfo=UTC)
    jobs = {job.id: job for job in app.scheduler.get_jobs()}  # type: ignore[attr-defined]
    job = jobs[reminders.reminder_job_id(1)]
    assert job.args == (1,)
    assert job.trigger.run_date == datetime(2026, 3, 13, 10, 0, tzinfo=KYIV)


async def test_member_proposes_and_a_coordinator_approves(
    member: Chat, coordinator: Chat, app: App
) -> None:
    steps = [*FORM]
    steps[5] = ("tap", "ГО «Рух»")  # the member's own organisation
    await _fill(member, steps)
    sent = await member.tap("Підтвердити")
    assert "на погодження" in texts(sent)
    to_coordinator = _to(sent, COORDINATOR_ID)
    assert to_coordinator and "Запропонований захід" in to_coordinator[0].text
    async with app.db.read() as repo:
        event = await repo.events.get(1)
    assert event is not None and event.status == "pending"
    assert event.proposed_by == MEMBER_ID and event.organiser == "ГО «Рух»"
    # Not listed before approval.
    assert "поки немає" in texts(await member.send("/events"))

    # A member cannot approve it, even with a forged button.
    sent = await member.press(1, EventCb(action="approve", id=1).pack())
    assert "лише координатори" in _alerts(sent).lower()
    sent = await coordinator.press(1, EventCb(action="approve", id=1).pack())
    told = _to(sent, MEMBER_ID)
    assert told and "погоджено" in told[0].text
    async with app.db.read() as repo:
        event = await repo.events.get(1)
    assert event is not None and event.status == "approved"
    sent = await coordinator.press(1, EventCb(action="reject", id=1).pack())
    assert "вже ухвалено" in _alerts(sent)
    assert "Форум ІГС" in texts(await member.send("/events"))


async def test_a_decided_proposal_leaves_no_buttons_with_other_coordinators(
    member: Chat, coordinator: Chat, app: App
) -> None:
    second = COORDINATOR_ID + 1
    async with app.db.transaction() as repo:
        await repo.coordinators.add(second, actor=COORDINATOR_ID)
    steps = [*FORM]
    steps[5] = ("tap", "ГО «Рух»")
    await _fill(member, steps)
    sent = await member.tap("Підтвердити")
    cards = {chat: _to(sent, chat) for chat in (COORDINATOR_ID, second)}
    assert all(len(card) == 1 for card in cards.values()), "each coordinator gets the card once"
    async with app.db.read() as repo:
        recorded = await repo.outbox.sent_about("event:1")
    assert {chat for chat, _ in recorded} == {COORDINATOR_ID, second}, "recorded with the event"
    pressed = dict(recorded)[COORDINATOR_ID]
    sent = await coordinator.press(pressed, EventCb(action="approve", id=1).pack())
    dropped = {(r.chat_id, r.message_id) for r in sent if isinstance(r, EditMessageReplyMarkup)}
    assert (second, dict(recorded)[second]) in dropped, "the other coordinator's copy"


async def test_guest_cannot_propose(chat: Chat) -> None:
    assert "/register" in texts(await chat.send("/newevent"))


@pytest.mark.parametrize(
    ("step", "bad", "reason"),
    [
        (2, "01.03.2026 10:00", "минув"),  # in the past
        (2, "10.03.2026 11:59", "минув"),  # earlier today (Kyiv time)
        (2, "завтра о 10", "Не вдалося прочитати дату й час"),
        (2, "14.03.2026", "Не вдалося прочитати дату й час"),
        (2, "завтра о десятій", "Не вдалося прочитати дату й час"),
        (2, "31.02.2026 10:00", "немає такої дати"),
        (2, "14.03.2026 25:00", "немає такої дати"),
        (3, "09:00", "пізніше за початок"),  # end before start
        (3, "14.03.2026 10:00", "пізніше за початок"),  # end equal to start
        (6, "9.9.9", "немає заходу"),
        (8, "0", "щонайменше 1"),
        (8, "-1", "щонайменше 1"),
        (8, "багато", "цілим числом"),
    ],
)
async def test_bad_inputs_are_refused_and_asked_again(
    coordinator: Chat, app: App, step: int, bad: str, reason: str
) -> None:
    await _fill(coordinator, FORM[:step])
    before = await app.dispatcher.storage.get_state(_key(coordinator))
    sent = await coordinator.send(bad)
    assert reason in texts(sent)
    assert len([r for r in sent if isinstance(r, SendMessage)]) == 2  # the reason, the question
    assert await app.dispatcher.storage.get_state(_key(coordinator)) == before


async def test_html_in_text_fields_is_escaped(coordinator: Chat, app: App) -> None:
    steps = [*FORM]
    steps[1] = "<b>Гала</b> & «друзі»"
    steps[4] = "<script>x</script>"
    steps[7] = "Опис <i>з</i> тегами"
    sent = await _fill(coordinator, steps)
    summary = texts(sent)
    assert "&lt;b&gt;Гала&lt;/b&gt; &amp; «друзі»" in summary
    assert "&lt;script&gt;x&lt;/script&gt;" in summary
    assert "Опис &lt;i&gt;з&lt;/i&gt; тегами" in summary
    await coordinator.tap("Підтвердити")
    async with app.db.read() as repo:
        event = await repo.events.get(1)
    assert event is not None and event.title == "<b>Гала</b> & «друзі»"
    sent = await coordinator.send("/start event_1")
    assert "&lt;b&gt;Гала&lt;/b&gt;" in texts(sent)


async def test_cancel_asks_first(coordinator: Chat, app: App) -> None:
    await _fill(coordinator, FORM[:4])
    assert "Скасувати цей захід" in texts(await coordinator.send("/cancel"))
    await coordinator.tap("Ні, продовжити")
    data = await app.dispatcher.storage.get_data(_key(coordinator))
    assert data["event"]["title"] == "Форум ІГС"
    assert await app.dispatcher.storage.get_state(_key(coordinator)) == "EventForm:place"
    await coordinator.send("/cancel")
    assert "Нічого не опубліковано" in texts(await coordinator.tap("Так, скасувати"))
    assert await app.dispatcher.storage.get_state(_key(coordinator)) is None


async def test_editing_the_start_past_the_end_asks_for_the_end_again(coordinator: Chat) -> None:
    await _fill(coordinator, FORM)
    await coordinator.tap("✏ Початок")
    sent = await coordinator.send("15.03.2026 10:00")
    assert "Коли він закінчується" in texts(sent)
    sent = await coordinator.send("11:00")
    assert "нд, 15 березня, 10:00–11:00" in texts(sent)


# --- the list ---------------------------------------------------------------------------------


async def test_events_are_paginated_and_filtered(chat: Chat, app: App) -> None:
    for day in range(11, 18):
        await _event(
            app,
            title=f"Захід {day}",
            starts_at=datetime(2026, 3, day, 10, 0, tzinfo=KYIV),
            ends_at=datetime(2026, 3, day, 11, 0, tzinfo=KYIV),
            measures=("1.1.1",) if day == 17 else ("2.1.3",),
        )
    await _event(app, title="Скасований", status="cancelled")
    await _event(app, title="Минулий", starts_at=NOW - timedelta(days=2),
                 ends_at=NOW - timedelta(days=1))  # fmt: skip
    text = texts(await chat.send("/events"))
    assert "сторінка 1 з 2" in text
    assert "Захід 11" in text and "Захід 16" not in text
    assert "Скасований" not in text and "Минулий" not in text
    text = texts(await chat.tap("▶"))
    assert "сторінка 2 з 2" in text and "Захід 16" in text and "Захід 17" in text
    text = texts(await chat.tap("Напрям 1"))
    assert "Захід 17" in text and "Захід 11" not in text
    text = texts(await chat.send("/events 2.1.3"))
    assert "Захід 17" not in text and "Захід 11" in text


# --- RSVPs ------------------------------------------------------------------------------------


async def test_capacity_waiting_list_and_promotion(app: App) -> None:
    event_id = await _event(app, capacity=1)
    first, second = Chat(app, MEMBER_ID), Chat(app, OTHER_ID)
    await first.send(f"/start event_{event_id}")
    sent = await first.tap("Я прийду")
    assert "До зустрічі" in _alerts(sent)
    assert await _going(app, event_id) == ([MEMBER_ID], [])

    await second.send(f"/start event_{event_id}")
    # Someone else's stale "I'll come" button on a full event: offered the waiting list.
    sent = await second.press(1, EventCb(action="go", id=event_id).pack())
    assert "списку очікування" in _alerts(sent)
    assert await _going(app, event_id) == ([MEMBER_ID], [])
    sent = await second.tap("списку очікування")
    assert "у списку очікування" in _alerts(sent)
    assert await _going(app, event_id) == ([MEMBER_ID], [OTHER_ID])

    sent = await first.tap("Не прийду")
    assert await _going(app, event_id) == ([OTHER_ID], [])
    told = _to(sent, OTHER_ID)
    assert told and "Звільнилося місце" in told[0].text


async def test_a_button_acts_only_for_the_user_who_pressed_it(app: App) -> None:
    event_id = await _event(app)
    owner, other = Chat(app, MEMBER_ID), Chat(app, OTHER_ID)
    await owner.press(1, EventCb(action="go", id=event_id).pack())
    # The same callback data from another user: it is about them, never about the owner.
    sent = await other.press(1, EventCb(action="leave", id=event_id).pack())
    assert "Вас не було у списку" in _alerts(sent)
    assert await _going(app, event_id) == ([MEMBER_ID], [])
    await other.press(1, EventCb(action="go", id=event_id).pack())
    assert await _going(app, event_id) == ([MEMBER_ID, OTHER_ID], [])
    sent = await other.press(1, EventCb(action="go", id=event_id).pack())
    assert "вже відповіли" in _alerts(sent)
    await other.press(1, EventCb(action="leave", id=event_id).pack())
    assert await _going(app, event_id) == ([MEMBER_ID], [])


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"status": "cancelled"}, "скасовано"),
        ({"status": "pending"}, "Такого заходу немає"),
        (
            {"starts_at": NOW - timedelta(hours=3), "ends_at": NOW - timedelta(hours=1)},
            "завершився",
        ),
    ],
)
async def test_rsvp_to_an_unavailable_event_is_refused(
    chat: Chat, app: App, changes: dict[str, Any], reason: str
) -> None:
    event_id = await _event(app, **changes)
    sent = await chat.press(1, EventCb(action="go", id=event_id).pack())
    assert reason in _alerts(sent)
    assert await _going(app, event_id) == ([], [])


async def test_add_to_calendar_sends_an_ics_file_with_a_link_back(chat: Chat, app: App) -> None:
    event_id = await _event(app, description="Порядок денний; обговорення, питання")
    await chat.send(f"/start event_{event_id}")
    sent = await chat.tap("Додати в календар")
    (document,) = [r for r in sent if isinstance(r, SendDocument)]
    data = document.document.data  # type: ignore[union-attr]
    text = data.decode("utf-8").replace("\r\n ", "")
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    assert "DTSTART:20260314T080000Z" in text
    assert f"URL:https://t.me/cso_partnership_bot?start=event_{event_id}" in text
    assert "Порядок денний\\; обговорення\\, питання" in text


async def test_start_link_opens_the_card_and_unknown_is_refused(chat: Chat, app: App) -> None:
    event_id = await _event(app)
    assert "Форум ІГС" in texts(await chat.send(f"/start event_{event_id}"))
    assert any("Я прийду" in b for b in chat.buttons())
    assert "Такого заходу немає" in texts(await chat.send("/start event_999"))
    pending = await _event(app, status="pending", title="Чернетка")
    assert "Такого заходу немає" in texts(await chat.send(f"/start event_{pending}"))
    # A plain /start still shows the main menu, which leads to the events.
    await chat.send("/start")
    assert "📅 Заходи" in chat.buttons()
    assert "Найближчі заходи" in texts(await chat.tap("📅 Заходи"))


# --- coordinators cancel and move -------------------------------------------------------------


async def test_coordinator_cancels_an_event_and_attendees_are_told(
    coordinator: Chat, app: App
) -> None:
    event_id = await _event(app)
    async with app.db.transaction() as repo:
        await repo.events.attend(event_id, MEMBER_ID, NOW)
        await repo.events.attend(event_id, OTHER_ID, NOW)
        event = await repo.events.get(event_id)
    assert event is not None
    app.dispatcher["reminders"].plan(event)
    # Others cannot use the coordinators' buttons.
    sent = await Chat(app, MEMBER_ID).press(1, EventCb(action="drop_yes", id=event_id).pack())
    assert "лише координатори" in _alerts(sent).lower()
    await coordinator.send(f"/start event_{event_id}")
    await coordinator.tap("Скасувати захід")
    sent = await coordinator.tap("Так, скасувати захід")
    assert {r.chat_id for r in sent if isinstance(r, SendMessage)} == {MEMBER_ID, OTHER_ID}
    assert "скасовано" in texts(sent)
    assert "Захід скасовано; повідомлено 2 людини." in texts(sent)  # the number agrees
    assert not app.scheduler.get_jobs()  # type: ignore[attr-defined]
    sent = await Chat(app, THIRD_ID).press(1, EventCb(action="go", id=event_id).pack())
    assert "скасовано" in _alerts(sent)


async def test_coordinator_moves_an_event(coordinator: Chat, app: App) -> None:
    event_id = await _event(app)
    async with app.db.transaction() as repo:
        await repo.events.attend(event_id, MEMBER_ID, NOW)
        await repo.events.mark_reminded(event_id, NOW)
    await coordinator.send(f"/start event_{event_id}")
    await coordinator.tap("Перенести")
    assert "минув" in texts(await coordinator.send("01.01.2026 10:00"))
    await coordinator.send("20.03.2026 15:00")
    assert "пізніше" in texts(await coordinator.send("14:00"))
    sent = await coordinator.send("17:00")
    told = _to(sent, MEMBER_ID)
    assert told and "перенесено" in told[0].text and "пт, 20 березня, 15:00–17:00" in told[0].text
    async with app.db.read() as repo:
        event = await repo.events.get(event_id)
    assert event is not None and event.reminded_at is None  # due again for the new time
    (job,) = app.scheduler.get_jobs()  # type: ignore[attr-defined]
    assert job.trigger.run_date == datetime(2026, 3, 19, 15, 0, tzinfo=KYIV)


# --- reminders --------------------------------------------------------------------------------


async def _no_job(event_id: int) -> None:
    raise AssertionError("a recorder never runs its jobs")


async def test_reminder_hours_are_configurable(app: App) -> None:
    event_id = await _event(app)
    async with app.db.read() as repo:
        event = await repo.events.get(event_id)
    assert event is not None
    recorder = Recorder()
    run_at = reminders.plan_reminder(recorder, event, 3, NOW, job=_no_job)
    assert run_at == datetime(2026, 3, 14, 7, 0, tzinfo=KYIV)


# --- after the event --------------------------------------------------------------------------


async def test_organiser_is_asked_to_report_with_a_prefilled_form(member: Chat, app: App) -> None:
    event_id = await _event(
        app,
        proposed_by=MEMBER_ID,
        starts_at=NOW - timedelta(hours=3),
        ends_at=NOW - timedelta(hours=1),
        measures=("2.4.4",),
    )
    await _event(app, starts_at=NOW - timedelta(hours=3), ends_at=NOW - timedelta(hours=1))
    async with app.db.transaction() as repo:
        for user in (MEMBER_ID, OTHER_ID, THIRD_ID):
            await repo.events.attend(event_id, user, NOW - timedelta(days=1))
    runtime = reminders.Runtime(app.db, member.bot, app.i18n, KYIV, 24)
    assert await reminders.ask_for_reports(runtime, NOW) == 1
    assert await reminders.ask_for_reports(runtime, NOW) == 0, "asked once"
    (asked,) = _to(member.session.requests, MEMBER_ID)
    assert "завершився" in asked.text
    sent = await member.tap("Звітувати")
    text = texts(sent)
    assert "Перевірте звіт" in text and "Форум ІГС" in text
    assert await app.dispatcher.storage.get_state(_key(member)) == "ActivityForm:confirm"
    data = await app.dispatcher.storage.get_data(_key(member))
    assert data["draft"]["measure"] == "2.4.4" and data["draft"]["cso"] == 3
    assert data["draft"]["date"] == "2026-03-10"
    # Another member cannot open someone else's event report.
    await _organisation(app, "ГО «Інша»", OTHER_ID)
    other = Chat(app, OTHER_ID)
    sent = await other.press(1, reminders.ReportEventCb(event_id=event_id).pack())
    assert "немає" in _alerts(sent)
    assert await app.dispatcher.storage.get_state(_key(other)) is None


def test_reminder_hours_setting() -> None:
    from bot.config import ConfigError, load_settings

    assert load_settings({}, dotenv=None).reminder_hours == 24
    assert load_settings({"REMINDER_HOURS": "3"}, dotenv=None).reminder_hours == 3
    for bad in ("0", "-1", "день"):
        with pytest.raises(ConfigError, match="REMINDER_HOURS"):
            load_settings({"REMINDER_HOURS": bad}, dotenv=None)


# --- measures as people type them -------------------------------------------------------------


async def test_printed_codes_and_the_doubled_one_are_understood(
    coordinator: Chat, app: App
) -> None:
    steps = [*FORM]
    steps[6] = "1.4.1, 2.1.3"  # printed 1.4.1 is 1.3.1
    summary = texts(await _fill(coordinator, steps))
    assert "1.3.1, 2.1.3" in summary
    await coordinator.tap("✏ Заходи")
    sent = await coordinator.send("1.4.3, 2.1.3")  # printed for both 1.3.3 and 1.3.4
    assert "1.4.3" in texts(sent) and "немає заходу" not in texts(sent)
    assert any(b.startswith("1.3.3.") for b in coordinator.buttons())
    assert any(b.startswith("1.3.4.") for b in coordinator.buttons())
    summary = texts(await coordinator.tap("1.3.4."))
    assert "2.1.3, 1.3.4" in summary
    await coordinator.tap("Підтвердити")
    async with app.db.read() as repo:
        event = await repo.events.get(1)
    assert event is not None and event.measures == ("2.1.3", "1.3.4")


async def test_words_instead_of_codes_offer_measures(coordinator: Chat) -> None:
    await _fill(coordinator, FORM[:6])
    sent = await coordinator.send("форум")
    assert "немає заходу" not in texts(sent)
    assert any(b[:1].isdigit() for b in coordinator.buttons())
    await coordinator.tap(coordinator.buttons()[0])
    assert "Опишіть захід" in texts(coordinator.session.requests[-3:])


async def test_dates_are_typed_as_people_write_them(coordinator: Chat) -> None:
    for typed in ("14 березня 2026, 10:00", "14.3.2026 10:00", "2026-03-14 10:00"):
        summary = texts(await _fill(coordinator, [*FORM[:2], typed, *FORM[3:]]))
        assert "сб, 14 березня, 10:00–12:30" in summary, typed
        await coordinator.send("/cancel")
        await coordinator.tap("Так, скасувати")


async def test_english_readers_get_english_dates_and_patterns(app: App) -> None:
    english = Chat(app, COORDINATOR_ID, language_code="en")
    await english.send("/language")
    await english.tap("English")
    sent = await _fill(english, FORM[:2])
    assert "DD.MM.YYYY HH:MM" in texts(sent) and "ДД" not in texts(sent)
    steps = [("tap", "Skip") if isinstance(s, tuple) else s for s in FORM[2:]]
    summary = texts(await _fill(english, steps))
    assert "Sat, 14 March, 10:00–12:30" in summary


# --- what the organiser sees, filters, labels ------------------------------------------------


async def test_the_organiser_and_coordinators_see_who_is_coming(app: App) -> None:
    event_id = await _event(app, capacity=1, proposed_by=MEMBER_ID, created_by=MEMBER_ID)
    sent = await Chat(app, MEMBER_ID).send(f"/start event_{event_id}")
    assert "Ще ніхто не відповів" in texts(sent)
    olena = Chat(app, OTHER_ID, first_name="Олена <Ко>")
    olena.user = olena.user.model_copy(update={"username": "olena"})
    await olena.press(1, EventCb(action="go", id=event_id).pack())
    await Chat(app, THIRD_ID, first_name="Петро").press(
        1, EventCb(action="wait", id=event_id).pack()
    )
    for viewer in (MEMBER_ID, COORDINATOR_ID):
        text = texts(await Chat(app, viewer).send(f"/start event_{event_id}"))
        assert "Хто прийде" in text, viewer
        # Names as people know them, escaped; the counts agree with the number.
        assert "Прийде 1 людина:\n1. Олена &lt;Ко&gt; (@olena), id 200" in text, viewer
        assert "У списку очікування 1 людина:\n1. Петро, id 300" in text, viewer
    sent = await Chat(app, THIRD_ID).send(f"/start event_{event_id}")
    assert "Хто прийде" not in texts(sent) and "Олена" not in texts(sent)
    assert await _going(app, event_id) == ([OTHER_ID], [THIRD_ID]), "looking changed nothing"


async def test_a_long_list_of_attendees_is_counted_past_its_names(app: App) -> None:
    event_id = await _event(app, proposed_by=MEMBER_ID, created_by=MEMBER_ID)
    for user_id in range(1000, 1022):
        await Chat(app, user_id, first_name=f"Гість{user_id}").press(
            1, EventCb(action="go", id=event_id).pack()
        )
    text = texts(await Chat(app, COORDINATOR_ID).send(f"/start event_{event_id}"))
    assert "Прийдуть 22 людини:" in text
    assert "15. Гість1014, id 1014" in text and "Гість1015" not in text
    assert "…і ще 7 людей" in text


async def test_the_active_filter_is_marked_and_the_menu_is_a_tap_away(
    chat: Chat, app: App
) -> None:
    await _event(app, title="Форум", measures=("1.1.1",))
    await chat.send("/start")
    sent = await chat.tap("Заходи")
    assert "Форум" in texts(sent)
    assert "• Усі" in chat.buttons() and "Напрям 1" in chat.buttons()
    sent = await chat.tap("Напрям 1")
    assert "Показано: напрям 1" in texts(sent)
    assert "• Напрям 1" in chat.buttons() and "Усі" in chat.buttons()
    assert "• Усі" not in chat.buttons()
    assert "Показано: захід 2.1.3" in texts(await chat.send("/events 2.1.3"))
    assert "• Усі" not in chat.buttons()
    sent = await chat.tap("Меню")
    assert "напишіть, що шукаєте" in texts(sent)


async def test_long_titles_are_cut_with_an_ellipsis(chat: Chat, app: App) -> None:
    event_id = await _event(app, title="Щорічний міський форум " * 5)
    await chat.send("/events")
    (label,) = [b for b in chat.buttons() if b.startswith(f"№{event_id}")]
    assert label.endswith("…") and len(label) <= 40


@pytest.mark.parametrize(
    ("capacity", "places"), [(21, "з 21 місця"), (3, "з 3 місць"), (5, "з 5 місць")]
)
async def test_places_agree_with_their_number(
    chat: Chat, app: App, capacity: int, places: str
) -> None:
    event_id = await _event(app, capacity=capacity)
    text = texts(await chat.send(f"/start event_{event_id}"))
    assert f"Ідуть:</b> 0 {places}; у списку очікування: 0" in text


async def test_an_event_of_another_year_names_its_year(chat: Chat, app: App) -> None:
    event_id = await _event(
        app,
        starts_at=datetime(2027, 1, 4, 10, 0, tzinfo=KYIV),
        ends_at=datetime(2027, 1, 4, 12, 0, tzinfo=KYIV),
    )
    assert "пн, 4 січня 2027, 10:00–12:00" in texts(await chat.send("/events"))
    assert "пн, 4 січня 2027, 10:00–12:00" in texts(await chat.send(f"/start event_{event_id}"))
