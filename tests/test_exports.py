"""Report files (CSV, XLSX, JSON), the progress chart, and `cso-bot report --format xlsx`."""

from __future__ import annotations

import csv
import io
import json
import struct
import warnings
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from handlers.report_chart import MAX_WIDTH_PX, progress_chart
from handlers.report_files import csv_bytes, json_bytes, write_xlsx, xlsx_bytes
from plan import Plan, load_plan
from plan.progress import CountedActivity, IndicatorProgress, plan_progress
from plan.report import CSV_HEADER, report_dict
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


def test_csv_export_is_the_annex4_layout(plan: Plan, progress: list[IndicatorProgress]) -> None:
    data = csv_bytes(plan, progress)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_HEADER
    assert len(rows) == 1 + 44
    newsletters = next(r for r in rows if r[0] == "2.1.3")
    assert newsletters[5:] == ["12", "12", "12 з 12 місяців", "achieved"]
    trainings = next(r for r in rows[1:] if r[4].startswith("Навчальні заходи"))
    assert trainings[5:] == ["6", "3", "3/6", "not_met"]


def test_json_export_is_the_cli_report(plan: Plan, progress: list[IndicatorProgress]) -> None:
    assert json.loads(json_bytes(plan, 2024, progress)) == report_dict(plan, 2024, progress)


def test_xlsx_export_opens_with_the_annex4_header(
    plan: Plan, progress: list[IndicatorProgress]
) -> None:
    book = load_workbook(io.BytesIO(xlsx_bytes(plan, 2024, progress)))
    sheet = book.active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == CSV_HEADER
    assert len(rows) == 1 + 44
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet["E2"].alignment.wrap_text
    assert sheet.column_dimensions["E"].width >= 40
    newsletters = next(r for r in rows if r[0] == "2.1.3")
    assert newsletters[5:] == (12, 12, "12 з 12 місяців", "achieved")
    assert sheet.freeze_panes == "A2"


def test_xlsx_written_to_a_path(
    tmp_path: Path, plan: Plan, progress: list[IndicatorProgress]
) -> None:
    out = tmp_path / "report.xlsx"
    write_xlsx(out, plan, 2024, progress)
    rows = list(load_workbook(out).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert len(rows) == 45


def test_cli_report_as_xlsx(tmp_path: Path) -> None:
    imported = cso_bot(
        tmp_path, "activities", "import", str(_write(tmp_path, *ROWS)), "--create-orgs"
    )
    assert imported.returncode == 0, imported.stderr
    out = tmp_path / "report.xlsx"
    result = cso_bot(tmp_path, "report", "--year", "2024", "--format", "xlsx", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    rows = list(load_workbook(out).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0] == CSV_HEADER
    assert len(rows) == 45
    newsletters = next(r for r in rows if r[0] == "2.1.3")
    assert newsletters[5:] == (12, 12, "12 з 12 місяців", "achieved")

    # The same numbers as the CSV the CLI writes.
    as_csv = cso_bot(tmp_path, "report", "--year", "2024", "--format", "csv")
    csv_rows = list(csv.reader(io.StringIO(as_csv.stdout.removeprefix("\ufeff"))))
    assert [[str(c) for c in r] for r in rows] == csv_rows


def test_cli_xlsx_needs_a_file(tmp_path: Path) -> None:
    result = cso_bot(tmp_path, "report", "--format", "xlsx")
    assert result.returncode == 2
    assert "--out" in _stderr_line(result)
