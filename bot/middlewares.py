"""Middlewares: who the user is (and their role and language) for every kind of update."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18nMiddleware

from db import PROFILE_TABLES, Database, UserRecord, Written
from db.coordinators import Coordinators
from db.members import Standing
from plan.clock import Clock

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
Profile = tuple[UserRecord, Standing]
PROFILE_SECONDS = 5.0  # how long a cached profile may miss another process's change


class Profiles:
    """Each user's record and standing as last read, so most updates ask the database nothing.

    The one rule of invalidation: after every unit of work this process commits, the database
    says what it wrote (`Database.after_commit`, from the write statements themselves), and a
    write to a table the profile is read from (`PROFILE_TABLES`: users, memberships,
    coordinators, organisations) drops the copies it may have changed: the person's alone when
    every such write said whose rows it changed (a language, a membership, a coordinator), every
    copy otherwise (an organisation verified or deactivated). So no change made here is ever
    missed, whichever feature makes it and without any feature remembering the cache, and a
    subscription, a report or an answer to an event drops nothing. Units of work marked quiet
    keep the copies: the journal's bookkeeping, and a user's own first record and names
    (written below, where the kept copy is the written one). Changes made by another process (a
    `cso-bot` command beside the bot) are seen after at most `ttl` seconds.

    With REDIS_URL several workers answer the same people: a coordinator removed on one must
    lose the rights on the next update on any worker, so there `ttl` is 0: no cache.
    """

    CHANGES_KEPT = 10_000  # people changed since the last full drop, before a full drop

    def __init__(self, db: Database, ttl: float = PROFILE_SECONDS) -> None:
        self.ttl = ttl
        self._kept: dict[int, tuple[float, Profile]] = {}
        # Bumped by every change to a profile table: a profile read before a change that may
        # concern it is not kept after it (the read may have seen the data before the change).
        self.generation = 0
        self._dropped_all_at = 0
        self._changed_at: dict[int, int] = {}  # person -> generation of their last change
        if ttl > 0:
            db.after_commit(self._forget)

    def _forget(self, written: Written) -> None:
        if not written.touches(PROFILE_TABLES):
            return
        self.generation += 1
        people: set[int] = set()
        for table in PROFILE_TABLES:
            whose = written.people(table)
            if whose is None:
                self._drop_all()
                return
            people |= whose
        for person in people:
            self._kept.pop(person, None)
            self._changed_at[person] = self.generation
        if len(self._changed_at) > self.CHANGES_KEPT:
            self._drop_all()

    def _drop_all(self) -> None:
        self._kept.clear()
        self._changed_at.clear()
        self._dropped_all_at = self.generation

    def get(self, user_id: int) -> Profile | None:
        kept = self._kept.get(user_id)
        if kept is None or time.monotonic() - kept[0] > self.ttl:
            return None
        return kept[1]

    def keep(self, user_id: int, profile: Profile, generation: int) -> None:
        """Keep a profile read at `generation`, unless a change that may concern it committed
        since."""
        if (
            self.ttl > 0
            and self._dropped_all_at <= generation
            and self._changed_at.get(user_id, 0) <= generation
        ):
            self._kept[user_id] = (time.monotonic(), profile)


def role_of(user_id: int, standing: Standing, coordinators: Coordinators) -> str:
    if coordinators.decides(user_id, added=standing.coordinator):
        return "coordinator"
    return "member" if standing.organisation_id is not None else "guest"


class UserMiddleware(BaseMiddleware):
    """Loads the user's record (creating it on first sight only), role and organisation, and
    keeps the user's names (written only when Telegram's differ from the stored ones).

    Registered on the update level, so messages, callbacks and every later event type get it.
    """

    def __init__(self, profiles: Profiles | None = None) -> None:
        self.profiles = profiles

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        tg_user: User | None = data.get("event_from_user")
        db: Database = data["db"]
        coordinators: Coordinators = data["coordinators"]
        clock: Clock = data["clock"]
        record, standing = None, Standing(coordinator=False, organisation_id=None)
        if tg_user is not None:
            kept = self.profiles.get(tg_user.id) if self.profiles else None
            generation = self.profiles.generation if self.profiles else 0
            if kept is None:
                async with db.read() as repo:
                    record, standing = await repo.users.profile(tg_user.id)
            else:
                record, standing = kept
            names = (tg_user.first_name, tg_user.username)
            # Quiet: a user's own record changes no one else's profile; this one is kept below.
            if record is None:
                async with db.single_statement(quiet=True) as repo:
                    record = await repo.users.ensure(
                        tg_user.id, clock.now().astimezone(UTC), *names
                    )
            elif (record.first_name, record.username) != names:
                # People are shown by these names: a write only when Telegram's differ.
                async with db.single_statement(quiet=True) as repo:
                    await repo.users.rename(tg_user.id, *names)
                record = replace(record, first_name=names[0], username=names[1])
            if self.profiles is not None:
                self.profiles.keep(tg_user.id, (record, standing), generation)
        data["user_record"] = record
        data["organisation_id"] = standing.organisation_id
        data["role"] = role_of(tg_user.id, standing, coordinators) if tg_user else "guest"
        return await handler(event, data)


class UserLocaleMiddleware(I18nMiddleware):
    """The language the user chose with /language; until they choose, their Telegram app's
    language when the bot speaks it (uk, en), else Ukrainian.

    Telegram shows the command menu in the app's language, so answering in it from the first
    message keeps the menu and the replies in one language.
    """

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        record: UserRecord | None = data.get("user_record")
        if record is not None and record.language in self.i18n.available_locales:
            return record.language
        tg_user: User | None = data.get("event_from_user")
        app_language = (tg_user.language_code or "") if tg_user else ""
        primary = app_language.split("-")[0].lower()
        if primary in self.i18n.available_locales:
            return primary
        return self.i18n.default_locale
