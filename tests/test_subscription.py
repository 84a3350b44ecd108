"""/subscribe, /unsubscribe and the unsubscribe button, through the real dispatcher."""

from __future__ import annotations

from bot.app import App
from db import SubscriberRecord
from scheduler.newsletter.keyboards import UnsubscribeCb
from tests.conftest import USER_ID, Chat, texts


async def subscriber(app: App, user_id: int = USER_ID) -> SubscriberRecord | None:
    async with app.db.read() as repo:
        return await repo.subscribers.get(user_id)


async def test_subscribe_unsubscribe_and_resubscribe(app: App, chat: Chat) -> None:
    reply = texts(await chat.send("/subscribe"))
    assert "раз на місяць" in reply and "/unsubscribe" in reply
    first = await subscriber(app)
    assert first is not None and first.active and first.chat_id == USER_ID
    assert first.consented_at

    assert "вже підписані" in texts(await chat.send("/subscribe"))

    assert "більше не надходитиме" in texts(await chat.send("/unsubscribe"))
    gone = await subscriber(app)
    assert gone is not None and not gone.active and gone.unsubscribed_at
    assert gone.inactive_reason == "unsubscribed"

    assert "вже відписалися" in texts(await chat.send("/unsubscribe"))
    assert await subscriber(app) == gone  # the second /unsubscribe changed nothing

    assert "З поверненням" in texts(await chat.send("/subscribe"))
    back = await subscriber(app)
    assert back is not None and back.active and back.inactive_reason is None


async def test_unsubscribe_by_someone_never_subscribed(app: App, chat: Chat) -> None:
    reply = texts(await chat.send("/unsubscribe"))
    assert "не підписані" in reply and "/subscribe" in reply
    assert await subscriber(app) is None


async def test_resubscribing_reactivates_a_chat_telegram_refused(app: App, chat: Chat) -> None:
    await chat.send("/subscribe")
    async with app.db.transaction() as repo:
        await repo.subscribers.deactivate_chat(USER_ID, "Forbidden: bot was blocked by the user")
    assert "З поверненням" in texts(await chat.send("/subscribe"))
    record = await subscriber(app)
    assert record is not None and record.active and record.inactive_reason is None


async def test_unsubscribe_button_and_a_forged_callback(app: App, chat: Chat) -> None:
    await chat.send("/subscribe")
    other = Chat(app, USER_ID + 1)
    await other.send("/subscribe")

    # A newsletter message in the user's chat carries the button; pressing it unsubscribes them.
    requests = await chat.press(1, UnsubscribeCb().pack())
    answers = [r for r in requests if r.__api_method__ == "answerCallbackQuery"]
    assert answers and "більше не надходитиме" in str(answers[0].text)
    record = await subscriber(app)
    assert record is not None and not record.active
    still = await subscriber(app, USER_ID + 1)
    assert still is not None and still.active

    # Data naming someone else does not match the button at all: it is a stale button.
    forged = await chat.press(1, f"{UnsubscribeCb.__prefix__}:{USER_ID + 1}")
    stale = [r for r in forged if r.__api_method__ == "answerCallbackQuery"]
    assert stale and "застаріла" in str(stale[0].text)
    still = await subscriber(app, USER_ID + 1)
    assert still is not None and still.active

    # A third user pressing the button (e.g. on a forwarded message) affects only themself.
    stranger = Chat(app, USER_ID + 2)
    requests = await stranger.press(1, UnsubscribeCb().pack())
    answers = [r for r in requests if r.__api_method__ == "answerCallbackQuery"]
    assert answers and "не підписані" in str(answers[0].text)
    assert await subscriber(app, USER_ID + 2) is None
    still = await subscriber(app, USER_ID + 1)
    assert still is not None and still.active


async def test_commands_are_in_the_menu(chat: Chat) -> None:
    reply = texts(await chat.send("/help"))
    assert "/subscribe" in reply and "/unsubscribe" in reply
