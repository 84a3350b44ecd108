"""People, not numbers: names on cards and lists, choosing coordinators, the contact button,
verified organisations in coordinators' care, and refusals with a reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import (
    Contact,
    KeyboardButtonRequestUsers,
    Message,
    MessageOriginHiddenUser,
    MessageOriginUser,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    SharedUser,
    Update,
    User,
    UsersShared,
)

from bot.app import App
from db.users import Person, UserRepo
from handlers.people import MAX_SHOWN, person, reported_by
from tests.conftest import COORDINATOR_ID, USER_ID, Chat, texts
from tests.test_coordinators import audit
from tests.test_registration import (
    OTHER_ID,
    register,
    sent_to,
    snapshot,
    standing,
    start_new,
    state_of,
    verified_organisation,
)

NEW_ID = 555


def named(app: App, user_id: int, first_name: str, username: str | None = None) -> Chat:
    chat = Chat(app, user_id, first_name=first_name)
    chat.user = User(id=user_id, is_bot=False, first_name=first_name, username=username)
    return chat


async def feed(chat: Chat, **content: Any) -> list[TelegramMethod[Any]]:
    """A message of any kind (a shared user, a contact, a forward) from this chat's user."""
    message = Message(
        message_id=10_000 + len(chat.session.requests),
        date=datetime.now(UTC),
        chat=chat.chat,
        from_user=chat.user,
        **content,
    )
    return await chat.feed(Update(update_id=20_000 + len(chat.session.requests), message=message))


def reply_keyboards(requests: list[TelegramMethod[Any]]) -> list[Any]:
    return [r.reply_markup for r in requests if isinstance(r, SendMessage) and r.reply_markup]


async def names_of(app: App, user_id: int) -> Person:
    async with app.db.read() as repo:
        return (await repo.users.people([user_id]))[user_id]


# --- rendering and remembering names --------------------------------------------------------


async def test_a_person_is_cut_then_escaped(app: App, chat: Chat) -> None:
    await chat.send("/start")  # a gettext context for the rendering below
    long = "<" * (MAX_SHOWN + 10)
    with app.i18n.context(), app.i18n.use_locale("uk"):
        shown = person(Person(7, long, "a_b"))
        assert shown.endswith("(@a_b), id 7")
        assert shown.count("&lt;") == MAX_SHOWN - 1 and "…" in shown  # no entity cut in half
        assert person(Person(7)) == "id 7"
        assert person(Person(7, None, "olena")) == "@olena, id 7"
        assert reported_by(Person(7, "Олена")) == "<b>Звіт надіслав(-ла):</b> Олена, id 7"


async def test_names_are_kept_and_refreshed_only_when_they_change(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    renames: list[int] = []
    original = UserRepo.rename

    async def counting(self: UserRepo, user_id: int, *names: str | None) -> None:
        renames.append(user_id)
        await original(self, user_id, *names)

    monkeypatch.setattr(UserRepo, "rename", counting)
    olena = named(app, USER_ID, "Олена", "olena")
    await olena.send("/start")
    assert await names_of(app, USER_ID) == Person(USER_ID, "Олена", "olena")
    await olena.send("/help")
    assert renames == []  # created with the names; the same names write nothing
    renamed = named(app, USER_ID, "Олена К.", None)
    await renamed.send("/help")
    await renamed.send("/help")
    assert renames == [USER_ID]
    assert await names_of(app, USER_ID) == Person(USER_ID, "Олена К.", None)


async def test_cards_and_lists_show_names_escaped(app: App, coordinator: Chat) -> None:
    registrant = named(app, USER_ID, "<b>Олена</b>", "olena")
    sent = await register(registrant)
    (notice,) = sent_to(sent, COORDINATOR_ID)
    assert "&lt;b&gt;Олена&lt;/b&gt; (@olena), id 100" in notice.text
    assert "користувач Telegram" not in notice.text
    await coordinator.send("/organisations")
    decided = await coordinator.tap("Схвалити")
    assert "Тест, id 900" in texts(decided)  # who decided, by name

    asker = named(app, OTHER_ID, "Петро", "petro")
    await asker.send("/register")
    await asker.tap("Приєднатися")
    await asker.send("світл")
    sent = await asker.tap("ГО «Світло»")
    (notice,) = sent_to(sent, COORDINATOR_ID)
    assert "Петро (@petro), id 200 просить приєднати" in notice.text
    listing = texts(await coordinator.send("/organisations"))
    assert "Петро (@petro), id 200 просить приєднати" in listing
    assert "&lt;b&gt;Олена&lt;/b&gt; (@olena), id 100" in listing  # a member of «Світло»

    sent = await coordinator.send("/coordinators")
    assert "Тест, id 900 — з налаштувань бота" in texts(sent)


# --- choosing a coordinator ----------------------------------------------------------------


async def test_a_coordinator_is_chosen_with_telegrams_button(app: App, coordinator: Chat) -> None:
    await coordinator.send("/coordinators")
    sent = await coordinator.tap("Додати")
    (keyboard,) = reply_keyboards(sent)
    assert isinstance(keyboard, ReplyKeyboardMarkup)
    asked = keyboard.keyboard[0][0].request_users
    assert isinstance(asked, KeyboardButtonRequestUsers)
    assert asked.request_name and asked.request_username and asked.user_is_bot is False
    shared = UsersShared(
        request_id=asked.request_id,
        users=[SharedUser(user_id=NEW_ID, first_name="Марія", username="maria")],
    )
    sent = await feed(coordinator, users_shared=shared)
    assert "Марія (@maria), id 555 тепер координатор" in texts(sent)
    assert any(isinstance(k, ReplyKeyboardRemove) for k in reply_keyboards(sent))
    assert sent_to(sent, NEW_ID)  # they are told
    async with app.db.read() as repo:
        assert await repo.coordinators.all() == [NEW_ID]


async def test_a_coordinator_is_named_by_a_forwarded_message(app: App, coordinator: Chat) -> None:
    await coordinator.send("/coordinators")
    await coordinator.tap("Додати")
    before = await snapshot(app)
    hidden = MessageOriginHiddenUser(date=datetime.now(UTC), sender_user_name="Хтось")
    sent = await feed(coordinator, text="привіт", forward_origin=hidden)
    assert "не показує, хто його надіслав" in texts(sent)
    assert await snapshot(app) == before
    assert await state_of(app, COORDINATOR_ID) == "CoordinatorForm:user_id"  # still asking

    robot = User(id=7, is_bot=True, first_name="Бот")
    sent = await feed(
        coordinator,
        text="я бот",
        forward_origin=MessageOriginUser(date=datetime.now(UTC), sender_user=robot),
    )
    assert "бот не може бути координатором" in texts(sent)
    assert await snapshot(app) == before
    origin = MessageOriginUser(
        date=datetime.now(UTC),
        sender_user=User(id=NEW_ID, is_bot=False, first_name="Марія"),
    )
    sent = await feed(coordinator, text="привіт", forward_origin=origin)
    assert "Марія, id 555 тепер координатор" in texts(sent)
    async with app.db.read() as repo:
        assert await repo.coordinators.all() == [NEW_ID]


async def test_the_cancel_key_of_the_reply_keyboard_cancels(app: App, coordinator: Chat) -> None:
    await coordinator.send("/coordinators")
    await coordinator.tap("Додати")
    sent = await coordinator.send("✖ Скасувати")
    assert "координатора не додано" in texts(sent)
    assert any(isinstance(k, ReplyKeyboardRemove) for k in reply_keyboards(sent))
    assert await state_of(app, COORDINATOR_ID) is None


async def test_a_removed_coordinator_is_told(app: App, coordinator: Chat) -> None:
    await named(app, NEW_ID, "Марія").send("/start")
    await coordinator.send("/coordinators")
    await coordinator.tap("Додати")
    await coordinator.send(str(NEW_ID))
    await coordinator.send("/coordinators")
    sent = await coordinator.tap("Вилучити Марія, 555")
    assert "Вилучити Марія, id 555 з координаторів?" in texts(sent)
    sent = await coordinator.tap("Так, вилучити")
    assert "Марія, id 555 більше не координатор" in texts(sent)
    (news,) = sent_to(sent, NEW_ID)
    assert "більше не координатор" in news.text


# --- the contact button ---------------------------------------------------------------------


async def test_registration_offers_the_contact_button(app: App, chat: Chat) -> None:
    await start_new(chat)
    for answer in ("ГО «Світло»", "00032129"):
        await chat.send(answer)
    sent = await chat.send("Олена Коваль")
    (keyboard,) = reply_keyboards(sent)
    assert isinstance(keyboard, ReplyKeyboardMarkup)
    assert keyboard.keyboard[0][0].request_contact is True
    contact = Contact(phone_number="380671234567", first_name="Тест", user_id=USER_ID)
    sent = await feed(chat, contact=contact)
    assert "+380671234567" in texts(sent)
    assert any(isinstance(k, ReplyKeyboardRemove) for k in reply_keyboards(sent))
    assert await state_of(app, USER_ID) == "RegistrationForm:areas"
    await chat.tap("☐ 1.")
    await chat.tap("Готово")
    await chat.tap("Надіслати на перевірку")
    async with app.db.read() as repo:
        (org,) = await repo.organisations.pending()
    assert org.contact == "+380671234567"


# --- verified organisations in coordinators' care -------------------------------------------


async def test_verified_organisations_are_listed_edited_and_deactivated(
    app: App, chat: Chat, coordinator: Chat
) -> None:
    org = await verified_organisation(app, "ГО «Світло»", "00032129", USER_ID)
    await named(app, USER_ID, "Олена").send("/start")
    sent = await coordinator.send("/organisations")
    assert "ГО «Світло»</b>: Олена, id 100" in texts(sent)
    assert "Нічого не очікує" in texts(sent)

    await coordinator.tap("⚙ ГО «Світло»")
    await coordinator.tap("Назва")
    sent = await coordinator.send("ГО «Світло Поділля»")
    assert "Збережено" in texts(sent)
    await coordinator.tap("Контакт")
    assert "не схоже ні на номер" in texts(await coordinator.send("не контакт"))
    sent = await coordinator.send("0501234567")
    assert "+380501234567" in texts(sent)
    async with app.db.read() as repo:
        record = await repo.organisations.get(org.id)
    assert record is not None and record.name == "ГО «Світло Поділля»"
    assert record.contact == "+380501234567"

    await coordinator.tap("Деактивувати")
    sent = await coordinator.tap("Ні, залишити")
    assert await standing(app, USER_ID) == org.id
    await coordinator.tap("Деактивувати")
    waiting = named(app, OTHER_ID, "Петро")
    await waiting.send("/register")
    await waiting.tap("Приєднатися")
    await waiting.send("поділля")
    await waiting.tap("Світло Поділля")
    sent = await coordinator.tap("Так, деактивувати")
    assert "деактивовано" in texts(sent)
    for told in (USER_ID, OTHER_ID):  # the member, and who was waiting to join
        (news,) = sent_to(sent, told)
        assert "деактивували «ГО «Світло Поділля»»" in news.text
    async with app.db.read() as repo:
        assert [m.status for m in await repo.memberships.of_user(OTHER_ID)] == ["rejected"]
    assert await standing(app, USER_ID) is None
    assert "від імені зареєстрованої організації" in texts(await chat.send("/activity"))
    await chat.send("/register")  # free to register or join another one
    assert any("Зареєструвати нову" in label for label in chat.buttons())
    actions = [a for _, _, a in await audit(app, "organisation")]
    assert actions[-3:] == ["rename", "contact", "deactivate"]
    assert (COORDINATOR_ID, org.id, f"reject:{OTHER_ID}") in await audit(app, "membership")
    # Gone from the list, from joining, and a second deactivation changes nothing.
    assert "Світло Поділля</b>" not in texts(await coordinator.send("/organisations"))
    before = await snapshot(app)
    message_id, _ = coordinator.keyboard()
    from handlers.organisations import OrgManageCb

    again = OrgManageCb(action="off_yes", org=org.id).pack()
    sent = await coordinator.press(message_id, again)
    assert "вже не є активною" in (sent[-1].text or "")
    assert await snapshot(app) == before
    other = Chat(app, 300)
    await other.send("/register")
    await other.tap("Приєднатися")
    assert "Жодна зареєстрована організація" in texts(await other.send("світл"))


async def test_non_coordinators_cannot_manage_organisations(app: App, chat: Chat) -> None:
    from handlers.organisations import OrgManageCb

    org = await verified_organisation(app, "ГО «Світло»", "00032129", USER_ID)
    before = await snapshot(app)
    for action in ("show", "name", "off", "off_yes"):
        sent = await chat.press(1, OrgManageCb(action=action, org=org.id).pack())
        assert "Це можуть лише координатори" in (sent[-1].text or "")
    assert await snapshot(app) == before


# --- a refusal carries a reason -------------------------------------------------------------


async def test_a_refused_join_request_carries_the_reason(app: App, coordinator: Chat) -> None:
    org = await verified_organisation(app, "ГО «Світло»", "00032129", USER_ID)
    asker = named(app, OTHER_ID, "Петро")
    await asker.send("/register")
    await asker.tap("Приєднатися")
    await asker.send("світл")
    await asker.tap("ГО «Світло»")

    await coordinator.send("/organisations")
    sent = await coordinator.tap("Відхилити")
    assert "Напишіть причину" in texts(sent)
    sent = await coordinator.send("/cancel")
    assert "запит і далі очікує" in texts(sent)
    async with app.db.read() as repo:
        assert [m.status for m in await repo.memberships.of_user(OTHER_ID)] == ["pending"]

    await coordinator.send("/organisations")
    await coordinator.tap("Відхилити")
    sent = await coordinator.send("Ви <не> наш працівник")
    assert "Причина:</b> Ви &lt;не&gt; наш працівник" in texts(sent)
    (news,) = sent_to(sent, OTHER_ID)
    assert "Причина: Ви &lt;не&gt; наш працівник" in news.text
    assert await standing(app, OTHER_ID) is None
    async with (
        app.db.read() as repo,
        repo.conn.execute(
            "SELECT action, reason FROM audit_log WHERE entity = 'membership' AND entity_id = ?",
            (org.id,),
        ) as cur,
    ):
        rows = [tuple(r) for r in await cur.fetchall()]
    assert (f"reject:{OTHER_ID}", "Ви <не> наш працівник") in rows
