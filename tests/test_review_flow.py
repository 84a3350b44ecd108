"""Reviews end well: notices recorded with the decision, buttons gone after it, a report that
can be withdrawn, corrected and sent again, and /pending showing everything that waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram.methods import AnswerCallbackQuery, EditMessageReplyMarkup, SendMessage

from bot.app import App
from db.events import NewEvent
from handlers.events.callbacks import EventCb
from handlers.my_reports import MyReportCb
from handlers.organisations.keyboards import (
    ManageAction,
    OrgManageCb,
    OrgReviewCb,
    ReviewAction,
    ReviewKind,
)
from handlers.review_views import ReviewCb
from scheduler.notifier import Notifier
from tests.conftest import COORDINATOR_ID, Chat, texts
from tests.test_activity_reports import MEETING, _fill, _organisation, _pending_ids

MEMBER_ID = 100
OTHER_MEMBER_ID = 200
REVIEWED = "Ваш звіт розглянуто"


@pytest.fixture
async def member(app: App) -> Chat:
    await _organisation(app, "ГО «Рух & Мир»", MEMBER_ID, "14360570")
    await _organisation_member(app, OTHER_MEMBER_ID)
    return Chat(app, MEMBER_ID, first_name="Олена <b>")


async def _organisation_member(app: App, user_id: int) -> None:
    async with app.db.transaction() as repo:
        org = await repo.organisations.by_name("ГО «Рух & Мир»")
        assert org is not None
        await repo.memberships.request(user_id, org.id, approved=True)


async def _submitted(member: Chat, app: App) -> int:
    await _fill(member, MEETING)
    await member.tap("Надіслати")
    (activity_id,) = await _pending_ids(app)
    return activity_id


def _crash_before_delivery(app: App, monkeypatch: pytest.MonkeyPatch) -> Notifier:
    """The process dies right after a commit: the dispatcher's notifier never sends."""
    notifier: Notifier = app.dispatcher["notifier"]

    async def dead(*_: Any, **__: Any) -> list[int]:
        return []

    monkeypatch.setattr(notifier, "deliver", dead)
    return notifier


async def _outbox(app: App, chat_id: int, state: str = "pending") -> list[str]:
    async with app.db.read() as repo:
        return [text for s, text in await repo.outbox.of_chat(chat_id) if s == state]


async def _restart_delivers(app: App, bot: Any) -> None:
    """A new process's notifier on the same database sends what was left, then nothing more."""
    fresh = Notifier(app.db, app.i18n)
    await fresh.deliver(bot)
    await fresh.deliver(bot)


def _to(requests: list[Any], chat_id: int, needle: str) -> list[str]:
    return [
        r.text
        for r in requests
        if isinstance(r, SendMessage) and r.chat_id == chat_id and needle in r.text
    ]


@pytest.mark.parametrize("decision", ["approve", "return", "reject"])
async def test_a_decision_crashed_before_delivery_reaches_each_member_once(
    member: Chat, coordinator: Chat, app: App, monkeypatch: pytest.MonkeyPatch, decision: str
) -> None:
    activity_id = await _submitted(member, app)
    _crash_before_delivery(app, monkeypatch)
    await coordinator.press(1, ReviewCb(action=decision, activity_id=activity_id).pack())
    if decision != "approve":
        await coordinator.send("Причина <важлива>")
    # The decision and its notices were committed together: both members' notices wait.
    for chat_id in (MEMBER_ID, OTHER_MEMBER_ID):
        (waiting,) = await _outbox(app, chat_id)
        assert REVIEWED in waiting
    monkeypatch.undo()

    seen = len(coordinator.session.requests)
    await _restart_delivers(app, coordinator.bot)
    sent = coordinator.session.requests[seen:]
    for chat_id in (MEMBER_ID, OTHER_MEMBER_ID):
        assert len(_to(sent, chat_id, REVIEWED)) == 1
        assert await _outbox(app, chat_id) == []
    if decision != "approve":
        assert "Причина &lt;важлива&gt;" in _to(sent, MEMBER_ID, REVIEWED)[0]


async def test_a_target_reached_is_recorded_with_the_approval(
    member: Chat, coordinator: Chat, app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = [
        "/activity", "2.4.4", "10.10.2024", "Міський форум ІГС", ("tap", "Пропустити"),
        ("tap", "1"), "25", "21", ("tap", "Пропустити"), ("tap", "Пропустити"),
    ]  # fmt: skip
    await _fill(member, steps)
    await member.tap("Надіслати")
    (activity_id,) = await _pending_ids(app)
    _crash_before_delivery(app, monkeypatch)
    await coordinator.press(1, ReviewCb(action="approve", activity_id=activity_id).pack())
    waiting = await _outbox(app, MEMBER_ID)
    assert any("Показник виконано" in t for t in waiting), waiting
    monkeypatch.undo()
    seen = len(coordinator.session.requests)
    await _restart_delivers(app, coordinator.bot)
    sent = coordinator.session.requests[seen:]
    assert len(_to(sent, MEMBER_ID, "Показник виконано")) == 1


async def test_a_new_report_reaches_coordinators_through_the_outbox(
    member: Chat, app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash_before_delivery(app, monkeypatch)
    await _submitted(member, app)
    (card,) = await _outbox(app, COORDINATOR_ID)
    assert "Новий звіт" in card
    assert "Олена &lt;b&gt;" in card, "the reporter is named, escaped"


async def test_buttons_go_after_a_decision_with_a_comment(
    member: Chat, coordinator: Chat, app: App
) -> None:
    activity_id = await _submitted(member, app)
    await coordinator.send("/pending")
    card_id, buttons = coordinator.keyboard()
    assert any("Повернути" in text for text, _ in buttons)
    await coordinator.tap("Повернути")
    sent = await coordinator.send("Додайте фото")
    dropped = [r for r in sent if isinstance(r, EditMessageReplyMarkup)]
    assert dropped and dropped[0].message_id == card_id
    # A second coordinator's old card: pressing it says who was first and loses its buttons.
    sent = await coordinator.press(
        card_id, ReviewCb(action="approve", activity_id=activity_id).pack()
    )
    assert any(isinstance(r, AnswerCallbackQuery) and "вже" in (r.text or "") for r in sent)


async def test_a_corrected_report_is_marked_with_the_earlier_comment(
    member: Chat, coordinator: Chat, app: App
) -> None:
    activity_id = await _submitted(member, app)
    await coordinator.press(1, ReviewCb(action="return", activity_id=activity_id).pack())
    await coordinator.send("Додайте фото реєстрації")
    await member.send("/myreports")
    await member.tap(f"№{activity_id}")
    await member.tap("Виправити")
    sent = await member.tap("Надіслати")
    (card,) = _to(sent, COORDINATOR_ID, "Виправлений звіт")
    assert "Попередній коментар" in card and "Додайте фото реєстрації" in card


async def test_the_author_withdraws_a_waiting_report_and_sends_it_again(
    member: Chat, coordinator: Chat, app: App
) -> None:
    activity_id = await _submitted(member, app)
    await member.send("/myreports")
    await member.tap(f"№{activity_id}")
    await member.tap("Відкликати")
    assert await _pending_ids(app) == [activity_id], "nothing changes before the confirmation"
    sent = await member.tap("Так, відкликати")
    assert "відкликано" in texts(sent)
    assert await _pending_ids(app) == []
    assert "Жодного" not in texts(await coordinator.send("/pending"))
    # Another member of the organisation sees it but cannot withdraw what they did not send.
    other = Chat(app, OTHER_MEMBER_ID)
    await other.send("/myreports")
    await other.tap(f"№{activity_id}")
    assert not any("Відкликати" in b for b in other.buttons())

    await member.tap("Виправити")
    sent = await member.tap("Надіслати")
    assert await _pending_ids(app) == [activity_id]
    assert _to(sent, COORDINATOR_ID, "Виправлений звіт")


async def test_a_decided_report_cannot_be_withdrawn(
    member: Chat, coordinator: Chat, app: App
) -> None:
    activity_id = await _submitted(member, app)
    await coordinator.press(1, ReviewCb(action="approve", activity_id=activity_id).pack())
    for action in ("withdraw", "withdraw_yes"):
        sent = await member.press(1, MyReportCb(action=action, activity_id=activity_id).pack())
        assert "не можна" in (sent[-1].text or "") or "лише" in (sent[-1].text or "")
    async with app.db.read() as repo:
        record = await repo.reports.get(activity_id)
    assert record is not None and record.status == "approved"


async def test_a_report_card_leads_back_to_the_list(member: Chat, app: App) -> None:
    activity_id = await _submitted(member, app)
    await member.send("/myreports")
    await member.tap(f"№{activity_id}")
    sent = await member.tap("До списку")
    assert "Звіти вашої організації" in texts(sent) or "звіти" in texts(sent).lower()
    assert any(f"№{activity_id}" in b for b in member.buttons())


async def test_a_double_tap_on_submit_makes_one_report(member: Chat, app: App) -> None:
    await _fill(member, MEETING)
    summary, buttons = member.keyboard()
    submit = next(data for text, data in buttons if "Надіслати" in text)
    await member.press(summary, submit)
    sent = await member.press(summary, submit)
    answer = [r for r in sent if isinstance(r, AnswerCallbackQuery)]
    assert answer and "уже надіслано" in (answer[0].text or "")
    assert "застаріла" not in (answer[0].text or "")
    async with app.db.read() as repo:
        assert await repo.activities.count() == 1


async def test_pending_lists_reports_events_and_organisations(
    member: Chat, coordinator: Chat, app: App
) -> None:
    await _submitted(member, app)
    starts = datetime.now(UTC) + timedelta(days=10)
    async with app.db.transaction() as repo:
        event_id = await repo.events.create(
            NewEvent(
                "Толока <у парку>", starts, starts + timedelta(hours=2), "Парк", "ГО", None,
                ("2.1.2",), "", None, "pending", MEMBER_ID, MEMBER_ID,
            ),
            datetime.now(UTC),
        )  # fmt: skip
        await repo.organisations.register(
            "ГО «Нова»",
            edrpou="00032129",
            contact="+380671234567",
            contact_person="Іван",
            areas=["1"],
            registered_by=700,
        )
    sent = await coordinator.send("/pending")
    text = texts(sent)
    assert "Звіт №" in text and "Олена &lt;b&gt;" in text
    assert "Толока &lt;у парку&gt;" in text
    assert "ГО «Нова»" in text
    # The proposed event is approved right from /pending.
    card = next(
        r
        for r in sent
        if isinstance(r, SendMessage) and r.text and "Толока" in r.text and r.reply_markup
    )
    assert card.reply_markup is not None
    buttons = [b for row in card.reply_markup.inline_keyboard for b in row]  # type: ignore[union-attr]
    approve = next(b.callback_data for b in buttons if "Схвалити" in b.text)
    assert approve == EventCb.unpack(approve or "").pack()
    await coordinator.press(1, approve or "")
    async with app.db.read() as repo:
        event = await repo.events.get(event_id)
    assert event is not None and event.status == "approved"


async def test_pending_says_when_nothing_waits(coordinator: Chat) -> None:
    text = texts(await coordinator.send("/pending"))
    assert "Немає звітів" in text and "Більше ніщо не чекає" in text


async def test_a_deactivated_organisation_is_reactivated(
    member: Chat, coordinator: Chat, app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with app.db.read() as repo:
        org = await repo.organisations.by_name("ГО «Рух & Мир»")
    assert org is not None
    await coordinator.send("/organisations")
    await coordinator.tap("⚙")
    await coordinator.tap("Деактивувати")
    sent = await coordinator.tap("Так")
    assert any(b.startswith("♻") for b in coordinator.buttons()), "a way back at once"
    async with app.db.read() as repo:
        assert (await repo.memberships.standing(MEMBER_ID)).organisation_id is None
    sent = await coordinator.send("/organisations")
    assert "Деактивовані організації" in texts(sent)
    assert "Рух &amp; Мир" in texts(sent)
    _crash_before_delivery(app, monkeypatch)
    sent = await coordinator.tap("♻")
    assert "Відновлено" in texts(sent)
    (notice,) = await _outbox(app, MEMBER_ID)
    assert "відновили" in notice
    async with app.db.read() as repo:
        assert not await repo.organisations.is_deactivated(org.id)
        assert (await repo.memberships.standing(MEMBER_ID)).organisation_id == org.id
    # Pressed again: it is not a deactivated one any more, and nothing changes.
    sent = await coordinator.press(
        1, OrgManageCb(action=ManageAction.reactivate, org=org.id).pack()
    )
    assert "не деактивована" in (sent[-1].text or "")


def _card_id(chat: Chat, needle: str) -> int:
    """The newest message with buttons in this chat whose text contains needle."""
    for message_id, message in sorted(chat.session.messages[chat.chat.id].items(), reverse=True):
        if needle in (message.get("text") or "") and message.get("reply_markup"):
            return message_id
    raise AssertionError(needle)


async def test_organisation_and_join_decisions_are_recorded_with_their_notices(
    coordinator: Chat, app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    registrant, requester = 701, 702
    async with app.db.transaction() as repo:
        new = await repo.organisations.register(
            "ГО «Нова»",
            edrpou="00032129",
            contact="+380671234567",
            contact_person="Іван",
            areas=["1"],
            registered_by=registrant,
        )
        old = await repo.organisations.create("ГО «Стара»", status="verified")
        await repo.memberships.request(requester, old.id)
        await repo.users.ensure(requester, datetime.now(UTC), "Петро", "petro")
    _crash_before_delivery(app, monkeypatch)
    listing = await coordinator.send("/organisations")
    assert "Петро (@petro), id 702" in texts(listing), "a join request names the person"

    verify = OrgReviewCb(kind=ReviewKind.organisation, action=ReviewAction.approve, org=new.id)
    await coordinator.press(_card_id(coordinator, "Нова"), verify.pack())
    (notice,) = await _outbox(app, registrant)
    assert "Нова" in notice

    join_card = _card_id(coordinator, "Петро")
    refuse = OrgReviewCb(
        kind=ReviewKind.membership, action=ReviewAction.reject, org=old.id, user=requester
    )
    await coordinator.press(join_card, refuse.pack())
    sent = await coordinator.send("Немає <документів>")
    (notice,) = await _outbox(app, requester)
    assert "Немає &lt;документів&gt;" in notice, "the reason reaches the requester, escaped"
    assert any(
        getattr(r, "message_id", None) == join_card and r.__api_method__ == "editMessageText"
        for r in sent
    ), "the request's card loses its buttons"
    monkeypatch.undo()
    seen = len(coordinator.session.requests)
    await _restart_delivers(app, coordinator.bot)
    sent = coordinator.session.requests[seen:]
    assert len(_to(sent, registrant, "Нова")) == 1
    assert len(_to(sent, requester, "Стара")) == 1


async def test_every_coordinators_copy_of_a_card_loses_its_buttons(
    member: Chat, coordinator: Chat, app: App
) -> None:
    second = COORDINATOR_ID + 1
    async with app.db.transaction() as repo:
        await repo.coordinators.add(second, actor=COORDINATOR_ID)
    activity_id = await _submitted(member, app)
    cards = {
        chat: next(
            message_id
            for message_id, m in member.session.messages[chat].items()
            if m.get("reply_markup")
        )
        for chat in (COORDINATOR_ID, second)
    }
    sent = await coordinator.press(
        cards[COORDINATOR_ID], ReviewCb(action="approve", activity_id=activity_id).pack()
    )
    dropped = {(r.chat_id, r.message_id) for r in sent if isinstance(r, EditMessageReplyMarkup)}
    assert (second, cards[second]) in dropped, "the other coordinator's copy"


async def test_a_withdrawn_reports_cards_lose_their_buttons(member: Chat, app: App) -> None:
    activity_id = await _submitted(member, app)
    card = next(
        message_id
        for message_id, m in member.session.messages[COORDINATOR_ID].items()
        if m.get("reply_markup")
    )
    await member.send("/myreports")
    await member.tap(f"№{activity_id}")
    await member.tap("Відкликати")
    sent = await member.tap("Так, відкликати")
    assert any(
        isinstance(r, EditMessageReplyMarkup)
        and r.chat_id == COORDINATOR_ID
        and r.message_id == card
        for r in sent
    )


async def test_a_review_card_reads_in_the_coordinators_language(
    member: Chat, coordinator: Chat, app: App
) -> None:
    await coordinator.send("/start")
    async with app.db.transaction() as repo:
        await repo.users.set_language(COORDINATOR_ID, "en")
    await _submitted(member, app)
    text = texts(await coordinator.send("/pending"))
    assert "14 March 2024" in text
    assert "Reported by:</b> Олена &lt;b&gt;, id 100" in text
