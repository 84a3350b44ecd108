"""The newsletter's buttons: a coordinator's controls of an issue, and subscribers' unsubscribe."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

Translate = Callable[[str], str]


class IssueAction(StrEnum):
    """What a coordinator's button under an issue does."""

    test = "test"
    intro = "intro"
    approve = "approve"
    pause = "pause"
    resume = "resume"
    cancel = "cancel"


class NewsletterCb(CallbackData, prefix="nl"):
    """A coordinator's button on an issue (a preview, a draft notice or a send's board)."""

    action: IssueAction
    id: int


def issue_keyboard(_: Translate, newsletter_id: int, status: str) -> InlineKeyboardMarkup | None:
    """The buttons an issue in `status` offers; None when nothing can be done with it."""
    buttons: list[tuple[str, IssueAction]] = []
    if status in ("draft", "approved"):
        buttons += [
            (_("🧪 Send me a test"), IssueAction.test),
            (_("✏ Edit introduction"), IssueAction.intro),
        ]
    if status == "draft":
        buttons.append((_("✅ Approve"), IssueAction.approve))
    if status == "sending":
        buttons.append((_("⏸ Pause"), IssueAction.pause))
    if status == "paused":
        buttons.append((_("▶ Resume"), IssueAction.resume))
    if status in ("sending", "paused"):
        buttons.append((_("✖ Cancel"), IssueAction.cancel))
    if not buttons:
        return None
    builder = InlineKeyboardBuilder()
    for text, action in buttons:
        builder.button(text=text, callback_data=NewsletterCb(action=action, id=newsletter_id))
    builder.adjust(1)
    return builder.as_markup()


UNSUBSCRIBE_LABEL = "Unsubscribe"


class UnsubscribeCb(CallbackData, prefix="unsub"):
    """Carries no user id: it always acts on whoever pressed it."""


def unsubscribe_keyboard(label: str) -> InlineKeyboardMarkup:
    """The button under the last part of every newsletter message."""
    builder = InlineKeyboardBuilder()
    builder.button(text=label, callback_data=UnsubscribeCb())
    return builder.as_markup()
