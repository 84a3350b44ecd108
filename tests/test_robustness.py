"""Arbitrary input in every dialog state: the bot answers, never raises, never says what Telegram
would refuse, and never changes data it should not.

Each example walks a fresh user into a dialog state the way a user would (commands and button
presses), then sends one arbitrary message or callback. The LocalSession refuses invalid HTML,
empty and over-long text, and any refusal surfaces as an exception from feed_update.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

from aiogram.filters.callback_data import CallbackData
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import App, build_app
from bot.config import Settings
from handlers import commands
from handlers.activity_form import ActivityCb
from handlers.callbacks import GlossaryCb, GlossaryKind, MenuAction, MenuCb, PlanCb, PlanLevel
from handlers.commands import BotCommandSpec
from handlers.forms import Act
from handlers.registration import RegCb
from tests.conftest import COORDINATOR_ID, Chat

ANSWERS = {"sendMessage", "editMessageText", "answerCallbackQuery", "sendDocument", "sendPhoto"}
COMMANDS = sorted(
    f"/{value.name}" for value in vars(commands).values() if isinstance(value, BotCommandSpec)
)
_users = itertools.count(500_000)


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    sub: type
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


# Every feature's callback prefix (handlers are imported with bot.app), new features included.
PREFIXES = sorted({c.__prefix__ for c in _subclasses(CallbackData) if hasattr(c, "__prefix__")})

# A step: ("say", text) or ("tap", a fragment of the button's label).
Walk = list[tuple[str, str]]
ACTIVITY: Walk = [
    ("say", "/activity"),
    ("say", "2.1.2"),
    ("tap", "Діалогові зустрічі"),
    ("say", "14.03.2024"),
    ("say", "Зустріч з департаментом освіти"),
    ("tap", "Пропустити"),
    ("tap", "1"),
    ("say", "7"),
    ("say", "2"),
    ("tap", "Пропустити"),
    ("say", "https://example.org/post/1"),
]
REGISTRATION: Walk = [
    ("say", "/register"),
    ("tap", "Зареєструвати нову"),
    ("say", "ГО «Світло»"),
    ("say", "00032129"),
    ("say", "Олена Коваль"),
    ("say", "+380671234567"),
    ("tap", "☐ 1."),
    ("tap", "Готово"),
]
JOINING: Walk = [("say", "/register"), ("tap", "Приєднатися")]
BROWSING: Walk = [("say", "/plan"), ("tap", "1"), ("tap", "1.1"), ("say", "/bodies")]
COORDINATING: Walk = [("say", "/coordinators"), ("tap", "Додати")]


def _packed(cb: type[CallbackData], **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    def pack(**kw: Any) -> str:
        # aiogram refuses to pack more than Telegram's 64 bytes: no such button can exist.
        try:
            return cb(**kw).pack()
        except ValueError:
            return ""

    return st.builds(pack, **fields).filter(lambda data: 0 < len(data.encode()) <= 64)


short = st.text(st.characters(codec="utf-8"), max_size=12).filter(lambda s: ":" not in s)
texts = st.one_of(
    st.text(min_size=1, max_size=300).filter(lambda s: s.strip()),
    st.text(min_size=3000, max_size=4096, alphabet="<>&\"'a б\n"),
    st.sampled_from(["<b>", "&", "</i>", "<a href='x'>", "&amp;", "\u200b", "🙂" * 50, "1" * 30]),
    st.builds(lambda c, a: f"{c} {a}", st.sampled_from(COMMANDS), st.text(max_size=80)),
    st.sampled_from(COMMANDS),
    st.from_regex(r"/[a-z_]{1,32}", fullmatch=True),
    st.from_regex(r"[0-9]{1,2}(\.[0-9]{1,2}){0,3}", fullmatch=True),
    st.from_regex(r"[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{2,4}", fullmatch=True),
)
# Every dialog button but submit, whose press is the one change each property allows for.
DIALOG_ACTIONS = [a for a in Act if a != Act.submit]
callbacks = st.one_of(
    st.text(min_size=1, max_size=64).filter(lambda s: 0 < len(s.encode()) <= 64),
    _packed(
        ActivityCb,
        action=st.sampled_from(DIALOG_ACTIONS) | short,
        value=short,
    ),
    _packed(PlanCb, level=st.sampled_from(list(PlanLevel)), code=short),
    _packed(MenuCb, action=st.sampled_from(list(MenuAction))),
    _packed(
        GlossaryCb,
        kind=st.sampled_from(list(GlossaryKind)),
        id=short,
    ),
    _packed(RegCb, action=st.sampled_from(DIALOG_ACTIONS) | short),
    st.builds(
        lambda p, rest: f"{p}:{rest}"[:64],
        st.sampled_from(PREFIXES),
        short,
    ),
)
inputs = st.one_of(st.tuples(st.just("say"), texts), st.tuples(st.just("press"), callbacks))


async def _walk(chat: Chat, steps: Walk) -> None:
    for kind, value in steps:
        if kind == "say":
            await chat.send(value)
            continue
        message_id, buttons = chat.keyboard()
        data = next((d for label, d in buttons if value in label), None)
        if data is None:  # the dialog went elsewhere: stay where it is
            return
        await chat.press(message_id, data)


async def _counts(app: App) -> dict[str, int]:
    counts = {}
    async with app.db.read() as repo:
        for table in ("organisations", "activities", "memberships", "coordinators"):
            async with repo.conn.execute(f"SELECT count(*) FROM {table}") as cur:
                row = await cur.fetchone()
            counts[table] = int(row[0]) if row else 0
    return counts


async def _member(app: App, user_id: int) -> None:
    async with app.db.transaction() as repo:
        org = await repo.organisations.create(f"ГО {user_id}", status="verified")
        await repo.memberships.request(user_id, org.id, approved=True)


def check_inputs(
    app: App,
    runner: asyncio.Runner,
    walk: Walk,
    *,
    user: Callable[[], int] = lambda: next(_users),
    member: bool = False,
    may_change: Callable[[str, str], set[str]] = lambda kind, value: set(),
) -> Callable[[], None]:
    """A property: walk a new user `prefix` steps into `walk`, then send the arbitrary input."""

    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(prefix=st.integers(0, len(walk)), given_input=inputs)
    def prop(prefix: int, given_input: tuple[str, str]) -> None:
        async def check() -> None:
            user_id = user()
            if member:
                await _member(app, user_id)
            chat = Chat(app, user_id)
            await _walk(chat, walk[:prefix])
            before = await _counts(app)
            kind, value = given_input
            if kind == "say":
                sent = await chat.send(value)
            else:
                if not chat.keyboard()[0]:  # a callback always comes from a real bot message
                    await chat.send("/start")
                    before = await _counts(app)
                sent = await chat.press(chat.keyboard()[0], value)
            assert ANSWERS & {r.__api_method__ for r in sent}, (walk[:prefix], given_input)
            after = await _counts(app)
            allowed = may_change(kind, value)
            changed = {t for t in before if before[t] != after[t]}
            assert changed <= allowed, (changed, walk[:prefix], given_input)

        runner.run(check())

    return prop


def _run(settings_: Settings, walk: Walk, **kwargs: Any) -> None:
    with asyncio.Runner() as runner:
        app = runner.run(build_app(settings_))
        try:
            check_inputs(app, runner, walk, **kwargs)()
        finally:
            runner.run(app.close())


def test_guest_in_plain_state_and_browsing(settings: Settings) -> None:
    _run(settings, BROWSING)


def test_member_in_every_activity_form_state(settings: Settings) -> None:
    submit = ActivityCb(action="submit").pack()

    def may_change(kind: str, value: str) -> set[str]:
        # Only the confirm step's submit button stores a report.
        return {"activities"} if (kind, value) == ("press", submit) else set()

    _run(settings, ACTIVITY, member=True, may_change=may_change)


def test_guest_in_every_registration_state(settings: Settings) -> None:
    submit = RegCb(action="submit").pack()

    def may_change(kind: str, value: str) -> set[str]:
        # Submitting a complete registration creates the (pending) organisation and request.
        return {"organisations", "memberships"} if (kind, value) == ("press", submit) else set()

    _run(settings, REGISTRATION, may_change=may_change)
    _run(settings, JOINING)


def test_guest_cannot_report_or_coordinate(settings: Settings) -> None:
    _run(settings, ACTIVITY)
    _run(settings, COORDINATING)


def test_coordinator_in_the_coordinators_dialog(settings: Settings) -> None:
    # The coordinator may legitimately add a coordinator by typing an id in that dialog.
    _run(
        settings,
        COORDINATING,
        user=lambda: COORDINATOR_ID,
        may_change=lambda kind, value: {"coordinators"},
    )


async def test_the_walks_reach_the_dialog_states(app: App) -> None:
    """The properties above are only as good as the states their walks reach."""
    await _member(app, 4242)
    for user_id, walk, state in (
        (4242, ACTIVITY, "ActivityForm:confirm"),
        (4243, REGISTRATION, "RegistrationForm:confirm"),
        (4244, JOINING, "RegistrationForm:join"),
        (COORDINATOR_ID, COORDINATING, "CoordinatorForm:user_id"),
    ):
        chat = Chat(app, user_id)
        await _walk(chat, walk)
        context = app.dispatcher.fsm.get_context(chat.bot, user_id, user_id)
        assert await context.get_state() == state, walk
