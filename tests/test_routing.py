"""Routing through the real dispatcher: routers skipped whole where no handler is declared for
the update, without any update landing elsewhere than before; static menus built once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Router
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, PhotoSize, Update, User
from aiogram.types import Chat as AiogramChat
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder

import handlers
from bot.app import App
from handlers.activity_form import ActivityCb
from handlers.forms import Act
from handlers.keyboards import button, check, grid
from handlers.routing import COMMAND_TEXT, TEXT, TYPED, Inline, table_of
from handlers.start import main_menu
from tests.conftest import Chat, methods, texts


async def _state(app: App, chat: Chat) -> str | None:
    key = StorageKey(bot_id=chat.bot.id, chat_id=chat.chat.id, user_id=chat.user.id)
    return await app.dispatcher.storage.get_state(key)


@pytest.fixture
def entered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the routers each fed update enters, in order."""
    names: list[str] = []
    propagate = Router.propagate_event

    async def counted(self: Router, update_type: str, event: Any, **kwargs: Any) -> Any:
        if update_type != "update":
            names.append(self.name)
        return await propagate(self, update_type, event, **kwargs)

    monkeypatch.setattr(Router, "propagate_event", counted)
    return names


async def test_plain_text_in_no_state_reaches_search_past_few_routers(
    chat: Chat, entered: list[str]
) -> None:
    sent = texts(await chat.send("Офіс взаємодії"))
    assert "2.3.2" in sent
    assert entered[-1] == "handlers.search"
    # Not every feature's router: the dialogs, buttons-only and commands-only ones are skipped.
    assert len(entered) < len(handlers._features())
    assert "handlers.registration" not in entered


async def test_a_command_inside_a_form_leaves_it_then_text_is_a_search(
    app: App, chat: Chat
) -> None:
    await chat.send("/register")
    await chat.tap("Зареєструвати нову")
    assert await _state(app, chat) == "RegistrationForm:name"
    assert "Оберіть стратегічний напрям" in texts(await chat.send("/plan"))
    assert await _state(app, chat) is None
    assert "2.3.2" in texts(await chat.send("Офіс взаємодії"))


async def test_text_inside_a_form_is_its_answer_not_a_search(app: App, chat: Chat) -> None:
    await chat.send("/register")
    await chat.tap("Зареєструвати нову")
    sent = texts(await chat.send("Офіс взаємодії"))
    assert "2.3.2" not in sent
    assert await _state(app, chat) == "RegistrationForm:edrpou"


async def test_a_stale_button_of_another_feature_still_gets_an_answer(
    app: App, chat: Chat
) -> None:
    await chat.send("/register")
    await chat.tap("Зареєструвати нову")
    # The activity form's button, pressed inside the registration form: not this dialog's.
    data = ActivityCb(action=Act.pick, value="2.1.2").pack()
    sent = await chat.press(0, data)
    assert "answerCallbackQuery" in methods(sent)
    assert await _state(app, chat) == "RegistrationForm:name"
    # A prefix no feature knows, in no state: the fallback's "out of date".
    await chat.send("/start")
    sent = await chat.press(0, "nobody:1")
    assert "answerCallbackQuery" in methods(sent)
    assert "застаріла" in str(getattr(sent[-1], "text", ""))


async def test_a_command_in_a_caption_is_routed_like_before(chat: Chat) -> None:
    # aiogram's Command reads captions too: the index must not skip its router for a photo.
    message = Message(
        message_id=1,
        date=datetime.now(UTC),
        chat=chat.chat,
        from_user=chat.user,
        photo=[PhotoSize(file_id="f", file_unique_id="u", width=1, height=1)],
        caption="/help",
    )
    sent = await chat.feed(Update(update_id=1, message=message))
    assert "/plan" in texts(sent)


def test_every_feature_but_the_last_resort_is_reached_by_the_table_only() -> None:
    (root,) = handlers.get_routers()
    (features,) = root.sub_routers
    table = table_of(features)
    assert table is not None
    # The fallback takes anything: it is asked for every update, and it is asked last.
    last = len(features.sub_routers) - 1
    assert features.sub_routers[last].name == "handlers.fallback"
    for update_type in ("message", "callback_query"):
        assert table.always[update_type] == {last}


async def test_the_table_sends_an_update_only_to_features_that_declare_it(
    chat: Chat, entered: list[str]
) -> None:
    assert "Оберіть стратегічний напрям" in texts(await chat.send("/plan"))
    # The root, then /plan's feature: no other feature (nor the features' router) is entered.
    assert entered[entered.index("handlers") :] == ["handlers", "handlers.plan_browse"], entered


def test_the_main_menu_is_built_once_per_locale_as_the_builder_laid_it_out(
    app: App,
) -> None:
    i18n: I18n = app.dispatcher["i18n"]
    with i18n.context(), i18n.use_locale("uk"):
        uk = main_menu()
        assert main_menu() is uk
    with i18n.context(), i18n.use_locale("en"):
        en = main_menu()
    assert en is not uk
    assert uk.inline_keyboard[0][0].text != en.inline_keyboard[0][0].text
    assert [len(row) for row in uk.inline_keyboard] == [2, 2, 2, 2]


def test_grid_lays_out_rows_like_adjust() -> None:
    buttons = [button(str(n), f"x:{n}") for n in range(7)]
    builder = InlineKeyboardBuilder()
    for b in buttons:
        builder.add(b)
    builder.adjust(1, 2, 3)
    assert grid(buttons, 1, 2, 3) == builder.as_markup()


def test_a_cached_menu_refuses_callback_data_telegram_would_refuse() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        check(InlineKeyboardMarkup(inline_keyboard=[[button("x", "x" * 65)]]))


@pytest.mark.parametrize("check", [TYPED, COMMAND_TEXT, TEXT], ids=["typed", "command", "text"])
async def test_the_inline_text_filters_answer_as_their_magic_expressions(check: Inline) -> None:
    chat = AiogramChat(id=1, type="private")
    user = User(id=1, is_bot=False, first_name="A")
    events = [
        Message(message_id=1, date=datetime.now(UTC), chat=chat, **fields)
        for fields in ({"text": "/plan"}, {"text": "форум"}, {"text": ""}, {"caption": "/x"}, {})
    ]
    events.append(CallbackQuery(id="1", from_user=user, chat_instance="c", data="p:1"))
    for event in events:
        assert await check(event) == check.magic.resolve(event), event
