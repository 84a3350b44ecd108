"""The year's report as a Word document: written by the CLI and sent by /report, opened with
python-docx, and converted by LibreOffice to a PDF whose text is checked."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import docx
import pytest
from aiogram.types import BufferedInputFile

from bot.app import App
from bot.reports import import_activities
from handlers.report import ReportFile, ReportFileCb
from tests.conftest import Chat, methods
from tests.test_cli import _stderr_line, cso_bot
from tests.test_cli_report import ROWS, _write

JOINT = "Тренінг з фандрайзингу"
PARTNER = "БФ Партнер"
PHONE = "+380671112233"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp_path = tmp_path_factory.mktemp("docx")
    result = cso_bot(
        tmp_path, "activities", "import", str(_write(tmp_path, *ROWS)), "--create-orgs"
    )
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(tmp_path / "var" / "bot.sqlite3")
    with conn:
        partner = conn.execute(
            "INSERT INTO organisations (name, name_key, status, contact, created_at) "
            "VALUES (?, ?, 'verified', ?, '2024-01-01')",
            (PARTNER, PARTNER.casefold(), PHONE),
        ).lastrowid
        conn.execute(
            "INSERT INTO activity_credits (activity_id, organisation_id) "
            "SELECT id, ? FROM activities WHERE title = ?",
            (partner, JOINT),
        )
    conn.close()
    out = tmp_path / "report-2023.docx"
    result = cso_bot(tmp_path, "report", "--year", "2023", "--format", "docx", "--out", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(cso_bot(tmp_path, "report", "--year", "2023", "--format", "json").stdout)
    return {"path": out, "report": report, "tmp": tmp_path}


def _text(document: Any) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    return "\n".join(parts)


def test_the_document_has_title_summary_and_every_measure(written: dict[str, Any]) -> None:
    document = docx.Document(str(written["path"]))
    text = _text(document)
    report = written["report"]
    assert "Звіт про виконання плану за 2023\u00a0рік" in text
    assert "План реалізації Стратегії партнерства" in text
    assert "Станом на " in text and "\u00a0р." in text  # the date, the Ukrainian way
    summary = report["summary"]
    assert f"У 2023 році виконано {summary['met']} з {summary['total']} показників" in text
    rows = [" | ".join(c.text for c in r.cells) for t in document.tables for r in t.rows]
    for code, numbers in summary["directions"].items():
        assert any(
            r.startswith(f"{code}. ") and r.endswith(f" | {numbers['met']} | {numbers['total']}")
            for r in rows
        ), code
    assert "Захід 1.1.1. " in text and "Завдання 2.1. " in text and "Напрям 2. " in text
    # The indicator's target, actual and status in Ukrainian, as the JSON report has them.
    trainings = next(i for i in report["indicators"] if i["indicator"] == "1.1.1-trainings")
    assert trainings["status"] == "not_met"
    assert any(r.endswith(f" | 6 на рік | {trainings['actual']} | не виконано") for r in rows)
    # Activities: organisation, date, title; the joint one credited to both partners.
    assert any(
        f"«{JOINT}»" in r and f"ГО Тест, {PARTNER}" in r and "01.03.2023" in r for r in rows
    )
    assert PHONE not in text
    # The chart is embedded as a picture, and the footer numbers the pages.
    assert len(document.inline_shapes) == 1
    footer = document.sections[0].footer._element.xml
    assert "PAGE" in footer and "fldChar" in footer
    assert document.sections[0].different_first_page_header_footer
    styles = document.styles.element.xml
    assert 'w:val="uk-UA"' in styles
    links = [r.target_ref for r in document.part.rels.values() if r.is_external]
    assert "https://example.org/1" in links


def test_libreoffice_opens_it(written: dict[str, Any], tmp_path: Path) -> None:
    soffice, pdftotext = shutil.which("soffice"), shutil.which("pdftotext")
    if soffice is None or pdftotext is None:
        message = "LibreOffice and poppler-utils are needed (apt-get install libreoffice-writer"
        if os.environ.get("CI"):
            pytest.fail(message + " poppler-utils)")
        pytest.skip(message + " poppler-utils)")
    profile = tmp_path / "lo-profile"
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(written["path"]),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    pdf = tmp_path / "report-2023.pdf"
    assert pdf.exists(), result.stdout + result.stderr
    text = subprocess.run(
        [pdftotext, str(pdf), "-"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    flat = " ".join(text.replace("\u00a0", " ").split())
    assert "Звіт про виконання плану за 2023 рік" in flat
    assert "Підсумок" in flat and "Захід 1.1.1." in flat
    assert PARTNER in flat and "не виконано" in flat
    pages = subprocess.run(
        ["pdfinfo", str(pdf)], capture_output=True, text=True, timeout=60, check=False
    ).stdout
    count = next(line.split()[-1] for line in pages.splitlines() if line.startswith("Pages:"))
    assert int(count) > 3
    # Page numbers: the footer field became digits at the foot of the pages after the title.
    assert "\n2\n" in text or "\f2" in text or " 2\n" in text


def test_docx_needs_a_file(tmp_path: Path) -> None:
    result = cso_bot(tmp_path, "report", "--year", "2024", "--format", "docx")
    assert result.returncode == 2
    assert _stderr_line(result) == "cso-bot: --format docx needs --out FILE"


@pytest.fixture
async def data(app: App, tmp_path: Path) -> App:
    await import_activities(
        app.db, app.plan, _write(tmp_path, *ROWS), create_orgs=True, today=date(2025, 1, 1)
    )
    return app


async def test_report_sends_the_document_to_coordinators(data: App, coordinator: Chat) -> None:
    sent = await coordinator.press(0, ReportFileCb(kind=ReportFile.docx, year=2024).pack())
    documents = [r for r in sent if r.__api_method__ == "sendDocument"]
    assert len(documents) == 1, methods(sent)
    file = documents[0].document
    assert isinstance(file, BufferedInputFile)
    assert file.filename == "report-2024.docx"
    text = _text(docx.Document(io.BytesIO(file.data)))
    assert "Звіт про виконання плану за 2024\u00a0рік" in text


async def test_others_cannot_have_it(data: App, chat: Chat) -> None:
    sent = await chat.press(0, ReportFileCb(kind=ReportFile.docx, year=2024).pack())
    assert methods(sent) == ["answerCallbackQuery"]
    assert "лише координаторам" in str(getattr(sent[0], "text", ""))
