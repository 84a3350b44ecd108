"""CSV as spreadsheets save it: BOM on every file written; semicolons, cp1251 and Ukrainian
column names on import; one clear line for a file that cannot be read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from formats.spreadsheet_csv import BOM, CsvFileError, decode, read_rows, sniff_delimiter
from tests.test_cli import _stderr_line, cso_bot

UTF8_BOM = b"\xef\xbb\xbf"
ENGLISH = (
    "organization,measure,indicator,date,quantity,cso_participants,council_participants,"
    "title,evidence_url"
)
UKRAINIAN = (
    "Організація;Захід;Показник;Дата;Кількість;Учасників від ІГС;Учасників від ради;"
    "Назва;Підтвердження"
)
ROWS = [
    ("ГО «Світло»", "1.1.1", "1.1.1-trainings", "01.03.2023", "2", "", "", "Тренінг — №1", ""),
    (
        "ГО «Світло»",
        "2.1.2",
        "2.1.2-dialogue-meetings",
        "2024-03-01",
        "1",
        "5",
        "1",
        "Зустріч; друга",
        "",
    ),
]


def _semicolon_file(rows: list[tuple[str, ...]]) -> str:
    lines = [UKRAINIAN]
    for row in rows:
        lines.append(";".join(f'"{c}"' if ";" in c else c for c in row))
    return "\r\n".join(lines) + "\r\n"


def _comma_file(rows: list[tuple[str, ...]]) -> str:
    lines = [ENGLISH]
    for row in rows:
        lines.append(",".join(f'"{c}"' if "," in c or ";" in c else c for c in row))
    return "\n".join(lines) + "\n"


def _report(tmp_path: Path, year: str = "2024") -> dict[str, object]:
    result = cso_bot(tmp_path, "report", "--year", year, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _import(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    result = cso_bot(tmp_path, "activities", "import", str(path), "--create-orgs")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"imported {len(ROWS)} activities"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("excel-uk.csv", _semicolon_file(ROWS).encode("cp1251")),
        ("excel-utf8.csv", UTF8_BOM + _semicolon_file(ROWS).encode("utf-8")),
        ("plain.csv", _semicolon_file(ROWS).encode("utf-8")),
    ],
)
def test_a_spreadsheets_csv_imports_like_the_plain_one(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, name: str, data: bytes
) -> None:
    _import(tmp_path, name, data)
    plain = tmp_path_factory.mktemp("plain")
    _import(plain, "plain.csv", _comma_file(ROWS).encode("utf-8"))
    assert _report(tmp_path) == _report(plain)
    assert _report(tmp_path, "2023") == _report(plain, "2023")
    exported = cso_bot(tmp_path, "activities", "export")
    # The names arrive whole: no mojibake, the quoted semicolon kept inside its cell.
    assert "ГО «Світло»" in exported.stdout and "Зустріч; друга" in exported.stdout


def test_every_csv_written_starts_with_a_bom(tmp_path: Path) -> None:
    _import(tmp_path, "in.csv", _comma_file(ROWS).encode("utf-8"))
    exported = tmp_path / "activities.csv"
    assert cso_bot(tmp_path, "activities", "export", "--out", str(exported)).returncode == 0
    report = tmp_path / "report.csv"
    result = cso_bot(tmp_path, "report", "--year", "2024", "--format", "csv", "--out", str(report))
    assert result.returncode == 0, result.stderr
    for path in (exported, report):
        data = path.read_bytes()
        assert data.startswith(UTF8_BOM), path.name
        assert data.count(UTF8_BOM) == 1
        data[3:].decode("utf-8")  # and UTF-8 throughout
    stdout = cso_bot(tmp_path, "activities", "export").stdout
    assert stdout.startswith(BOM)

    # What was exported imports back, BOM and all, to the same numbers.
    again = tmp_path / "again"
    again.mkdir()
    result = cso_bot(again, "activities", "import", str(exported), "--create-orgs")
    assert result.returncode == 0, result.stderr
    assert _report(again) == _report(tmp_path)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Ünïcödé".encode("utf-16"), "UTF-16"),
        (b"organization,measure\n\xc3\x28\xa0\xa1\x80\x81", "neither UTF-8 nor Windows-1251"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x98", "neither UTF-8 nor Windows-1251"),
        (("Назва;Дата\nЗустріч;2024-01-01\n").encode("cp1251"), "missing columns"),
    ],
)
def test_a_file_it_cannot_read_gets_one_clear_line(
    tmp_path: Path, data: bytes, expected: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    result = cso_bot(tmp_path, "activities", "import", str(path))
    assert result.returncode == 2
    line = _stderr_line(result)
    assert expected in line
    if expected == "missing columns":
        assert "Організація" in line and "organization" in line  # says what it expected


def test_decoding_is_sniffed_not_guessed() -> None:
    assert decode(UTF8_BOM + "Захід".encode()) == "Захід"
    assert decode("Захід №1 — «так»".encode("cp1251")) == "Захід №1 — «так»"
    # Latin-1 accents would decode as cp1251 into nonsense; they are refused instead.
    with pytest.raises(CsvFileError):
        decode("Café, naïve, Ærø".encode("latin-1"))
    assert sniff_delimiter("a;b;c") == ";"
    assert sniff_delimiter("a,b,c") == ","
    assert sniff_delimiter("Назва") == ","
    assert read_rows(b'a;b\n1;"x;y"\n') == [["a", "b"], ["1", "x;y"]]
