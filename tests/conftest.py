"""Shared fixtures: the real application on a temporary database, and conversations with it."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiogram.methods import TelegramMethod

from bot.app import App, build_app
from bot.chat import Conversation
from bot.config import Secret, Settings
from bot.i18n import compile_catalogs
from db import Database
from fakes.servers import RedisServer
from plan.clock import Clock
from tests import postgres
from tests.servers import start_or_skip

ROOT = Path(__file__).resolve().parents[1]
COORDINATOR_ID = 900
USER_ID = 100

compile_catalogs()


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Settings]:
    """The application's settings; on SQLite, unless TEST_BACKEND=postgresql runs the suite
    with a new PostgreSQL database for each test (a check of every query there; slow)."""
    url = None
    if os.environ.get("TEST_BACKEND") == "postgresql":
        url = Secret(request.getfixturevalue("database_target_postgresql"))
    yield Settings(
        bot_token=Secret("123456:TEST-token"),
        database_path=tmp_path / "bot.sqlite3",
        database_url=url,
        plan_file=ROOT / "data" / "annex4.yaml",
        coordinator_ids=frozenset({COORDINATOR_ID}),
    )


@pytest.fixture
def clock(settings: Settings) -> Clock:
    """The city's clock; a test module that needs a fixed moment overrides this fixture with
    `Clock.fixed(...)`, and moves it with `set` or `advance`."""
    return Clock(settings.timezone)


@pytest.fixture
async def app(settings: Settings, clock: Clock) -> AsyncIterator[App]:
    application = await build_app(settings, clock)
    yield application
    await application.close()


class Chat(Conversation):
    """A conversation with helpers for reading what the bot said."""

    async def tap(self, label: str) -> list[TelegramMethod[Any]]:
        """Press the first button of the newest keyboard whose text contains label."""
        message_id, buttons = self.keyboard()
        for text, data in buttons:
            if label in text:
                return await self.press(message_id, data)
        raise AssertionError(f"no button {label!r} in {[t for t, _ in buttons]}")

    def buttons(self) -> list[str]:
        return [text for text, _ in self.keyboard()[1]]


def texts(requests: list[TelegramMethod[Any]]) -> str:
    """Everything the bot wrote in these requests, joined."""
    return "\n".join(
        str(getattr(r, "text", None) or getattr(r, "caption", None) or "")
        for r in requests
        if r.__api_method__ in ("sendMessage", "editMessageText", "sendDocument")
    )


def methods(requests: list[TelegramMethod[Any]]) -> list[str]:
    return [r.__api_method__ for r in requests]


@pytest.fixture
def chat(app: App) -> Chat:
    return Chat(app, USER_ID)


@pytest.fixture
def coordinator(app: App) -> Chat:
    return Chat(app, COORDINATOR_ID)


# -- Redis (REDIS_URL): one throwaway server for the session, emptied for every test ----------


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    directory = tmp_path_factory.mktemp("redis")
    server = start_or_skip(lambda: RedisServer(directory))
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    redis_server.flush()
    return redis_server.url


# --- the database backends: SQLite always, PostgreSQL for the database-level tests ------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.Server]:
    """One throwaway PostgreSQL server for the session; in CI a missing one fails the tests."""
    server = start_or_skip(postgres.start)
    yield server
    server.stop()


_databases = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """The database-level tests run on both: SQLite (a file) and PostgreSQL (a server)."""
    return str(request.param)


@pytest.fixture
def database_target(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str | Path:
    """What Database.open takes: a new SQLite file, or a new empty PostgreSQL database."""
    if backend == "sqlite":
        return tmp_path / "bot.sqlite3"
    return str(request.getfixturevalue("database_target_postgresql"))


@pytest.fixture
def database_target_postgresql(request: pytest.FixtureRequest) -> Iterator[str]:
    """A new empty database on the session's PostgreSQL server, dropped afterwards."""
    server: postgres.Server = request.getfixturevalue("postgres_server")
    name = f"test_{os.getpid()}_{next(_databases)}"
    yield postgres.create_database(server, name)
    postgres.drop_database(server, name)


@pytest.fixture
async def database(database_target: str | Path) -> AsyncIterator[Database]:
    """An open, migrated database of each backend."""
    opened = await Database.open(database_target)
    yield opened
    await opened.close()
