"""The yearly report as files: Annex 4 CSV and XLSX, and JSON; for the bot and the CLI."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from formats.dates import document_date, long_date
from plan.model import Plan
from plan.progress import IndicatorProgress
from plan.report import CSV_HEADER, annex_rows, csv_rows, report_dict, report_title

__all__ = ["csv_bytes", "json_bytes", "report_heading", "write_xlsx", "xlsx_bytes"]

# Widths in characters, per CSV_HEADER column: the measure and its indicator are the long ones.
_WIDTHS = (8, 45, 24, 13, 22, 50, 8, 16, 15, 6)
_HEADING_FILL = {"direction": "D9E2F3", "task": "EDF1F9"}


def report_heading(plan: Plan, year: int, today: date) -> list[str]:
    """The lines above the table: what it is, the plan and its period, and the report's date.

    The files are handed to the council, so they are Ukrainian whoever asks for them.
    """
    return [
        report_title(plan, year),
        plan.title,
        f"Період плану: {long_date(plan.start)} – {long_date(plan.end)}",
        f"Станом на {document_date(today)}",
    ]


def csv_bytes(plan: Plan, year: int, progress: Sequence[IndicatorProgress], today: date) -> bytes:
    """The heading lines, CSV_HEADER and the table's rows, UTF-8 with a BOM so spreadsheets
    read the Cyrillic; the same rows as the XLSX."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([line] for line in report_heading(plan, year, today))
    writer.writerow([])
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
    today: date,
) -> None:
    """One sheet: the heading lines, then CSV_HEADER (frozen, filtered, repeated on every
    printed page) and the table, wrapped, printed landscape to the page's width."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has one sheet
    sheet.title = f"{year}"
    columns = len(CSV_HEADER)
    last = get_column_letter(columns)
    heading = report_heading(plan, year, today)
    for number, line in enumerate(heading, start=1):
        sheet.append([line])
        sheet.merge_cells(f"A{number}:{last}{number}")
        sheet.cell(row=number, column=1).font = Font(
            bold=number == 1, size=14 if number == 1 else 11
        )
    sheet.append([])
    header_row = len(heading) + 2
    sheet.append(list(CSV_HEADER))
    wrap = Alignment(wrap_text=True, vertical="top")
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for row in annex_rows(plan, progress):
        sheet.append(list(row.cells))
        number = sheet.max_row
        for cell in sheet[number]:
            cell.alignment = wrap
        if row.kind != "indicator":
            # As the document prints them: a heading across the whole table.
            sheet.merge_cells(f"A{number}:{last}{number}")
            first = sheet.cell(row=number, column=1)
            first.font = Font(bold=True)
            first.fill = PatternFill("solid", fgColor=_HEADING_FILL[row.kind])
    for index, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.auto_filter.ref = f"A{header_row}:{last}{max(sheet.max_row, header_row)}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    setup = sheet.page_setup
    setup.orientation = "landscape"
    setup.paperSize = sheet.PAPERSIZE_A4
    setup.fitToWidth = 1
    setup.fitToHeight = 0  # as many pages down as the table needs
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.gridLines = True
    book.save(target)


def xlsx_bytes(plan: Plan, year: int, progress: Sequence[IndicatorProgress], today: date) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(buffer, plan, year, progress, today)
    return buffer.getvalue()
