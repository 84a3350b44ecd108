"""The plan features, driven through the real dispatcher the way Telegram drives them."""

from __future__ import annotations

from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage

from bot.app import App
from handlers.callbacks import PlanCb, PlanLevel
from tests.conftest import Chat, methods, texts


async def test_start_explains_and_offers_the_menu(chat: Chat) -> None:
    sent = await chat.send("/start")
    assert methods(sent) == ["sendMessage"]
    assert "План партнерства" in texts(sent)
    assert {"📋 План", "🔎 Пошук", "🏛 Хто відповідає", "💰 Фінансування", "❓ Довідка"} <= set(
        chat.buttons()
    )


async def test_help_lists_the_commands(chat: Chat) -> None:
    text = texts(await chat.send("/help"))
    for command in ("/plan", "/measure", "/search", "/bodies", "/funding", "/language"):
        assert command in text


async def test_plan_navigation_edits_one_message_and_goes_back(chat: Chat) -> None:
    sent = await chat.send("/plan")
    assert "Оберіть стратегічний напрям" in texts(sent)
    first_id = chat.keyboard()[0]
    steps = [
        ("1. Підтримка організаційної", "Стратегічний напрям 1"),
        ("1.1. Підвищення", "Завдання 1.1"),
        ("1.1.2.", "Захід 1.1.2"),
        ("⬅ Завдання 1.1", "Завдання 1.1"),
        ("⬅ Напрям 1", "Стратегічний напрям 1"),
        ("⬆ План", "Оберіть стратегічний напрям"),
    ]
    for label, expected in steps:
        sent = await chat.tap(label)
        assert methods(sent) == ["editMessageText", "answerCallbackQuery"], label
        assert sent[0].message_id == first_id
        assert expected in texts(sent), label
    assert len(chat.session.messages[chat.chat.id]) == 1


async def test_measure_card_has_every_part(chat: Chat) -> None:
    text = texts(await chat.send("/measure 1.1.1"))
    assert "Захід 1.1.1" in text
    assert "Цикл навчальних та консультаційних заходів" in text
    assert "КП «Інститут розвитку міст» (ІРМ)" in text
    assert "2023-2024 рр." in text
    assert "Бюджет Вінницької міської територіальної громади" in text
    assert "Проведено мінімум 6 навчальних заходів на рік" in text
    assert "щонайменше <b>6</b> на рік" in text


async def test_measure_card_shows_participation_thresholds(chat: Chat) -> None:
    text = texts(await chat.send("/measure 2.1.2"))
    assert "щонайменше 5 від ІГС та 1 від ВМР" in text


async def test_printed_code_opens_the_renumbered_measure(chat: Chat) -> None:
    text = texts(await chat.send("/measure 1.4.1"))
    assert "Захід 1.3.1" in text
    assert "У документі цей захід має номер 1.4.1" in text
    assert text.count("1.4.1") == 1, "the renumbering is said once per card"
    text = texts(await chat.send("/measure 1.3.1"))
    assert "(у документі — 1.4.1)" in text and text.count("1.4.1") == 1


async def test_doubled_printed_code_offers_both_measures(chat: Chat) -> None:
    text = texts(await chat.send("/measure 1.4.3"))
    assert "1.3.3" in text and "1.3.4" in text
    assert any(b.startswith("1.3.3.") for b in chat.buttons())
    assert any(b.startswith("1.3.4.") for b in chat.buttons())


async def test_measure_without_code_asks_for_one(chat: Chat) -> None:
    assert "Надішліть його код" in texts(await chat.send("/measure"))


async def test_unknown_codes_get_clear_answers_with_nearest(chat: Chat, app: App) -> None:
    text = texts(await chat.send("/measure 9.9.9"))
    assert "Заходу з кодом «9.9.9» немає" in text
    assert "2.4.4" in text
    text = texts(await chat.send("/measure 1.1"))
    assert "1.1 — це завдання" in text and "1.1.6" in text
    text = texts(await chat.send("/measure 1.1.9"))
    assert "Найближчі коди" in text and "1.1.6" in text
    text = texts(await chat.send("/measure abc"))
    assert "Код заходу має вигляд" in text


async def test_sql_like_code_is_just_text(chat: Chat, app: App) -> None:
    await chat.send("/start")
    async with app.db.read() as repo:
        before = await repo.users.count()
    sent = await chat.send("/measure '; DROP TABLE users; --")
    assert "немає" in texts(sent)
    async with app.db.read() as repo:
        assert await repo.users.count() == before
        assert await repo.users.get(chat.user.id) is not None


async def test_search_finds_the_right_measures(chat: Chat) -> None:
    expected = {
        "кава": {"1.1.5", "1.3.1"},
        "форум": {"1.1.2", "2.4.4"},
        "офіс взаємодії": {"2.3.2"},
        "ваучер": {"1.1.6"},
        "грант": {"2.3.3", "2.4.3"},
        "навчання": {"1.1.1", "1.1.5"},
    }
    for query, codes in expected.items():
        text = texts(await chat.send(query))
        assert "Знайдено" in text, query
        for code in codes:
            assert f"<b>{code}</b>" in text, (query, code)


async def test_search_command_and_empty_search(chat: Chat) -> None:
    assert "2.3.2" in texts(await chat.send("/search Офіс взаємодії"))
    assert "Напишіть, що шукаєте" in texts(await chat.send("/search"))


async def test_no_match_says_so_and_offers_browsing(chat: Chat) -> None:
    text = texts(await chat.send("космос"))
    assert "нічого не знайдено" in text
    assert "⬆ План" in chat.buttons()


async def test_user_text_is_escaped(chat: Chat) -> None:
    sent = await chat.send("<b>кава</b> & <script>")
    text = texts(sent)
    assert "&lt;b&gt;кава&lt;/b&gt; &amp; &lt;script&gt;" in text


async def test_long_message_is_answered_within_limits(chat: Chat) -> None:
    sent = await chat.send("форум " * 1700)  # 10,200 characters
    assert sent and all(len(r.text) <= 4096 for r in sent if isinstance(r, SendMessage))
    assert "Знайдено" in texts(sent)


async def test_unknown_command(chat: Chat) -> None:
    text = texts(await chat.send("/frobnicate now"))
    assert "Не знаю команди /frobnicate" in text and "/help" in text


async def test_sticker_like_message_gets_an_answer(chat: Chat, app: App) -> None:
    from datetime import UTC, datetime

    from aiogram.types import Message, Update

    message = Message(message_id=5, date=datetime.now(UTC), chat=chat.chat, from_user=chat.user)
    sent = await chat.feed(Update(update_id=99_000, message=message))
    assert "лише текст" in texts(sent)


async def test_stale_and_forged_buttons_are_refused_politely(chat: Chat) -> None:
    await chat.send("/plan")
    message_id = chat.keyboard()[0]
    for data in (
        PlanCb(level=PlanLevel.measure, code="9.9.9").pack(),
        PlanCb(level=PlanLevel.task, code="7.7").pack(),
        "p:x:1.1.1",
        "garbage",
        "g:b:nobody",
    ):
        sent = await chat.press(message_id, data)
        answers = [r for r in sent if isinstance(r, AnswerCallbackQuery)]
        assert answers and "застаріла" in (answers[0].text or ""), data
        assert not any(isinstance(r, EditMessageText) for r in sent), data


async def test_browse_by_responsible_body_and_funding(chat: Chat, app: App) -> None:
    await chat.send("/bodies")
    assert any(b.startswith("ІРМ (") for b in chat.buttons())
    text = texts(await chat.tap("ІРМ ("))
    irm = app.plan.measures_of_body("irm")
    assert f"відповідає за {len(irm)} заходів:" in text  # the number and the word agree
    assert "<b>2.1.3</b>" in text
    await chat.send("/funding")
    text = texts(await chat.tap("Грантові кошти"))
    assert "<b>1.1.6</b>" in text and "<b>2.1.3</b>" not in text


async def test_language_choice_is_stored_and_used(chat: Chat, app: App) -> None:
    await chat.send("/language")
    sent = await chat.tap("English")
    assert "now in English" in texts(sent)
    async with app.db.read() as repo:
        user = await repo.users.get(chat.user.id)
    assert user is not None and user.language == "en"
    text = texts(await chat.send("/measure 1.1.1"))
    assert "Measure 1.1.1" in text and "Responsible:" in text
    # Plan content stays Ukrainian.
    assert "Цикл навчальних" in text
    await chat.send("/language")
    assert "українською" in texts(await chat.tap("Українська"))


async def test_forged_language_code_changes_nothing(chat: Chat, app: App) -> None:
    await chat.send("/language")
    message_id = chat.keyboard()[0]
    sent = await chat.press(message_id, "lang:xx")
    assert "застаріла" in (sent[-1].text or "")
    async with app.db.read() as repo:
        user = await repo.users.get(chat.user.id)
    assert user is not None and user.language is None


async def test_every_measure_card_is_valid_and_fits(chat: Chat, app: App) -> None:
    for measure in app.plan.measures:
        sent = await chat.send(f"/measure {measure.code}")
        assert methods(sent) == ["sendMessage"], measure.code


async def test_a_typo_is_answered_with_the_nearest_words(chat: Chat) -> None:
    text = texts(await chat.send("фрум"))
    assert "Можливо, ви мали на увазі «форум»?" in text
    assert "<b>1.1.2</b>" in text and "<b>2.4.4</b>" in text
    text = texts(await chat.send("грнат"))
    assert "«грант»" in text and "<b>2.3.3</b>" in text


async def test_english_searches_find_measures(app: App) -> None:
    english = Chat(app, 777, language_code="en")
    text = texts(await english.send("/search forum"))
    assert "<b>1.1.2</b>" in text and "<b>2.4.4</b>" in text
    assert "<b>2.1.3</b>" in texts(await english.send("newsletter"))
    assert "<b>2.4.1</b>" in texts(await english.send("grants"))
