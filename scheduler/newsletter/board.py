"""The one progress board of a send: a message per coordinator, edited as the send goes, with
Pause and Cancel; the same board whether the bot, the CLI or the resume after a crash sends."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from formats.dates import event_time, month_label
from scheduler.newsletter.delivery import DeliverySummary
from scheduler.newsletter.keyboards import issue_keyboard
from scheduler.notifier import Notifier

PROGRESS_EVERY = 2.0  # seconds between two updates of the board (Telegram edits are messages too)

Echo = Callable[[int, int, int], None]
"""Where else the counts go (sent, failed, remaining): the CLI prints them."""


class ProgressBoard:
    """Counts of a send shown to every coordinator in `screens` (chat id -> the message to edit,
    None until it is first sent), each in their language, at most every PROGRESS_EVERY s."""

    def __init__(
        self,
        notifier: Notifier,
        bot: Bot,
        newsletter_id: int,
        month: str,
        screens: dict[int, int | None],
        *,
        echo: Echo | None = None,
        timezone: ZoneInfo | None = None,
    ) -> None:
        self.notifier = notifier
        self.timezone = timezone
        self.bot = bot
        self.newsletter_id = newsletter_id
        self.month = month
        self.screens = dict(screens)
        self.echo = echo
        self._last = 0.0
        self._counts = (0, 0, 0)

    def _counts_text(self) -> str:
        sent, failed, remaining = self._counts
        return _(
            "Newsletter {month}: sent {sent}, failed {failed}, remaining {remaining}."
        ).format(
            month=month_label(self.month, get_i18n().current_locale),
            sent=sent,
            failed=failed,
            remaining=remaining,
        )

    async def __call__(self, sent: int, failed: int, remaining: int) -> None:
        """The delivery engine's progress callback."""
        self._counts = (sent, failed, remaining)
        if time.monotonic() - self._last < PROGRESS_EVERY and remaining:
            return
        self._last = time.monotonic()
        if self.echo is not None:
            self.echo(sent, failed, remaining)
        await self._show(lambda: self._counts_text(), "sending")

    def _waiting_text(self, waiting: int, next_try: datetime) -> str:
        when = event_time(next_try.astimezone(self.timezone), get_i18n().current_locale)
        return _("📡 Telegram is unreachable: {waiting} waiting, next try at {when}.").format(
            waiting=waiting, when=when
        )

    async def waiting(self, waiting: int, next_try: datetime) -> None:
        """The delivery engine's word that Telegram is unreachable and the send waits."""
        if self.echo is not None:
            sent, failed, remaining = self._counts
            self.echo(sent, failed, remaining)
        await self._show(
            lambda: self._counts_text() + "\n" + self._waiting_text(waiting, next_try), "sending"
        )

    async def finish(self, summary: DeliverySummary | None, status: str) -> None:
        """The last word on the board: how the run ended, and the buttons its status allows."""
        if summary is not None:
            self._counts = (summary.sent, summary.failed, summary.remaining)

        def line() -> str:
            if summary is not None and summary.busy_with:
                return _("Another process is sending it right now.")
            if summary is not None and summary.next_try and status == "sending":
                return self._waiting_text(summary.waiting, summary.next_try)
            if summary is not None and summary.error:
                return _("⏸ Paused: Telegram refuses {error}.").format(error=summary.error)
            lines = {
                "sent": _("✅ Done: the newsletter went out."),
                "paused": _("⏸ Paused. Resume or cancel it with the buttons."),
                "cancelled": _("✖ Cancelled: what was not sent will not be."),
            }
            return lines.get(status) or _("It cannot be sent: it is {status}.").format(
                status=status
            )

        await self._show(lambda: self._counts_text() + "\n" + line(), status)

    async def _show(self, text: Callable[[], str], status: str) -> None:
        def compose() -> tuple[str, InlineKeyboardMarkup | None]:
            return text(), issue_keyboard(_, self.newsletter_id, status)

        await self.notifier.show(self.bot, self.screens, compose)
