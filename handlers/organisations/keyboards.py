"""The buttons of a registration or join request under review."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder


class ReviewKind(StrEnum):
    organisation = "org"
    membership = "join"


class ReviewAction(StrEnum):
    approve = "approve"
    reject = "reject"


class OrgReviewCb(CallbackData, prefix="orgrev"):
    """A decision on a registration or a join request (of `user` to organisation `org`)."""

    kind: ReviewKind
    action: ReviewAction
    org: int
    user: int = 0


def subject(kind: ReviewKind, org: int, user: int = 0) -> str:
    """What a card with these buttons is about (the outbox finds its copies by it)."""
    return f"{kind.value}:{org}:{user}"


def review_keyboard(kind: ReviewKind, org: int, user: int = 0) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Approve"),
        callback_data=OrgReviewCb(kind=kind, action=ReviewAction.approve, org=org, user=user),
    )
    builder.button(
        text=_("❌ Reject"),
        callback_data=OrgReviewCb(kind=kind, action=ReviewAction.reject, org=org, user=user),
    )
    return builder.as_markup()


class ManageAction(StrEnum):
    show = "show"
    rename = "name"
    contact = "contact"
    deactivate = "off"
    deactivate_yes = "off_yes"
    deactivate_no = "off_no"
    reactivate = "on"


class OrgManageCb(CallbackData, prefix="orgman"):
    """A coordinator's action on verified organisation `org`."""

    action: ManageAction
    org: int
