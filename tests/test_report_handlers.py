"""/report for coordinators (summary, drill-down, chart, files) and the public /progress."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiogram.methods import TelegramMethod
from aiogram.types import BufferedInputFile
from openpyxl import load_workbook

from bot.app import App
from bot.reports import build_report, import_activities
from db import NewActivity
from handlers.report import MAX_ACTIVITIES, ReportCb, ReportFile, ReportFileCb, ReportLevel
from plan.report import CSV_HEADER
from tests.conftest import Chat, methods, texts
from tests.test_cli_report import ROWS, _write

REPORTER_ID = 777_001
CONTACT = "+380 67 123 45 67"
QUIET_ORG = "ГО Тиша"


@pytest.fixture
async def data(app: App, tmp_path: Path) -> App:
    """ROWS of test_cli_report, and one more activity reported by a user of an organisation."""
    await import_activities(
        app.db, app.plan, _write(tmp_path, *ROWS), create_orgs=True, today=date(2025, 1, 1)
    )
    async with app.db.transaction() as repos:
        org = await repos.organisations.create(QUIET_ORG, status="verified", contact=CONTACT)
        await repos.activities.add_approved(
            NewActivity(
                plan_id=app.plan.id,
                indicator_id="1.1.1-trainings",
                measure_code="1.1.1",
                organisation_id=org.id,
                date=date(2023, 5, 5),
                quantity=1,
                title="Тренінг із тиші",
                reported_by=REPORTER_ID,
            )
        )
    return app


def _only(requests: list[TelegramMethod[Any]], name: str) -> TelegramMethod[Any]:
    found = [r for r in requests if r.__api_method__ == name]
    assert len(found) == 1, methods(requests)
    return found[0]


def _file(requests: list[TelegramMethod[Any]], name: str) -> BufferedInputFile:
    request = _only(requests, name)
    sent = getattr(request, "document" if name == "sendDocument" else "photo")
    assert isinstance(sent, BufferedInputFile)
    return sent


_DIRECTION_LINE = re.compile(r"^(\d+)\. .*: (\d+) з (\d+)$")


def _summary_numbers(text: str) -> dict[str, Any]:
    whole = re.search(r"Виконано показників: <b>(\d+) з (\d+)</b>", text)
    assert whole, text
    directions = {
        m[1]: {"met": int(m[2]), "total": int(m[3])}
        for line in text.splitlines()
        if (m := _DIRECTION_LINE.match(line))
    }
    return {"met": int(whole[1]), "total": int(whole[2]), "directions": directions}


# --- who may see reports ------------------------------------------------------------------------


async def test_report_is_refused_to_others_and_sends_nothing(data: App, chat: Chat) -> None:
    sent = await chat.send("/report")
    assert methods(sent) == ["sendMessage"]
    assert "лише координаторам" in texts(sent)
    assert "Виконано показників" not in texts(sent)


@pytest.mark.parametrize(
    "callback",
    [
        ReportCb(level=ReportLevel.summary, year=2024),
        ReportCb(level=ReportLevel.measure, year=2024, code="2.1.3"),
        *(ReportFileCb(kind=kind, year=2024) for kind in ReportFile),
    ],
    ids=lambda c: c.pack(),
)
async def test_forged_report_buttons_are_refused(
    data: App, chat: Chat, callback: ReportCb | ReportFileCb
) -> None:
    sent = await chat.press(0, callback.pack())
    assert methods(sent) == ["answerCallbackQuery"]
    alert = sent[0]
    assert "лише координаторам" in str(getattr(alert, "text", ""))


def test_report_callbacks_fit_telegram() -> None:
    longest = ReportCb(level=ReportLevel.measure, year=2024, code="12.12.12.12").pack()
    assert len(longest.encode()) <= 64
    for kind in ReportFile:
        assert len(ReportFileCb(kind=kind, year=2024).pack().encode()) <= 64


# --- the coordinator's report -------------------------------------------------------------------


async def test_summary_numbers_are_the_hand_computed_ones(data: App, coordinator: Chat) -> None:
    # The plan ended on 2024-12-31, so /report opens on 2024: the 12 monthly newsletters are
    # met; one dialogue meeting of 4 counted (the other lacked a quorum); nothing else in 2024.
    text = texts(await coordinator.send("/report"))
    assert "<b>Звіт про виконання плану за 2024 рік</b>" in text
    assert "Виконано показників: <b>1 з 44</b>" in text
    # 2024 and the plan are over: every other indicator is a verdict, not a pace.
    assert "✅ виконано: 1" in text
    assert "❌ не виконано: 43" in text
    assert "🔵 за графіком: 0" in text
    assert "🟠 із відставанням: 0" in text
    assert "⚪ не розпочато: 0" in text
    numbers = _summary_numbers(text)
    assert numbers["directions"]["1"]["met"] == 0
    assert numbers["directions"]["2"]["met"] == 1
    assert sum(d["total"] for d in numbers["directions"].values()) == 44
    assert "• 2024 •" in coordinator.buttons()
    assert {"📊 Діаграма", "CSV", "XLSX", "JSON"} <= set(coordinator.buttons())

    # 2023: four trainings of the six a year (3 imported, 1 reported): not met. The 22 yearly
    # and monthly indicators are verdicts; the 14 plan totals and 8 milestones still ran at
    # the close of 2023, with nothing done: not started.
    edited = await coordinator.tap("2023")
    assert methods(edited) == ["editMessageText", "answerCallbackQuery"]
    text = texts(edited)
    assert "Виконано показників: <b>0 з 44</b>" in text
    assert "❌ не виконано: 22" in text
    assert "🟠 із відставанням: 0" in text
    assert "⚪ не розпочато: 22" in text


@pytest.mark.parametrize("year", [2023, 2024])
async def test_summary_agrees_with_the_cli_report(data: App, coordinator: Chat, year: int) -> None:
    await coordinator.send("/report")
    sent = await coordinator.press(
        coordinator.keyboard()[0], ReportCb(level=ReportLevel.summary, year=year).pack()
    )
    report = await build_report(data.db, data.plan, year, date.today())
    assert _summary_numbers(texts(sent)) == report["summary"]


async def test_drill_down_to_a_measure_edits_one_message(data: App, coordinator: Chat) -> None:
    await coordinator.send("/report")
    message_id = coordinator.keyboard()[0]

    direction = await coordinator.tap("2. ")
    assert "<b>Напрям 2, 2024 рік</b>" in texts(direction)
    task = await coordinator.tap("2.1. ")
    assert "<b>Завдання 2.1, 2024 рік</b>" in texts(task)
    assert "2.1.3. " in texts(task)

    measure = await coordinator.tap("2.1.3. ")
    text = texts(measure)
    assert "<b>Захід 2.1.3, 2024 рік</b>" in text
    assert "Факт/план: 12 з 12 місяців — виконано" in text
    assert "<i>ГО Тест</i>" in text  # coordinators see who did it
    assert text.count("Розсилка ") == MAX_ACTIVITIES
    assert f"…і ще {12 - MAX_ACTIVITIES}" in text
    for step in (direction, task, measure):
        edit = _only(step, "editMessageText")
        assert getattr(edit, "message_id", None) == message_id
    assert coordinator.keyboard()[0] == message_id

    # Back up and into 2.1.2: only the meeting with a quorum counts.
    await coordinator.tap("Завдання 2.1")
    text = texts(await coordinator.tap("2.1.2. "))
    assert "Факт/план: 1/4 — не виконано" in text
    assert "Зустріч · " in text
    assert "Зустріч без кворуму" not in text


async def test_a_measure_with_nothing_counted(data: App, coordinator: Chat) -> None:
    await coordinator.send("/report")
    sent = await coordinator.press(
        coordinator.keyboard()[0],
        ReportCb(level=ReportLevel.measure, year=2023, code="1.1.1").pack(),
    )
    text = texts(sent)
    assert "Зарахованих заходів немає." in text  # the trainer-of-trainers indicator
    assert "Тренінг із тиші" in text and QUIET_ORG in text
    assert CONTACT not in text


async def test_stale_report_buttons(data: App, coordinator: Chat) -> None:
    for callback in (
        ReportCb(level=ReportLevel.summary, year=2030),
        ReportCb(level=ReportLevel.measure, year=2024, code="9.9.9"),
        ReportFileCb(kind=ReportFile.csv, year=2019),
    ):
        sent = await coordinator.press(0, callback.pack())
        assert methods(sent) == ["answerCallbackQuery"]
        assert "застаріла" in str(getattr(sent[0], "text", ""))


async def test_chart_is_sent_as_a_photo(data: App, coordinator: Chat) -> None:
    await coordinator.send("/report")
    sent = await coordinator.tap("📊")
    photo = _file(sent, "sendPhoto")
    assert photo.data.startswith(b"\x89PNG")
    assert 20_000 < len(photo.data) < 5_000_000
    caption = str(getattr(_only(sent, "sendPhoto"), "caption", ""))
    assert len(caption) <= 1024
    assert "1 з 44" in caption


async def test_exports_are_sent_as_files(data: App, coordinator: Chat) -> None:
    await coordinator.send("/report")
    report = await build_report(data.db, data.plan, 2024, date.today())

    as_csv = _file(await coordinator.tap("CSV"), "sendDocument")
    assert as_csv.filename == "report-2024.csv"
    rows = list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_HEADER
    assert len(rows) == 45
    assert next(r for r in rows if r[0] == "2.1.3")[5:] == [
        "12",
        "12",
        "12 з 12 місяців",
        "achieved",
    ]

    as_xlsx = _file(await coordinator.tap("XLSX"), "sendDocument")
    assert as_xlsx.filename == "report-2024.xlsx"
    sheet = load_workbook(io.BytesIO(as_xlsx.data)).active
    assert sheet is not None
    xlsx_rows = list(sheet.iter_rows(values_only=True))
    assert xlsx_rows[0] == CSV_HEADER
    assert len(xlsx_rows) == 45

    as_json = _file(await coordinator.tap("JSON"), "sendDocument")
    assert as_json.filename == "report-2024.json"
    assert json.loads(as_json.data) == report


# --- the public progress -------------------------------------------------------------------------


async def test_progress_is_public_and_names_nobody(data: App, chat: Chat) -> None:
    sent = await chat.send("/progress")
    assert set(methods(sent)) == {"sendMessage"}
    text = texts(sent)
    assert "<b>Виконання плану у 2024 році</b>" in text
    assert "Виконано показників: <b>1 з 44</b>" in text
    assert "Напрям 2: 1 з " in text
    assert "✅ 2.1.3 " in text and ": 12 з 12 місяців" in text
    assert "❌ 2.1.2 " in text and ": 1/4" in text
    for private in ("ГО Тест", "14360570", QUIET_ORG, CONTACT, str(REPORTER_ID), "Розсилка"):
        assert private not in text
    assert not re.search(rf"\b({chat.user.id}|900)\b", text)
    assert chat.buttons() == ["2023", "• 2024 •"]

    edited = await chat.tap("2023")
    assert methods(edited)[-1] == "answerCallbackQuery"
    text = texts(edited)
    assert "<b>Виконання плану у 2023 році</b>" in text
    assert ": 4/6" in text
    assert QUIET_ORG not in text


async def test_progress_for_a_year_outside_the_plan(data: App, chat: Chat) -> None:
    sent = await chat.press(0, "prg:2030")
    assert methods(sent) == ["answerCallbackQuery"]


async def test_commands_are_listed_by_role(coordinator: Chat, chat: Chat) -> None:
    assert "/report" not in texts(await chat.send("/help"))
    assert "/progress" in texts(await chat.send("/help"))
    help_text = texts(await coordinator.send("/help"))
    assert "/report" in help_text and "/progress" in help_text
