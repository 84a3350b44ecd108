"""`cso-bot activities import|export` and `cso-bot report`, run for real as a subprocess."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_cli import _stderr_line, cso_bot

HEADER = (
    "organization,measure,indicator,date,quantity,cso_participants,council_participants,"
    "title,evidence_url"
)
ROWS = [
    # 3 trainings in 2023 for 1.1.1-trainings (target 6 a year).
    "ГО Тест,1.1.1,1.1.1-trainings,2023-03-01,2,,,Тренінг з фандрайзингу,https://example.org/1",
    "ГО Тест,1.1.1,1.1.1-trainings,15.09.2023,1,,,Тренінг з комунікацій,",
    # A dialogue meeting needs 5 CSO and 1 council participants: 4 CSO does not count.
    "14360570,2.1.2,2.1.2-dialogue-meetings,2024-02-01,1,4,1,Зустріч без кворуму,",
    "14360570,2.1.2,2.1.2-dialogue-meetings,2024-03-01,1,5,1,Зустріч,",
] + [
    # One newsletter every month of 2024 (target 1 a month).
    f"ГО Тест,2.1.3,,2024-{month:02d}-10,1,,,Розсилка {month},"
    for month in range(1, 13)
]


def _write(tmp_path: Path, *rows: str, name: str = "activities.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def imported(tmp_path: Path) -> Path:
    result = cso_bot(
        tmp_path, "activities", "import", str(_write(tmp_path, *ROWS)), "--create-orgs"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"imported {len(ROWS)} activities"
    return tmp_path


def _report(tmp_path: Path, *args: str) -> dict[str, Any]:
    result = cso_bot(tmp_path, "report", "--format", "json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _indicator(report: dict[str, Any], indicator_id: str) -> dict[str, Any]:
    return next(i for i in report["indicators"] if i["indicator"] == indicator_id)


def test_report_of_2023(imported: Path) -> None:
    report = _report(imported, "--year", "2023")
    assert report["year"] == 2023
    assert report["plan_id"] == "vinnytsia-cso-partnership-2023-2024"
    assert len(report["indicators"]) == 44
    assert _indicator(report, "1.1.1-trainings") == {
        "measure": "1.1.1",
        "indicator": "1.1.1-trainings",
        "part_of": None,
        "kind": "count",
        "period": "year",
        "target": 6,
        "actual": 3,
        "met": False,
        "status": "not_met",  # 2023 is over and only half was done: a verdict, not a pace
    }
    newsletters = _indicator(report, "2.1.3-newsletters")
    assert (newsletters["actual"], newsletters["months_met"], newsletters["met"]) == (0, 0, False)
    assert report["summary"]["met"] == 0
    assert report["summary"]["total"] == 44


def test_report_defaults_to_the_plans_last_year(imported: Path) -> None:
    # The plan ended on 2024-12-31, before today: the default year is its last one.
    report = _report(imported)
    assert report["year"] == 2024
    assert _indicator(report, "2.1.3-newsletters") == {
        "measure": "2.1.3",
        "indicator": "2.1.3-newsletters",
        "part_of": None,
        "kind": "count",
        "period": "month",
        "target": 1,
        "actual": 12,
        "met": True,
        "months_met": 12,
        "months_total": 12,
        "status": "achieved",
    }
    meetings = _indicator(report, "2.1.2-dialogue-meetings")
    assert (meetings["actual"], meetings["target"], meetings["met"]) == (1, 4, False)
    assert _indicator(report, "1.1.1-trainings")["actual"] == 0
    summary = report["summary"]
    assert (summary["met"], summary["total"]) == (1, 44)
    assert summary["directions"]["2"]["met"] == 1
    assert summary["directions"]["1"]["met"] == 0
    assert sum(d["total"] for d in summary["directions"].values()) == 44
    assert all(
        ("months_met" in i) == (i["period"] == "month" and i["kind"] == "count")
        for i in report["indicators"]
    )


def test_report_as_text_and_csv(imported: Path) -> None:
    text = cso_bot(imported, "report", "--year", "2023")
    assert text.returncode == 0, text.stderr
    line = next(x for x in text.stdout.splitlines() if " 1.1.1 " in x and "3/6" in x)
    # The bot's symbols and words: 2023 is over, so an unmet indicator is "не виконано".
    assert line.startswith("❌ 1.1.1 ") and line.endswith("3/6 — не виконано")

    out = imported / "report.csv"
    result = cso_bot(imported, "report", "--year", "2024", "--format", "csv", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0] == [
        "measure",
        "responsible",
        "term",
        "funding",
        "expected_result",
        "target",
        "actual",
        "progress",
        "status",
    ]
    assert len(rows) == 45
    newsletters = next(r for r in rows if r[0] == "2.1.3")
    # A monthly indicator's target and actual are its months.
    assert newsletters[5:] == ["12", "12", "12 з 12 місяців", "achieved"]


def test_report_for_a_year_outside_the_plan(tmp_path: Path) -> None:
    result = cso_bot(tmp_path, "report", "--year", "2030")
    assert result.returncode == 2
    line = _stderr_line(result)
    assert "2030" in line and "2023-01-01..2024-12-31" in line


def test_a_bad_import_prints_every_error_and_imports_nothing(tmp_path: Path) -> None:
    bad = [*ROWS[:2], "ГО Тест,1.1.1,1.1.1-trainings,2023-03-01,два,,,Тренінг,", *ROWS[2:]]
    result = cso_bot(tmp_path, "activities", "import", str(_write(tmp_path, *bad)))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = result.stderr.strip().splitlines()
    assert "line 4: quantity must be a positive whole number, got 'два'" in errors
    assert all(e.startswith("line ") for e in errors)
    # Without --create-orgs the organisations are unknown too, on every line that names them.
    assert "line 2: unknown organization 'ГО Тест' (use --create-orgs to add it)" in errors
    exported = cso_bot(tmp_path, "activities", "export")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.strip() == "\ufeff" + HEADER  # the BOM spreadsheets need


def test_export_then_import_again(
    imported: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    out = imported / "export.csv"
    result = cso_bot(imported, "activities", "export", "--out", str(out))
    assert result.returncode == 0, result.stderr
    exported = out.read_text(encoding="utf-8")
    assert len(exported.splitlines()) == len(ROWS) + 1

    elsewhere = tmp_path_factory.mktemp("elsewhere")
    again = cso_bot(elsewhere, "activities", "import", str(out), "--create-orgs")
    assert again.returncode == 0, again.stderr
    assert cso_bot(elsewhere, "activities", "export").stdout == exported
    assert _report(elsewhere) == _report(imported)
