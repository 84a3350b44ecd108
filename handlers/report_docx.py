"""The year's report as a Word document for the public review of measure 1.2.1: for the bot and
the CLI. Ukrainian throughout: it is the document handed to the council, whoever asks for it."""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import BinaryIO

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph

from db.public import PublicActivity
from formats.dates import document_date
from handlers.report_chart import progress_chart
from plan.model import Measure, Plan
from plan.progress import IndicatorProgress, summarize
from plan.report import STATUS_UK

__all__ = ["docx_bytes", "write_docx"]

LANGUAGE = "uk-UA"
_FONT = "Times New Roman"  # what council documents use; LibreOffice maps it to Liberation Serif
_CHART_BOX = (Cm(16.5), Cm(22.0))  # the chart fits inside this, keeping its proportions
_NBSP = "\u00a0"


def _set_language(document: DocumentObject) -> None:
    """Ukrainian for spelling, hyphenation and quotes in Word and LibreOffice alike."""
    document.core_properties.language = LANGUAGE
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3"):
        style = document.styles[name]
        rpr = style.element.get_or_add_rPr()
        lang = OxmlElement("w:lang")
        for attribute in ("w:val", "w:eastAsia", "w:bidi"):
            lang.set(qn(attribute), LANGUAGE)
        rpr.append(lang)
    normal = document.styles["Normal"]
    normal.font.name = _FONT
    normal.font.size = Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:cs"), _FONT)
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3"):
        document.styles[name].font.name = _FONT
        document.styles[name].font.color.rgb = RGBColor(0, 0, 0)


def _field(paragraph: Paragraph, instruction: str) -> None:
    """A field Word and LibreOffice fill in when they lay the page out (PAGE: its number)."""
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, instruction), ("end", None)):
        if kind is not None:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)


def _page_numbers(document: DocumentObject) -> None:
    section = document.sections[0]
    section.different_first_page_header_footer = True  # no number on the title page
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(paragraph, "PAGE")


def _link(paragraph: Paragraph, url: str, text: str) -> None:
    """A clickable link; python-docx has no API for one, so the relationship is made by hand."""
    r_id = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    hyperlink = OxmlElement("w:hyperlink")
    hyperlink.set(qn("r:id"), r_id)
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    style = OxmlElement("w:u")
    style.set(qn("w:val"), "single")
    colour = OxmlElement("w:color")
    colour.set(qn("w:val"), "0B4F9C")
    rpr.append(colour)
    rpr.append(style)
    run.append(rpr)
    t = OxmlElement("w:t")
    t.text = text
    t.set(qn("xml:space"), "preserve")
    run.append(t)
    hyperlink.append(run)
    paragraph._p.append(hyperlink)


def _table(document: DocumentObject, header: Sequence[str], widths: Sequence[float]) -> Table:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    # Fixed widths: LibreOffice reads the grid's columns, Word the cells'; both are set.
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Cm(width)
    # And the table's own width: with "auto" there LibreOffice shares the page out evenly.
    tbl_w = table._tbl.tblPr.find(qn("w:tblW"))
    if tbl_w is None:
        tbl_w = OxmlElement("w:tblW")
        table._tbl.tblPr.append(tbl_w)
    tbl_w.set(qn("w:type"), "dxa")
    tbl_w.set(qn("w:w"), str(int(Cm(sum(widths)).twips)))
    row = table.rows[0]
    # The header row repeats on every page a long table runs over.
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(marker)
    for cell, text, width in zip(row.cells, header, widths, strict=True):
        cell.width = Cm(width)
        cell.paragraphs[0].add_run(text).bold = True
    return table


def _row(table: Table, values: Sequence[str], widths: Sequence[float]) -> list[Paragraph]:
    cells = table.add_row().cells
    for cell, value, width in zip(cells, values, widths, strict=True):
        cell.width = Cm(width)
        cell.paragraphs[0].add_run(value)
    return [c.paragraphs[0] for c in cells]


def _png_size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk, always first
    return width, height


def _chart(document: DocumentObject, progress: Sequence[IndicatorProgress], year: int) -> None:
    png = progress_chart(progress, f"Виконання показників у {year} році")
    width, height = _png_size(png)
    box_w, box_h = _CHART_BOX
    if height * box_w > width * box_h:
        document.add_picture(io.BytesIO(png), height=box_h)
    else:
        document.add_picture(io.BytesIO(png), width=box_w)
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER


def _value(p: IndicatorProgress) -> str:
    if p.months_met is not None:
        return f"{p.actual} (місяців виконано: {p.months_met})"
    return str(p.actual)


def _target(p: IndicatorProgress) -> str:
    period = {"year": "на рік", "month": "щомісяця", "plan": "за період плану"}
    if p.indicator.kind == "milestone":
        return "1 (разовий результат)"
    return f"{p.target} {period.get(p.indicator.period, '')}".strip()


def _measure(
    document: DocumentObject,
    measure: Measure,
    progress: dict[str, IndicatorProgress],
    activities: Sequence[PublicActivity],
) -> None:
    document.add_heading(f"Захід {measure.printed_code}. {measure.title}", level=3)
    facts = document.add_paragraph()
    facts.add_run("Відповідальні: ").bold = True
    facts.add_run("; ".join(b.full for b in measure.responsible))
    facts.add_run("\nТерміни: ").bold = True
    facts.add_run(measure.term)
    widths = (7.6, 3.2, 2.6, 4.0)
    table = _table(document, ("Показник", "Ціль", "Факт", "Статус"), widths)
    for indicator in measure.indicators:
        p = progress[indicator.id]
        _row(table, (indicator.description, _target(p), _value(p), STATUS_UK[p.status]), widths)
    if not activities:
        document.add_paragraph("Затверджених звітів організацій за рік немає.")
        return
    document.add_paragraph().add_run("Заходи організацій:").bold = True
    widths = (2.9, 6.0, 5.0, 3.5)
    table = _table(document, ("Дата", "Назва", "Організації", "Підтвердження"), widths)
    for activity in activities:
        # A joint activity is credited to every partner, so every one of them is named.
        cells = _row(
            table,
            (
                activity.date.strftime("%d.%m.%Y"),
                f"«{activity.title}»",
                ", ".join(activity.organisations),
                "",
            ),
            widths,
        )
        url = activity.evidence_url
        if url and url.lower().startswith(("http://", "https://")):
            _link(cells[3], url, "посилання")


def build_document(
    plan: Plan,
    year: int,
    progress: Sequence[IndicatorProgress],
    activities: Sequence[PublicActivity],
    today: date,
) -> DocumentObject:
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin, section.right_margin = Cm(2.5), Cm(1.5)
    section.top_margin = section.bottom_margin = Cm(2)
    _set_language(document)
    _page_numbers(document)
    document.core_properties.title = f"Звіт про виконання плану за {year} рік"

    # Title page.
    for _ in range(6):
        document.add_paragraph()
    title = document.add_paragraph(style="Title")
    title.add_run(f"Звіт про виконання плану за {year}{_NBSP}рік")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for text in (plan.title, plan.decision, f"Станом на {document_date(today)}"):
        paragraph = document.add_paragraph(text)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    # Summary.
    summaries = summarize(progress, plan)
    whole = summaries[""]
    document.add_heading("Підсумок", level=1)
    document.add_paragraph(f"У {year} році виконано {whole.met} з {whole.total} показників плану.")
    widths = (12.0, 2.5, 2.5)
    table = _table(document, ("Напрям", "Виконано", "Усього"), widths)
    for direction in plan.directions:
        s = summaries[direction.code]
        _row(table, (f"{direction.code}. {direction.title}", str(s.met), str(s.total)), widths)
    _chart(document, progress, year)

    # Direction → task → measure.
    by_indicator = {p.indicator.id: p for p in progress}
    by_measure: dict[str, list[PublicActivity]] = {}
    for activity in activities:
        by_measure.setdefault(activity.measure_code, []).append(activity)
    for direction in plan.directions:
        document.add_page_break()
        document.add_heading(f"Напрям {direction.code}. {direction.title}", level=1)
        for task in direction.tasks:
            document.add_heading(f"Завдання {task.code}. {task.title}", level=2)
            for measure in task.measures:
                _measure(document, measure, by_indicator, by_measure.get(measure.code, []))
    return document


def write_docx(
    target: str | Path | BinaryIO,
    plan: Plan,
    year: int,
    progress: Sequence[IndicatorProgress],
    activities: Sequence[PublicActivity],
    today: date,
) -> None:
    build_document(plan, year, progress, activities, today).save(target)  # type: ignore[arg-type]


def docx_bytes(
    plan: Plan,
    year: int,
    progress: Sequence[IndicatorProgress],
    activities: Sequence[PublicActivity],
    today: date,
) -> bytes:
    buffer = io.BytesIO()
    write_docx(buffer, plan, year, progress, activities, today)
    return buffer.getvalue()
