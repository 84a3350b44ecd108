"""Role filters, applied to whole routers so every event type of a feature is guarded alike."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from handlers.reply import refuse

GUEST, MEMBER, COORDINATOR = "guest", "member", "coordinator"


class HasRole(Filter):
    """Passes when the user's role (set by the user middleware) is one of `roles`."""

    def __init__(self, *roles: str) -> None:
        self.roles = frozenset(roles)

    async def __call__(self, event: TelegramObject, **data: Any) -> bool:
        return data.get("role", GUEST) in self.roles


class ReportsForOrganisation(Filter):
    """Passes when the user belongs to a verified organisation they can report for."""

    async def __call__(self, event: TelegramObject, **data: Any) -> bool:
        return data.get("organisation_id") is not None


def guard(router: Any, check: Filter) -> None:
    """Apply one filter to every event type a feature's router handles."""
    router.message.filter(check)
    router.callback_query.filter(check)


async def refuse_non_coordinator(event: Message | CallbackQuery) -> None:
    """The answer to anyone else using a coordinators' command or button: the one wording of
    "coordinators only", whatever the feature."""
    await refuse(event, _("Only coordinators can do this. Nothing was changed."))
