"""Reporting an activity, reviewing it and seeing it counted: through the real dispatcher."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from aiogram.methods import SendMessage

from bot.app import App, build_app
from bot.config import Settings
from bot.reports import build_report
from handlers.review_views import ReviewCb
from tests.conftest import COORDINATOR_ID, Chat, texts

MEMBER_ID = 100
OTHER_MEMBER_ID = 200
STRANGER_ID = 300


async def _organisation(app: App, name: str, member: int, edrpou: str | None = None) -> int:
    async with app.db.transaction() as repo:
        org = await repo.organisations.create(name, edrpou=edrpou, status="verified")
        await repo.memberships.request(member, org.id, approved=True)
    return org.id


@pytest.fixture
async def member(app: App) -> Chat:
    await _organisation(app, "ГО «Рух»", MEMBER_ID, "14360570")
    return Chat(app, MEMBER_ID)


async def _fill(chat: Chat, steps: list[str | tuple[str, str]]) -> list[Any]:
    """Answer the dialog: a string is typed, ("tap", label) presses a button."""
    sent: list[Any] = []
    for step in steps:
        if isinstance(step, tuple):
            sent = await chat.tap(step[1])
        else:
            sent = await chat.send(step)
    return sent


MEETING = [
    "/activity",
    "2.1.2",
    ("tap", "Діалогові зустрічі"),
    "14.03.2024",
    "Зустріч з департаментом освіти",
    ("tap", "Пропустити"),
    ("tap", "1"),
    "7",
    "2",
    ("tap", "Пропустити"),
    "https://example.org/post/1",
]


async def _pending_ids(app: App) -> list[int]:
    async with app.db.read() as repo:
        return [r.id for r in await repo.reports.pending()]


async def test_member_reports_and_coordinator_approves(
    member: Chat, coordinator: Chat, app: App
) -> None:
    sent = await _fill(member, MEETING)
    text = texts(sent)
    assert "Перевірте звіт" in text
    assert "Зустріч з департаментом освіти" in text
    assert "ІГС 7, ВМР 2" in text
    sent = await member.tap("Надіслати")
    assert "надіслано на розгляд" in texts(sent)
    # The coordinator was told, with the decision buttons.
    to_coordinator = [
        r for r in sent if isinstance(r, SendMessage) and r.chat_id == COORDINATOR_ID
    ]
    assert to_coordinator and "Новий звіт" in to_coordinator[0].text
    (activity_id,) = await _pending_ids(app)

    sent = await coordinator.press(
        coordinator.keyboard()[0] or 1, ReviewCb(action="approve", activity_id=activity_id).pack()
    )
    assert any("схвалено" in (getattr(r, "text", "") or "") for r in sent)
    assert any(getattr(r, "chat_id", None) == MEMBER_ID for r in sent), "the member is told"
    report = await build_report(app.db, app.plan, 2024, today=date(2024, 12, 31))
    meetings = next(i for i in report["indicators"] if i["indicator"] == "2.1.2-dialogue-meetings")
    assert meetings["actual"] == 1

    # Approving twice changes nothing and says so.
    sent = await coordinator.press(1, ReviewCb(action="approve", activity_id=activity_id).pack())
    assert "вже" in (sent[-1].text or "")
    async with app.db.read() as repo:
        assert await repo.activities.audit_count("activity") == 2  # submit + approve


async def test_below_threshold_is_warned_and_not_counted(member: Chat, app: App) -> None:
    steps = [*MEETING]
    steps[7] = "4"  # 4 CSO representatives, the plan asks for 5
    text = texts(await _fill(member, steps))
    assert "не зарахується" in text
    await member.tap("Надіслати")
    (activity_id,) = await _pending_ids(app)
    async with app.db.transaction() as repo:
        assert await repo.reports.decide(activity_id, "approve", actor=COORDINATOR_ID)
    report = await build_report(app.db, app.plan, 2024, today=date(2024, 12, 31))
    meetings = next(i for i in report["indicators"] if i["indicator"] == "2.1.2-dialogue-meetings")
    assert meetings["actual"] == 0


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("31.02.2024", "немає такої дати"),
        ("2024-13-01", "немає такої дати"),
        ("1999-01-01", "2023"),
        ("01.01.1999", "охоплює"),
        ("вчора", "Не вдалося прочитати дату"),
        ("<b>", "Не вдалося прочитати дату"),
    ],
)
async def test_bad_dates_are_refused_with_a_reason(
    member: Chat, app: App, bad: str, reason: str
) -> None:
    await _fill(member, MEETING[:3])
    sent = await member.send(bad)
    assert reason in texts(sent)
    assert "Коли це відбулося" in texts(sent)  # asked again
    state = await app.dispatcher.storage.get_state(_key(member))
    assert state == "ActivityForm:date"
    data = await app.dispatcher.storage.get_data(_key(member))
    assert data["draft"]["measure"] == "2.1.2"  # nothing entered so far was lost


async def test_future_date_is_refused(member: Chat) -> None:
    await _fill(member, MEETING[:3])
    tomorrow = (date.today() + timedelta(days=2)).strftime("%d.%m.%Y")
    assert "майбутньому" in texts(await member.send(tomorrow))


@pytest.mark.parametrize(
    ("bad", "reason"),
    [("0", "щонайменше 1"), ("-3", "щонайменше 1"), ("1e9", "цілим числом"),
     ("два", "цілим числом"), ("1000000000", "більше ніж")],
)  # fmt: skip
async def test_bad_quantities_are_refused(member: Chat, bad: str, reason: str) -> None:
    await _fill(member, MEETING[:6])
    sent = await member.send(bad)
    assert reason in texts(sent)
    assert "Скільки це додає" in texts(sent)


async def test_long_title_and_html_are_handled(member: Chat, app: App) -> None:
    await _fill(member, MEETING[:4])
    assert "задовго" in texts(await member.send("Т" * 5000))
    await member.send("<script>alert(1)</script> & «друзі»")
    data = await app.dispatcher.storage.get_data(_key(member))
    assert data["draft"]["title"] == "<script>alert(1)</script> & «друзі»"
    text = texts(await _fill(member, MEETING[5:]))
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; «друзі»" in text


async def test_cancel_asks_first_and_keeps_the_draft_on_no(member: Chat, app: App) -> None:
    await _fill(member, MEETING[:5])
    sent = await member.send("/cancel")
    assert "Скасувати цей звіт" in texts(sent)
    await member.tap("Ні, продовжити")
    data = await app.dispatcher.storage.get_data(_key(member))
    assert data["draft"]["title"] == "Зустріч з департаментом освіти"
    await member.send("/cancel")
    sent = await member.tap("Так, скасувати")
    assert "нічого не надіслано" in texts(sent)
    assert await app.dispatcher.storage.get_state(_key(member)) is None
    assert await _pending_ids(app) == []


async def test_dialog_survives_a_restart(settings: Settings) -> None:
    first = await build_app(settings)
    await _organisation(first, "ГО «Рух»", MEMBER_ID)
    await _fill(Chat(first, MEMBER_ID), MEETING[:5])
    await first.close()
    second = await build_app(settings)
    try:
        chat = Chat(second, MEMBER_ID)
        # The old prompt's buttons live in the old chat; the next answer is typed.
        sent = await _fill(chat, ["Зустріч про освітні ініціативи", *MEETING[6:]])
        assert "Зустріч з департаментом освіти" in texts(sent)
        await chat.tap("Надіслати")
        assert len(await _pending_ids(second)) == 1
    finally:
        await second.close()


async def test_guest_cannot_report(chat: Chat, app: App) -> None:
    assert "/register" in texts(await chat.send("/activity"))
    assert "/register" in texts(await chat.send("/myreports"))


async def test_non_coordinator_cannot_review(member: Chat, app: App) -> None:
    await _fill(member, MEETING)
    await member.tap("Надіслати")
    (activity_id,) = await _pending_ids(app)
    sent = await member.send("/pending")
    assert "Це можуть лише координатори" in texts(sent)
    for action in ("approve", "reject", "return", "duplicate"):
        sent = await member.press(1, ReviewCb(action=action, activity_id=activity_id).pack())
        assert "Це можуть лише координатори" in (sent[-1].text or "")
    assert await _pending_ids(app) == [activity_id]
    async with app.db.read() as repo:
        assert await repo.activities.audit_count("activity") == 1


async def test_return_needs_a_comment_and_the_member_resubmits(
    member: Chat, coordinator: Chat, app: App
) -> None:
    await _fill(member, MEETING)
    await member.tap("Надіслати")
    (activity_id,) = await _pending_ids(app)
    sent = await coordinator.press(1, ReviewCb(action="return", activity_id=activity_id).pack())
    assert "Чому звіт" in texts(sent)
    assert await _pending_ids(app) == [activity_id], "nothing changes before the comment"
    sent = await coordinator.send("Додайте, будь ласка, фото <реєстрації>")
    assert any(getattr(r, "chat_id", None) == MEMBER_ID for r in sent)
    async with app.db.read() as repo:
        record = await repo.reports.get(activity_id)
    assert record is not None and record.status == "returned"
    assert record.review_comment == "Додайте, будь ласка, фото <реєстрації>"

    sent = await member.send("/myreports")
    assert "повернуто" in texts(sent)
    await member.tap(f"№{activity_id}")
    await member.tap("Виправити")
    await member.tap("✏ Назва")
    await member.send("Зустріч з департаментом освіти (виправлено)")
    await member.tap("Надіслати")
    async with app.db.read() as repo:
        record = await repo.reports.get(activity_id)
        assert await repo.activities.count() == 1, "corrected in place, not duplicated"
    assert record is not None and record.status == "submitted"
    assert record.title.endswith("(виправлено)")


async def test_member_cannot_open_another_organisations_report(member: Chat, app: App) -> None:
    await _fill(member, MEETING)
    await member.tap("Надіслати")
    (activity_id,) = await _pending_ids(app)
    await _organisation(app, "ГО «Інша»", OTHER_MEMBER_ID)
    other = Chat(app, OTHER_MEMBER_ID)
    from handlers.my_reports import MyReportCb

    for action in ("open", "edit"):
        sent = await other.press(1, MyReportCb(action=action, activity_id=activity_id).pack())
        assert "немає" in (sent[-1].text or "") or "лише ваш" in (sent[-1].text or "")
        assert not any(isinstance(r, SendMessage) for r in sent)


async def test_duplicate_is_counted_once_and_credited_to_both(
    member: Chat, coordinator: Chat, app: App
) -> None:
    await _fill(member, MEETING)
    await member.tap("Надіслати")
    await _organisation(app, "ГО «Партнер»", OTHER_MEMBER_ID)
    partner = Chat(app, OTHER_MEMBER_ID)
    await _fill(partner, MEETING)
    await partner.tap("Надіслати")
    first, second = await _pending_ids(app)
    await coordinator.press(1, ReviewCb(action="approve", activity_id=first).pack())
    await coordinator.press(1, ReviewCb(action="duplicate", activity_id=second).pack())
    sent = await coordinator.send(str(first))
    assert "один раз" in texts(sent)
    report = await build_report(app.db, app.plan, 2024, today=date(2024, 12, 31))
    meetings = next(i for i in report["indicators"] if i["indicator"] == "2.1.2-dialogue-meetings")
    assert meetings["actual"] == 1
    async with app.db.read() as repo:
        contributors = await repo.reports.contributors(app.plan.id, "2.1.2-dialogue-meetings")
    assert len(contributors) == 2


async def test_two_coordinators_approving_at_once_decide_once(member: Chat, app: App) -> None:
    import asyncio

    await _fill(member, MEETING)
    await member.tap("Надіслати")
    (activity_id,) = await _pending_ids(app)

    async def approve(actor: int) -> bool:
        async with app.db.transaction() as repo:
            return await repo.reports.decide(activity_id, "approve", actor=actor)

    results = await asyncio.gather(approve(COORDINATOR_ID), approve(COORDINATOR_ID + 1))
    assert sorted(results) == [False, True]


async def test_reaching_a_target_tells_the_contributors(
    member: Chat, coordinator: Chat, app: App
) -> None:
    # 2.4.4's forum: 1 a year with at least 20 CSOs and 20 council representatives.
    steps = [
        "/activity", "2.4.4", "10.10.2024", "Міський форум ІГС", ("tap", "Пропустити"),
        ("tap", "1"), "25", "21", ("tap", "Пропустити"), ("tap", "Пропустити"),
    ]  # fmt: skip
    await _fill(member, steps)
    await member.tap("Надіслати")
    (activity_id,) = await _pending_ids(app)
    sent = await coordinator.press(1, ReviewCb(action="approve", activity_id=activity_id).pack())
    cheers = [r for r in sent if isinstance(r, SendMessage) and "Показник виконано" in r.text]
    assert cheers and cheers[0].chat_id == MEMBER_ID


def _key(chat: Chat) -> Any:
    from aiogram.fsm.storage.base import StorageKey

    return StorageKey(bot_id=chat.bot.id, chat_id=chat.chat.id, user_id=chat.user.id)


async def test_a_draft_dated_outside_the_plan_is_not_submitted(member: Chat, app: App) -> None:
    from handlers.activity_form import ActivityForm, Draft

    await _fill(member, MEETING)
    data = await app.dispatcher.storage.get_data(_key(member))
    draft = Draft.load(data)
    draft.date = "2025-03-01"  # as a report pre-filled from a 2025 event would carry
    await app.dispatcher.storage.set_data(_key(member), draft.dump())
    sent = await member.tap("Надіслати")
    assert "охоплює" in texts(sent)
    assert await app.dispatcher.storage.get_state(_key(member)) == ActivityForm.date.state
    assert await _pending_ids(app) == []


async def test_photo_evidence_reaches_the_coordinator(member: Chat, app: App) -> None:
    from datetime import UTC, datetime

    from aiogram.types import Message, PhotoSize, Update

    await _fill(member, MEETING[:-1])
    photo = Message(
        message_id=77_000, date=datetime.now(UTC), chat=member.chat, from_user=member.user,
        photo=[PhotoSize(file_id="sign-in-sheet", file_unique_id="u1", width=800, height=600)],
    )  # fmt: skip
    sent = await member.feed(Update(update_id=77_001, message=photo))
    assert "Підтвердження: фото" in texts(sent).replace("<b>", "").replace("</b>", "")
    sent = await member.tap("Надіслати")
    photos = [r for r in sent if r.__api_method__ == "sendPhoto"]
    assert photos and photos[0].chat_id == COORDINATOR_ID and photos[0].photo == "sign-in-sheet"
    async with app.db.read() as repo:
        (record,) = await repo.reports.pending()
    assert record.evidence_kind == "photo" and record.evidence_file_id == "sign-in-sheet"


async def test_an_old_choice_pressed_at_a_later_question_changes_nothing(
    member: Chat, app: App
) -> None:
    from handlers.activity_form import ActivityCb
    from handlers.forms import Act

    await _fill(member, MEETING[:3])  # at the date now
    data_before = await app.dispatcher.storage.get_data(_key(member))
    old_choice = ActivityCb(action=Act.pick, value="1.1.1").pack()
    sent = await member.press(1, old_choice)
    assert "⚠" not in texts(sent)
    assert await app.dispatcher.storage.get_state(_key(member)) == "ActivityForm:date"
    assert await app.dispatcher.storage.get_data(_key(member)) == data_before


async def test_changing_the_measure_in_the_summary_asks_for_the_new_counts(
    member: Chat, app: App
) -> None:
    assert "ІГС 7, ВМР 2" in texts(await _fill(member, MEETING))
    assert "Який захід" in texts(await member.tap("✏ Захід"))
    # 2.4.4 (the forum) has one indicator with thresholds of its own: its counts are asked.
    sent = await member.send("2.4.4")
    assert "Скільки це додає" in texts(sent)
    sent = await member.tap("1")
    assert "щонайменше 20" in texts(sent), "the CSO count is asked for the new measure"
    sent = await member.send("25")
    assert "ВМР взяло участь" in texts(sent)
    sent = await member.send("21")
    summary = texts(sent)
    assert "Перевірте звіт" in summary
    assert "2.4.4" in summary and "25, ВМР 21" in summary
    # Nothing else was lost or changed by the edit.
    assert "14 березня 2024" in summary and "Зустріч з департаментом освіти" in summary
    assert "https://example.org/post/1" in summary
    await member.tap("Надіслати")
    async with app.db.read() as repo:
        (report,) = await repo.reports.pending()
    assert (report.measure_code, report.indicator_id) == ("2.4.4", "2.4.4-forum")
    assert (report.quantity, report.cso_participants, report.council_participants) == (1, 25, 21)
    assert report.title == "Зустріч з департаментом освіти"
