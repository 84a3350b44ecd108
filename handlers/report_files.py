"""The yearly report as files: Annex 4 CSV and XLSX, and JSON; for the bot and the CLI."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from plan.model import Plan
from plan.progress import IndicatorProgress
from plan.report import CSV_HEADER, csv_rows, report_dict

__all__ = ["csv_bytes", "json_bytes", "write_xlsx", "xlsx_bytes"]

# Widths in characters, per CSV_HEADER column: the expected result is the long one.
_WIDTHS = {
    "measure": 10,
    "responsible": 30,
    "term": 16,
    "funding": 22,
    "expected_result": 60,
    "target": 10,
    "actual": 10,
    "progress": 18,
    "status": 14,
}
_NUMBERS = frozenset({"target", "actual"})


def csv_bytes(plan: Plan, progress: Sequence[IndicatorProgress]) -> bytes:
    """CSV_HEADER and one row per indicator, UTF-8 with a BOM so spreadsheets read Cyrillic."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(csv_rows(plan, progress))
    return out.getvalue().encode("utf-8-sig")


def json_bytes(
    plan: Plan, year: int, progress: Sequence[IndicatorProgress], waiting: int = 0
) -> bytes:
    """The report in `cso-bot report --format json`'s shape."""
    text = json.dumps(report_dict(plan, year, progress, waiting), ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")


def write_xlsx(
    target: str | Path | BinaryIO,
    plan: Plan,
    year: int,
    progress: Sequence[IndicatorProgress],
) -> None:
    """One sheet: a bold CSV_HEADER row, then a row per indicator, wrapped, with fitting widths."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has one sheet
    sheet.title = f"{year}"
    sheet.append(list(CSV_HEADER))
    for row in csv_rows(plan, progress):
        sheet.append(
            [
                int(value) if name in _NUMBERS else value
                for name, value in zip(CSV_HEADER, row, strict=True)
            ]
        )
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for column in sheet.iter_cols(min_row=1, max_row=sheet.max_row):
        for cell in column:
            cell.alignment = wrap
    for cell in sheet[1]:
        cell.font = bold
    for index, name in enumerate(CSV_HEADER, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = _WIDTHS.get(name, 14)
    sheet.freeze_panes = "A2"
    book.save(target)


def xlsx_bytes(plan: Plan, year: int, progress: Sequence[IndicatorProgress]) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(buffer, plan, year, progress)
    return buffer.getvalue()
