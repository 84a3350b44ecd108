"""Preparing a chart or a file shows Telegram's chat action until it is sent."""

from __future__ import annotations

from typing import Any

from aiogram.methods import SendChatAction, TelegramMethod

from bot.app import App
from handlers.report import ReportFile, ReportFileCb
from tests.conftest import Chat, methods


def _before(sent: list[TelegramMethod[Any]], method: str) -> set[str]:
    """The chat actions sent before the first `method` request. Telegram shows an action for
    5 s, so a file that takes longer to prepare (a busy machine, the first import of the
    charting library) repeats it: what counts is which actions, not how many."""
    names = methods(sent)
    assert method in names, names
    return {str(r.action) for r in sent[: names.index(method)] if isinstance(r, SendChatAction)}


async def test_the_chart_shows_upload_photo(app: App, coordinator: Chat) -> None:
    sent = await coordinator.press(0, ReportFileCb(kind=ReportFile.chart, year=2024).pack())
    assert _before(sent, "sendPhoto") == {"upload_photo"}


async def test_the_document_shows_upload_document(app: App, coordinator: Chat) -> None:
    sent = await coordinator.press(0, ReportFileCb(kind=ReportFile.docx, year=2024).pack())
    assert _before(sent, "sendDocument") == {"upload_document"}


async def test_a_spreadsheet_shows_upload_document(app: App, coordinator: Chat) -> None:
    sent = await coordinator.press(0, ReportFileCb(kind=ReportFile.xlsx, year=2024).pack())
    assert "sendDocument" in methods(sent)
    assert all(r.action == "upload_document" for r in sent if isinstance(r, SendChatAction))
