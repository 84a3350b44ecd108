"""Report files (CSV, XLSX, JSON), the progress chart, and `cso-bot report --format xlsx`."""

from __future__ import annotations

import csv
import io
import json
import re
import struct
import warnings
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from formats.dates import document_date
from handlers.report_chart import MAX_WIDTH_PX, progress_chart
from handlers.report_files import csv_bytes, json_bytes, write_xlsx, xlsx_bytes
from plan import Plan, load_plan
from plan.clock import Clock
from plan.progress import CountedActivity, IndicatorProgress, plan_progress
from plan.report import CSV_HEADER, STATUS_UK, report_dict
from tests.test_cli import _stderr_line, cso_bot
from tests.test_cli_report import ROWS, _write

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2025, 6, 1)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(ROOT / "data" / "annex4.yaml")


@pytest.fixture(scope="module")
def progress(plan: Plan) -> list[IndicatorProgress]:
    activities = [
        CountedActivity("1.1.1-trainings", date(2024, 3, 1), quantity=3),
        *(CountedActivity("2.1.3-newsletters", date(2024, m, 10)) for m in range(1, 13)),
    ]
    return plan_progress(plan, activities, 2024, TODAY)


def _png_size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk comes first
    return width, height


def test_chart_is_a_phone_sized_png(progress: list[IndicatorProgress]) -> None:
    with warnings.catch_warnings():
        # A missing glyph (Cyrillic in a font without it) is only a warning: make it fail.
        warnings.simplefilter("error")
        png = progress_chart(progress, "Виконання показників у 2024 році")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = _png_size(png)
    assert width <= MAX_WIDTH_PX
    assert height > width  # tall: one row per indicator, read by scrolling
    assert 20_000 < len(png) < 5_000_000


def test_chart_of_no_progress_still_draws() -> None:
    png = progress_chart([], "2024")
    assert png.startswith(b"\x89PNG")


NBSP = "\u00a0"
HEADING = [
    "Звіт про виконання плану за 2024 рік",
    "План реалізації Стратегії партнерства між ІГС та ВМР на 2023-2024 рр.",
    "Період плану: 1 січня 2023 – 31 грудня 2024",
    f"Станом на 1 червня 2025{NBSP}р.",
]
HEADER = (
    "№",
    "Захід",
    "Відповідальні",
    "Терміни",
    "Джерела фінансування",
    "Показник",
    "Ціль",
    "Факт",
    "Статус",
    "%",
)
TABLE_ROWS = 2 + 7 + 44  # the directions' and tasks' headings, and a row per indicator
DIRECTION_1 = "Стратегічний напрям 1. Підтримка організаційної спроможності"


def test_csv_export_is_the_annex4_layout(plan: Plan, progress: list[IndicatorProgress]) -> None:
    data = csv_bytes(plan, 2024, progress, TODAY)
    assert data.startswith(b"\xef\xbb\xbf\xd0\x97\xd0\xb2\xd1\x96\xd1\x82")  # BOM, «Звіт»
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r[0] for r in rows[:4]] == HEADING
    assert rows[4] == []
    assert tuple(rows[5]) == CSV_HEADER == HEADER
    table = rows[6:]
    assert len(table) == TABLE_ROWS
    # Direction and task headings as the document prints them, before their measures.
    assert table[0][0].startswith(DIRECTION_1) and set(table[0][1:]) == {""}
    assert table[1][0] == (
        "Завдання 1.1. Підвищення організаційної та інституційної спроможності ІГС"
    )
    assert table[2][0] == "1.1.1"
    assert table[2][1].startswith("Цикл навчальних та консультаційних заходів")
    assert table[2][2:5] == [
        "ІРМ, «Місто змістів», ІГС",
        "2023-2024 рр.",
        "Бюджет Вінницької МТГ, Грантові кошти",
    ]
    newsletters = next(r for r in table if r[0] == "2.1.3")
    assert newsletters[6:] == ["12", "12 з 12 місяців", "виконано", "100"]
    trainings = next(r for r in table if r[5].startswith("Навчальні заходи"))
    assert trainings[6:] == ["6", "3", "не виконано", "50"]
    # № as printed: task 1.3's measures are numbered 1.4.x in the document, 1.4.3 twice.
    assert [r[0] for r in table if r[0].startswith("1.4.")].count("1.4.3") >= 2
    assert not any(r[0].startswith("1.3.") for r in table)
    statuses = {r[8] for r in table if r[8]}
    assert statuses <= set(STATUS_UK.values())


def test_json_export_is_the_cli_report(plan: Plan, progress: list[IndicatorProgress]) -> None:
    assert json.loads(json_bytes(plan, 2024, progress)) == report_dict(plan, 2024, progress)


def _check_sheet(path_or_bytes: Path | bytes, report_date: str) -> list[tuple[object, ...]]:
    """The layout a coordinator hands to the council; returns the table below the header."""
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    sheet = load_workbook(source).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert [r[0] for r in rows[:3]] == HEADING[:3]
    assert rows[3][0] == f"Станом на {report_date}"
    assert sheet["A1"].font.bold
    assert rows[5] == HEADER
    assert all(cell.font.bold for cell in sheet[6])
    assert sheet.freeze_panes == "A7"
    assert sheet.auto_filter.ref == f"A6:J{6 + TABLE_ROWS}"
    assert sheet.print_title_rows == "$6:$6"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet["F9"].alignment.wrap_text
    assert sheet.column_dimensions["B"].width >= 40 and sheet.column_dimensions["F"].width >= 40
    # A direction's heading runs across the table, as in the document.
    assert "A7:J7" in {str(r) for r in sheet.merged_cells.ranges}
    assert str(rows[6][0]).startswith(DIRECTION_1)
    table = rows[6:]
    assert len(table) == TABLE_ROWS
    newsletters = next(r for r in table if r[0] == "2.1.3")
    assert newsletters[6:] == (12, "12 з 12 місяців", "виконано", 100)
    return table


def test_xlsx_export_opens_with_the_annex4_header(
    plan: Plan, progress: list[IndicatorProgress]
) -> None:
    table = _check_sheet(xlsx_bytes(plan, 2024, progress, TODAY), f"1 червня 2025{NBSP}р.")
    trainings = next(r for r in table if str(r[5]).startswith("Навчальні заходи"))
    assert trainings[6:] == (6, 3, "не виконано", 50)


def test_xlsx_written_to_a_path(
    tmp_path: Path, plan: Plan, progress: list[IndicatorProgress]
) -> None:
    out = tmp_path / "report.xlsx"
    write_xlsx(out, plan, 2024, progress, TODAY)
    _check_sheet(out, f"1 червня 2025{NBSP}р.")


def test_cli_report_as_xlsx(tmp_path: Path) -> None:
    imported = cso_bot(
        tmp_path, "activities", "import", str(_write(tmp_path, *ROWS)), "--create-orgs"
    )
    assert imported.returncode == 0, imported.stderr
    out = tmp_path / "report.xlsx"
    result = cso_bot(tmp_path, "report", "--year", "2024", "--format", "xlsx", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    # The CLI dates the report by the city's clock: a day and a month's name, never 02.12.2026.
    today = Clock(ZoneInfo("Europe/Kyiv")).today()
    table = _check_sheet(out, document_date(today))
    assert re.fullmatch(r"\d{1,2} [а-яіїєґ']+ \d{4}\u00a0р\.", document_date(today))

    # The same rows as the CSV the CLI writes, which starts with the BOM spreadsheets need.
    as_csv = cso_bot(tmp_path, "report", "--year", "2024", "--format", "csv")
    assert as_csv.stdout.startswith("\ufeffЗвіт про виконання плану за 2024 рік\n")
    csv_rows = list(csv.reader(io.StringIO(as_csv.stdout.removeprefix("\ufeff"))))
    assert csv_rows[5] == list(HEADER)
    assert [["" if c is None else str(c) for c in r] for r in table] == csv_rows[6:]


def test_cli_xlsx_needs_a_file(tmp_path: Path) -> None:
    result = cso_bot(tmp_path, "report", "--format", "xlsx")
    assert result.returncode == 2
    assert "--out" in _stderr_line(result)
