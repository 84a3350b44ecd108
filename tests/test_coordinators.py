"""/coordinators and /organisations: for coordinators only, on messages and buttons alike."""

from __future__ import annotations

from bot.app import App
from handlers.coordinators import CoordCb
from handlers.organisations import OrgReviewCb
from tests.conftest import COORDINATOR_ID, USER_ID, Chat, texts
from tests.test_registration import register, snapshot, standing

NEW_ID = 555


async def audit(app: App, entity: str) -> list[tuple[object, ...]]:
    async with (
        app.db.read() as repo,
        repo.conn.execute(
            "SELECT actor, entity_id, action FROM audit_log WHERE entity = ? ORDER BY id",
            (entity,),
        ) as cur,
    ):
        return [tuple(r) for r in await cur.fetchall()]


async def test_non_coordinators_are_refused_and_nothing_changes(app: App, chat: Chat) -> None:
    await register(chat)
    async with app.db.read() as repo:
        (org,) = await repo.organisations.pending()
    before = await snapshot(app)
    for command in ("/organisations", "/coordinators"):
        sent = await chat.send(command)
        assert "Це можуть лише координатори" in texts(sent)
        assert "Світло" not in texts(sent)
    forged = [
        OrgReviewCb(kind="org", action="approve", org=org.id),
        OrgReviewCb(kind="org", action="reject", org=org.id),
        OrgReviewCb(kind="join", action="approve", org=org.id, user=USER_ID),
        CoordCb(action="add"),
        CoordCb(action="remove", user=COORDINATOR_ID),
        CoordCb(action="remove_yes", user=COORDINATOR_ID),
    ]
    for data in forged:
        sent = await chat.press(1, data.pack())
        assert "Це можуть лише координатори" in (sent[-1].text or "")
    # A forged "add" set no dialog state: a number typed now is not taken as a coordinator id.
    await chat.send(str(USER_ID))
    assert await snapshot(app) == before
    assert await standing(app, USER_ID) is None


async def test_coordinator_adds_and_removes_a_coordinator(app: App, coordinator: Chat) -> None:
    newcomer = Chat(app, NEW_ID)
    assert "Це можуть лише координатори" in texts(await newcomer.send("/organisations"))
    assert "/organisations" not in texts(await newcomer.send("/help"))

    sent = await coordinator.send("/coordinators")
    assert f"{COORDINATOR_ID} — з налаштувань бота" in texts(sent)
    assert coordinator.buttons() == ["➕ Додати координатора"]
    await coordinator.tap("Додати")
    sent = await coordinator.send("іван")
    assert "лише з цифр" in texts(sent)
    sent = await coordinator.send(str(COORDINATOR_ID))
    assert "уже координатор (з налаштувань бота)" in texts(sent)
    await coordinator.send("/coordinators")
    await coordinator.tap("Додати")
    sent = await coordinator.send(str(NEW_ID))
    assert f"{NEW_ID} тепер координатор" in texts(sent)
    assert [r for r in sent if getattr(r, "chat_id", None) == NEW_ID]  # they are told
    await coordinator.send("/coordinators")
    await coordinator.tap("Додати")
    assert "уже координатор." in texts(await coordinator.send(str(NEW_ID)))

    assert "Нічого не очікує" in texts(await newcomer.send("/organisations"))
    assert "/coordinators" in texts(await newcomer.send("/help"))
    sent = await coordinator.send("/coordinators")
    assert f"{NEW_ID} — додано в боті" in texts(sent)

    await coordinator.tap(f"Вилучити Тест, {NEW_ID}")
    sent = await coordinator.tap("Ні, залишити")
    assert "Нічого не змінено" in texts(sent)
    async with app.db.read() as repo:
        assert await repo.coordinators.all() == [NEW_ID]
    await coordinator.send("/coordinators")
    await coordinator.tap(f"Вилучити Тест, {NEW_ID}")
    sent = await coordinator.tap("Так, вилучити")
    assert f"{NEW_ID} більше не координатор" in texts(sent)
    assert "Це можуть лише координатори" in texts(await newcomer.send("/organisations"))
    assert await audit(app, "coordinator") == [
        (COORDINATOR_ID, NEW_ID, "add"),
        (COORDINATOR_ID, NEW_ID, "remove"),
    ]
    # Confirming the removal again: a clear answer, nothing changes.
    before = await snapshot(app)
    message_id, _ = coordinator.keyboard()
    sent = await coordinator.press(message_id, CoordCb(action="remove_yes", user=NEW_ID).pack())
    assert "не координатор" in (sent[-1].text or "")
    assert await snapshot(app) == before


async def test_adding_can_be_cancelled(app: App, coordinator: Chat) -> None:
    await coordinator.send("/coordinators")
    await coordinator.tap("Додати")
    sent = await coordinator.send("/cancel")
    assert "координатора не додано" in texts(sent)
    await coordinator.send("777")  # no longer inside the dialog
    async with app.db.read() as repo:
        assert await repo.coordinators.all() == []


async def test_a_configured_coordinator_cannot_be_removed(app: App, coordinator: Chat) -> None:
    before = await snapshot(app)
    for action in ("remove", "remove_yes"):
        sent = await coordinator.press(1, CoordCb(action=action, user=COORDINATOR_ID).pack())
        assert "не можна вилучити в боті" in (sent[-1].text or "")
    assert await snapshot(app) == before
    assert "Нічого не очікує" in texts(await coordinator.send("/organisations"))


async def test_an_added_coordinator_can_decide(app: App, chat: Chat, coordinator: Chat) -> None:
    await coordinator.send("/coordinators")
    await coordinator.tap("Додати")
    await coordinator.send(str(NEW_ID))
    await register(chat)
    newcomer = Chat(app, NEW_ID)
    await newcomer.send("/organisations")
    await newcomer.tap("Схвалити")
    assert await standing(app, USER_ID) is not None
    assert [a for _, _, a in await audit(app, "organisation")] == ["register", "verify"]


async def test_an_added_coordinator_gets_the_coordinators_menu(
    app: App, coordinator: Chat
) -> None:
    from aiogram.methods import DeleteMyCommands, SetMyCommands

    from handlers.commands import COORDINATOR_COMMANDS

    await coordinator.send("/coordinators")
    await coordinator.tap("Додати")
    sent = await coordinator.send("4242")
    menus = [r for r in sent if isinstance(r, SetMyCommands)]
    assert menus and all(m.scope is not None and m.scope.chat_id == 4242 for m in menus)
    assert [c.command for c in menus[0].commands] == [c.name for c in COORDINATOR_COMMANDS]
    # At start-up, coordinators added in the bot get theirs again.
    dp = app.dispatcher
    await dp.emit_startup(bot=coordinator.bot, dispatcher=dp, **dp.workflow_data)
    try:
        scoped = {
            r.scope.chat_id
            for r in coordinator.session.requests
            if isinstance(r, SetMyCommands) and r.scope is not None and r.scope.type == "chat"
        }
        assert 4242 in scoped
    finally:
        await dp.emit_shutdown(bot=coordinator.bot, dispatcher=dp, **dp.workflow_data)
    await coordinator.send("/coordinators")
    await coordinator.tap("4242")
    sent = await coordinator.tap("Так, вилучити")
    assert any(isinstance(r, DeleteMyCommands) and r.scope.chat_id == 4242 for r in sent)
