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

from db import Database, UserRecord
from db.coordinators import Coordinators
from db.members import Standing
from plan.clock import Clock

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
Profile = tuple[UserRecord, Standing]
PROFILE_SECONDS = 5.0  # how long a cached profile may miss another process's change


class Profiles:
    """Each user's record and standing as last read, so most updates ask the database nothing.

    The one rule of invalidation: every unit of work this process commits drops every copy
    (`Database.after_commit`). Language (/language), membership (registration, joining, review,
    deactivation of an organisation) and coordinators (/coordinators) all change in a unit of
    work, so no change made here is ever missed, whichever feature makes it. Only units of work
    marked quiet keep the copies: the journal's bookkeeping, and a user's own first record and
    names (written below, which change no one else's profile). Dialog state is written outside
    units of work. Changes made by another process (a `cso-bot` command beside the bot) are
    seen after at most `ttl` seconds.

    The price of the one rule: any other write (a subscription, a report, an RSVP) drops every
    copy too, so with many people each one's profile is mostly read again; marking such units
    of work quiet where they are written would keep more.

    With REDIS_URL several workers answer the same people: a coordinator removed on one must
    lose the rights on the next update on any worker, so there `ttl` is 0: no cache.
    """

    def __init__(self, db: Database, ttl: float = PROFILE_SECONDS) -> None:
        self.ttl = ttl
        self._kept: dict[int, tuple[float, Profile]] = {}
        # Bumped by every commit: a profile read before a commit is not kept after it.
        self.generation = 0
        if ttl > 0:
            db.after_commit(self._forget)

    def _forget(self) -> None:
        self.generation += 1
        self._kept.clear()

    def get(self, user_id: int) -> Profile | None:
        kept = self._kept.get(user_id)
        if kept is None or time.monotonic() - kept[0] > self.ttl:
            return None
        return kept[1]

    def keep(self, user_id: int, profile: Profile, generation: int) -> None:
        """Keep a profile read at `generation`, unless something committed since."""
        if self.ttl > 0 and generation == self.generation:
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
                async with db.transaction(quiet=True) as repo:
                    record = await repo.users.ensure(
                        tg_user.id, clock.now().astimezone(UTC), *names
                    )
            elif (record.first_name, record.username) != names:
                # People are shown by these names: a write only when Telegram's differ.
                async with db.transaction(quiet=True) as repo:
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
