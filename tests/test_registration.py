"""/register: registering an organisation or joining one, through the real dispatcher."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import ReplyKeyboardRemove

from bot.app import App, build_app
from bot.config import Settings
from db.organisations import OrganisationRecord
from handlers.organisations import OrgReviewCb
from handlers.registration import parse_contact, parse_edrpou
from plan.validation import InputError, valid_edrpou
from tests.conftest import COORDINATOR_ID, USER_ID, Chat, texts

OTHER_ID = 200


async def snapshot(app: App) -> tuple[Any, ...]:
    """Everything registration may change, to compare before and after a refusal."""
    async with app.db.read() as repo:
        result = []
        for sql in (
            "SELECT * FROM organisations ORDER BY id",
            "SELECT * FROM memberships ORDER BY user_id, organisation_id",
            "SELECT * FROM coordinators ORDER BY user_id",
            "SELECT count(*) FROM audit_log",
        ):
            async with repo.conn.execute(sql) as cur:
                result.append([tuple(r) for r in await cur.fetchall()])
    return tuple(result)


async def state_of(app: App, user_id: int) -> str | None:
    key = StorageKey(bot_id=1, chat_id=user_id, user_id=user_id)
    return await app.dispatcher.storage.get_state(key)


async def standing(app: App, user_id: int) -> int | None:
    async with app.db.read() as repo:
        return (await repo.memberships.standing(user_id)).organisation_id


async def verified_organisation(app: App, name: str, code: str, by: int) -> OrganisationRecord:
    async with app.db.transaction() as repo:
        org = await repo.organisations.register(
            name,
            edrpou=code,
            contact="+380671234567",
            contact_person="Олена",
            areas=["1"],
            registered_by=by,
        )
        await repo.memberships.request(by, org.id)
        await repo.organisations.decide(org.id, approve=True, actor=COORDINATOR_ID)
        await repo.memberships.decide(by, org.id, approve=True, actor=COORDINATOR_ID)
    return org


async def start_new(chat: Chat) -> None:
    await chat.send("/register")
    await chat.tap("Зареєструвати нову")


async def register(
    chat: Chat,
    name: str = "ГО «Світло»",
    code: str = "00032129",
    person: str = "Олена Коваль",
    contact: str = "+380671234567",
) -> list[TelegramMethod[Any]]:
    await start_new(chat)
    for answer in (name, code, person, contact):
        await chat.send(answer)
    await chat.tap("☐ 1.")
    await chat.tap("Готово")
    return await chat.tap("Надіслати на перевірку")


def sent_to(requests: list[TelegramMethod[Any]], chat_id: int) -> list[TelegramMethod[Any]]:
    return [
        r
        for r in requests
        if r.__api_method__ == "sendMessage" and getattr(r, "chat_id", None) == chat_id
    ]


def test_edrpou_and_contact_rules() -> None:
    for code in ("00032129", "14360570", "21560766", " 2156 0766 "):
        assert parse_edrpou(code) == code.replace(" ", "")
    for code, reason in (
        ("00032128", "edrpou_check"),
        ("0003212", "edrpou_length"),
        ("000321290", "edrpou_length"),
        ("0003212a", "edrpou_not_digits"),
        ("абвгдежз", "edrpou_not_digits"),
        ("", "edrpou_not_digits"),
    ):
        with pytest.raises(InputError) as e:
            parse_edrpou(code)
        assert e.value.reason == reason, code
    assert parse_contact("+38 (067) 123-45-67") == "+380671234567"
    assert parse_contact("0671234567") == "+380671234567"
    assert parse_contact("380671234567") == "+380671234567"
    assert parse_contact("info@example.org") == "info@example.org"
    for bad in ("12345", "not an email", "a@b", "<b>@x.org", "0671234", "+38067abc4567"):
        with pytest.raises(InputError):
            parse_contact(bad)


async def test_guest_registers_and_becomes_a_member_when_a_coordinator_approves(
    app: App, chat: Chat, coordinator: Chat
) -> None:
    assert "/organisations" not in texts(await chat.send("/help"))
    assert "/register" in texts(await chat.send("/help"))
    sent = await register(chat)
    assert "надіслано координаторам" in texts(sent)
    # The coordinator is told at once, with the decision buttons.
    (notice,) = sent_to(sent, COORDINATOR_ID)
    assert "ГО «Світло»" in notice.text and "00032129" in notice.text
    assert notice.reply_markup is not None
    async with app.db.read() as repo:
        org = await repo.organisations.by_edrpou("00032129")
        assert org is not None and org.status == "pending"
        profile = await repo.organisations.profile(org.id)
        (membership,) = await repo.memberships.of_user(USER_ID)
    assert profile is not None and profile.areas == ("1",) and profile.registered_by == USER_ID
    assert profile.contact == "+380671234567" and profile.contact_person == "Олена Коваль"
    assert membership.status == "pending"
    assert await standing(app, USER_ID) is None
    assert await state_of(app, USER_ID) is None
    # Pending: asking again says so, and nothing new is created.
    assert "очікує на координатора" in texts(await chat.send("/register"))

    listing = await coordinator.send("/organisations")
    assert "ГО «Світло»" in texts(listing)
    decided = await coordinator.tap("Схвалити")
    assert "Підтвердив" in texts(decided)
    (news,) = sent_to(decided, USER_ID)
    assert "підтвердили «ГО «Світло»»" in news.text

    assert await standing(app, USER_ID) == org.id
    assert "Ви вже належите до «ГО «Світло»»" in texts(await chat.send("/register"))
    async with app.db.read() as repo:
        assert (await repo.organisations.get(org.id)).status == "verified"  # type: ignore[union-attr]
        async with repo.conn.execute(
            "SELECT actor, action FROM audit_log WHERE entity IN ('organisation', 'membership') "
            "ORDER BY id"
        ) as cur:
            audit = [tuple(r) for r in await cur.fetchall()]
    assert audit == [
        (USER_ID, "register"),
        (COORDINATOR_ID, "verify"),
        (COORDINATOR_ID, f"approve:{USER_ID}"),
    ]
    assert "Нічого не очікує" in texts(await coordinator.send("/organisations"))


async def test_approving_twice_changes_nothing(app: App, chat: Chat, coordinator: Chat) -> None:
    await register(chat)
    await coordinator.send("/organisations")
    message_id, buttons = coordinator.keyboard()
    approve = next(data for text, data in buttons if "Схвалити" in text)
    reject = next(data for text, data in buttons if "Відхилити" in text)
    await coordinator.press(message_id, approve)
    before = await snapshot(app)
    for data in (approve, reject):
        sent = await coordinator.press(message_id, data)
        assert "вже ухвалено" in (sent[-1].text or "")
        assert "підтверджено" in (sent[-1].text or "")
        assert sent_to(sent, USER_ID) == []
    assert await snapshot(app) == before


async def test_a_rejected_registration_is_reported_and_gives_no_membership(
    app: App, chat: Chat, coordinator: Chat
) -> None:
    await register(chat)
    await coordinator.send("/organisations")
    decided = await coordinator.tap("Відхилити")
    (news,) = sent_to(decided, USER_ID)
    assert "не підтвердили реєстрацію" in news.text
    assert await standing(app, USER_ID) is None
    async with app.db.read() as repo:
        (membership,) = await repo.memberships.of_user(USER_ID)
    assert membership.status == "rejected" and membership.organisation_status == "rejected"


async def test_join_request_path(app: App, coordinator: Chat) -> None:
    org = await verified_organisation(app, "ГО «Світло»", "00032129", USER_ID)
    other = Chat(app, OTHER_ID)
    await other.send("/register")
    await other.tap("Приєднатися")
    sent = await other.send("нічого такого")
    assert "Жодна зареєстрована організація" in texts(sent)
    sent = await other.send("світл")
    assert "До якої" in texts(sent)
    sent = await other.tap("ГО «Світло»")
    assert "надіслано координаторам" in texts(sent)
    (notice,) = sent_to(sent, COORDINATOR_ID)
    assert str(OTHER_ID) in notice.text
    assert await standing(app, OTHER_ID) is None

    listing = await coordinator.send("/organisations")
    assert f"{OTHER_ID} просить приєднати" in texts(listing)
    decided = await coordinator.tap("Схвалити")
    (news,) = sent_to(decided, OTHER_ID)
    assert "схвалено" in news.text
    assert await standing(app, OTHER_ID) == org.id

    # Pressing again: a clear answer, nothing changes.
    before = await snapshot(app)
    message_id, _ = coordinator.keyboard()
    again = OrgReviewCb(kind="join", action="reject", org=org.id, user=OTHER_ID).pack()
    sent = await coordinator.press(message_id, again)
    assert "вже ухвалено" in (sent[-1].text or "")
    assert await snapshot(app) == before


async def test_join_by_edrpou_code(app: App) -> None:
    await verified_organisation(app, "БФ «Поділля»", "14360570", USER_ID)
    other = Chat(app, OTHER_ID)
    await other.send("/register")
    await other.tap("Приєднатися")
    await other.send("14360570")
    await other.tap("Поділля")
    async with app.db.read() as repo:
        (membership,) = await repo.memberships.of_user(OTHER_ID)
    assert membership.status == "pending"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("00032128", "контрольна"),
        ("0003212", "рівно 8 цифр"),
        ("abcdefgh", "лише з цифр"),
        ("0003212б", "лише з цифр"),
    ],
)
async def test_bad_edrpou_is_refused_with_the_reason(
    app: App, chat: Chat, code: str, expected: str
) -> None:
    await start_new(chat)
    await chat.send("ГО «Світло»")
    before = await snapshot(app)
    sent = await chat.send(code)
    assert expected in texts(sent)
    assert "код ЄДРПОУ (8 цифр)" in texts(sent)  # the question is asked again
    assert await state_of(app, USER_ID) == "RegistrationForm:edrpou"
    assert await snapshot(app) == before


async def test_bad_edrpou_length_names_the_count(app: App, chat: Chat) -> None:
    await start_new(chat)
    await chat.send("ГО «Світло»")
    assert "ви надіслали 7" in texts(await chat.send("0003212"))


async def test_a_5000_character_name_is_refused(app: App, chat: Chat) -> None:
    await start_new(chat)
    before = await snapshot(app)
    sent = await chat.send("Я" * 5000)
    assert "Це задовго: 5000 символів, можна щонайбільше 200" in texts(sent)
    assert await state_of(app, USER_ID) == "RegistrationForm:name"
    assert await snapshot(app) == before


@pytest.mark.parametrize("contact", ["12345", "not an email", "a@b", "<b>@x.org", "+38067abc4567"])
async def test_bad_phone_or_email_is_refused(app: App, chat: Chat, contact: str) -> None:
    await start_new(chat)
    for answer in ("ГО «Світло»", "00032129", "Олена"):
        await chat.send(answer)
    before = await snapshot(app)
    sent = await chat.send(contact)
    assert "не схоже ні на номер телефону" in texts(sent)
    assert await state_of(app, USER_ID) == "RegistrationForm:contact"
    assert await snapshot(app) == before


async def test_html_in_every_text_field_is_shown_as_typed(
    app: App, chat: Chat, coordinator: Chat
) -> None:
    name = "<b>ГО</b> & «Ко» <script>"
    person = "<i>Олена</i> & Co"
    await start_new(chat)
    for answer in (name, "00032129", person):
        await chat.send(answer)
    sent = await chat.send("<a>o&x</a>@example.org")
    assert "не схоже" in texts(sent)
    await chat.send("olena@example.org")
    await chat.tap("☐ 1.")
    summary = await chat.tap("Готово")
    assert "&lt;b&gt;ГО&lt;/b&gt; &amp; «Ко» &lt;script&gt;" in texts(summary)
    assert "&lt;i&gt;Олена&lt;/i&gt; &amp; Co" in texts(summary)
    sent = await chat.tap("Надіслати на перевірку")
    assert "&lt;b&gt;ГО&lt;/b&gt;" in texts(sent)
    listing = await coordinator.send("/organisations")
    assert "&lt;i&gt;Олена&lt;/i&gt;" in texts(listing)
    async with app.db.read() as repo:
        org = await repo.organisations.by_name(name)
    assert org is not None and org.name == name  # stored as typed, escaped only when shown
    # The join search echoes what was typed, escaped too.
    other = Chat(app, OTHER_ID)
    await other.send("/register")
    await other.tap("Приєднатися")
    assert "«&lt;u&gt;x&lt;/u&gt;»" in texts(await other.send("<u>x</u>"))


async def test_duplicate_organisation_offers_joining(app: App, chat: Chat) -> None:
    org = await verified_organisation(app, "ГО «Світло»", "00032129", OTHER_ID)
    await start_new(chat)
    before = await snapshot(app)
    sent = await chat.send("  го   «світло» ")
    assert "з такою назвою вже зареєстровано" in texts(sent)
    assert "🤝 Попроситися приєднатися" in chat.buttons()
    assert await snapshot(app) == before
    await chat.send("ГО «Інша»")
    sent = await chat.send("00032129")
    assert "з кодом ЄДРПОУ 00032129 уже зареєстровано" in texts(sent)
    assert await snapshot(app) == before
    await chat.tap("Попроситися приєднатися")
    async with app.db.read() as repo:
        (membership,) = await repo.memberships.of_user(USER_ID)
        assert await repo.organisations.count() == 1
    assert membership.organisation_id == org.id and membership.status == "pending"
    assert await state_of(app, USER_ID) is None


async def test_directions_are_multi_select_and_one_is_needed(app: App, chat: Chat) -> None:
    await start_new(chat)
    for answer in ("ГО «Світло»", "00032129", "Олена", "olena@example.org"):
        await chat.send(answer)
    sent = await chat.tap("Готово")
    assert "Оберіть принаймні один напрям" in (sent[-1].text or "")
    await chat.tap("☐ 1.")
    await chat.tap("☐ 2.")
    await chat.tap("☑ 1.")  # and off again
    assert any(b.startswith("☑ 2.") for b in chat.buttons())
    assert "кнопками нижче" in texts(await chat.send("ось"))
    await chat.tap("Готово")
    await chat.tap("Надіслати на перевірку")
    async with app.db.read() as repo:
        org = await repo.organisations.by_edrpou("00032129")
        assert org is not None
        profile = await repo.organisations.profile(org.id)
    assert profile is not None and profile.areas == ("2",)


async def test_cancel_asks_before_discarding(app: App, chat: Chat) -> None:
    await start_new(chat)
    await chat.send("ГО «Світло»")
    sent = await chat.send("/cancel")
    assert "Скасувати цю реєстрацію?" in texts(sent)
    sent = await chat.tap("Ні, продовжити")
    assert "код ЄДРПОУ" in texts(sent)
    await chat.send("00032129")
    await chat.tap("Скасувати")
    sent = await chat.tap("Так")
    assert "Реєстрацію скасовано" in texts(sent)
    assert await state_of(app, USER_ID) is None
    async with app.db.read() as repo:
        assert await repo.organisations.count() == 0


async def test_the_dialog_survives_a_restart(settings: Settings) -> None:
    first = await build_app(settings)
    try:
        chat = Chat(first, USER_ID)
        await start_new(chat)
        await chat.send("ГО «Світло»")
        await chat.send("21560766")
    finally:
        await first.close()
    second = await build_app(settings)
    try:
        chat = Chat(second, USER_ID)
        sent = await chat.send("/register")
        assert "незавершена реєстрація" in texts(sent)
        assert "Контактна особа" in texts(sent)
        await chat.send("Олена Коваль")
        await chat.send("olena@example.org")
        await chat.tap("☐ 1.")
        summary = await chat.tap("Готово")
        assert "ГО «Світло»" in texts(summary) and "21560766" in texts(summary)
        await chat.tap("Надіслати на перевірку")
        async with second.db.read() as repo:
            org = await repo.organisations.by_edrpou("21560766")
        assert org is not None and org.name == "ГО «Світло»" and org.status == "pending"
    finally:
        await second.close()


async def test_eight_zeros_are_no_edrpou_code(app: App, chat: Chat) -> None:
    assert not valid_edrpou("00000000")  # the check digit of the sum matches: refused anyway
    await start_new(chat)
    await chat.send("ГО «Світло»")
    sent = await chat.send("00000000")
    assert "не є кодом ЄДРПОУ" in texts(sent)
    assert await state_of(app, USER_ID) == "RegistrationForm:edrpou"


async def test_discarding_at_the_contact_step_puts_the_contact_button_away(
    app: App, chat: Chat
) -> None:
    await start_new(chat)
    for answer in ("ГО «Світло»", "00032129", "Олена Коваль"):
        await chat.send(answer)
    assert await state_of(app, USER_ID) == "RegistrationForm:contact"
    await chat.send("/cancel")
    sent = await chat.tap("Так, скасувати")
    removed = [
        r
        for r in sent
        if isinstance(r, SendMessage) and isinstance(r.reply_markup, ReplyKeyboardRemove)
    ]
    assert removed and "нічого не надіслано" in texts(removed).lower()
    assert await state_of(app, USER_ID) is None
