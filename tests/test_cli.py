"""The `cso-bot` console script, run for real as a subprocess."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ANNEX4 = ROOT / "data" / "annex4.yaml"
SETTINGS = (
    "BOT_TOKEN",
    "TELEGRAM_API_URL",
    "DATABASE_PATH",
    "PLAN_FILE",
    "COORDINATOR_IDS",
    "TIMEZONE",
    "LOG_LEVEL",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "WEBHOOK_HOST",
    "WEBHOOK_PORT",
    "WEB_HOST",
    "WEB_PORT",
    "WEB_PUBLIC_URL",
)
# Light commands answer in well under a second; `run` imports aiogram first (a few seconds).
TIMEOUT = 60


def _env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    # Set every setting, blank meaning unset: the environment wins over a developer's .env.
    env.update(dict.fromkeys(SETTINGS, ""))
    env["DATABASE_PATH"] = str(tmp_path / "var" / "bot.sqlite3")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(overrides)
    return env


def cso_bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT,
        env=_env(tmp_path, **env),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        check=False,
    )


def _stderr_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a failing command prints, with no traceback."""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def _broken_plan(tmp_path: Path, name: str = "broken.yaml") -> Path:
    data = yaml.safe_load(ANNEX4.read_text(encoding="utf-8"))
    data["indicators"][0]["period"] = "weekly"
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


# --- plan export ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp_path = tmp_path_factory.mktemp("export")
    result = cso_bot(tmp_path, "plan", "export", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    # Exporting the plan needs no database.
    assert not (tmp_path / "var").exists()
    return json.loads(result.stdout)


MEASURE_KEYS = {
    "code",
    "printed_code",
    "direction",
    "task",
    "title",
    "keywords_en",
    "responsible",
    "term",
    "funding",
    "expected_results",
    "indicators",
}
INDICATOR_KEYS = {
    "id",
    "kind",
    "target",
    "period",
    "unit",
    "description",
    "min_participants",
    "min_participants_unit",  # the unit each threshold is in (issue: counting rules)
    "part_of",  # "в т.ч.": the indicator this one is part of, or null
}


def test_export_plan_header(exported: dict[str, Any]) -> None:
    assert {"plan", "measures"} <= set(exported)
    plan = exported["plan"]
    assert {"id", "title", "period"} <= set(plan)
    assert plan["id"] == "vinnytsia-cso-partnership-2023-2024"
    assert isinstance(plan["title"], str) and plan["title"]
    assert plan["period"] == {"start": "2023-01-01", "end": "2024-12-31"}


def test_export_shape_of_every_measure(exported: dict[str, Any]) -> None:
    measures = exported["measures"]
    assert isinstance(measures, list)
    assert len(measures) == 27
    assert len({m["code"] for m in measures}) == 27
    count = 0
    for m in measures:
        assert set(m) == MEASURE_KEYS, m["code"]
        for key in ("code", "printed_code", "direction", "task", "title", "term"):
            assert isinstance(m[key], str) and m[key], (m["code"], key)
        assert isinstance(m["expected_results"], str) and m["expected_results"]
        assert m["code"].startswith(m["task"] + ".")
        assert m["task"].startswith(m["direction"] + ".")
        for key in ("responsible", "funding"):
            assert isinstance(m[key], list) and m[key], (m["code"], key)
            assert all(isinstance(name, str) and name for name in m[key])
        assert isinstance(m["indicators"], list) and m["indicators"], m["code"]
        for ind in m["indicators"]:
            count += 1
            assert set(ind) == INDICATOR_KEYS, ind
            assert isinstance(ind["id"], str) and ind["id"]
            assert ind["kind"] in ("count", "milestone")
            assert isinstance(ind["target"], int) and not isinstance(ind["target"], bool)
            assert ind["target"] >= 1
            assert ind["period"] in ("year", "month", "plan")
            assert isinstance(ind["unit"], str)
            assert isinstance(ind["description"], str) and ind["description"]
            minimum = ind["min_participants"]
            assert minimum is None or (
                set(minimum) == {"cso", "council"}
                and all(isinstance(v, int) for v in minimum.values())
            )
            if ind["kind"] == "milestone":
                assert (ind["target"], ind["period"]) == (1, "plan")
    assert count == 44


def test_export_values(exported: dict[str, Any]) -> None:
    by_code = {m["code"]: m for m in exported["measures"]}
    assert by_code["1.3.1"]["printed_code"] == "1.4.1"
    assert [c for c, m in by_code.items() if m["printed_code"] == "1.4.3"] == ["1.3.3", "1.3.4"]
    assert by_code["1.3.1"]["task"] == "1.3"
    assert by_code["1.3.1"]["direction"] == "1"

    minimums = [i["min_participants"] for i in by_code["2.1.2"]["indicators"]]
    assert {"cso": 5, "council": 1} in minimums

    # Full names, not glossary ids.
    assert "КП «Інститут розвитку міст»" in by_code["1.1.1"]["responsible"]
    assert "irm" not in by_code["1.1.1"]["responsible"]
    assert by_code["2.2.2"]["responsible"] == [
        "ГС «Мережа ОГС «Місто змістів»",
        "Інститути громадянського суспільства",
    ]
    assert "Грантові кошти" in by_code["1.1.1"]["funding"]


def test_export_is_utf8_not_escaped(tmp_path: Path) -> None:
    result = cso_bot(tmp_path, "plan", "export")
    assert result.returncode == 0
    assert "Інститут розвитку міст" in result.stdout
    assert "\\u04" not in result.stdout


def test_export_of_another_plan_file(tmp_path: Path) -> None:
    data = yaml.safe_load(ANNEX4.read_text(encoding="utf-8"))
    data["plan"]["id"] = "next-2025-2026"
    data["plan"]["period"] = {"start": date(2025, 1, 1), "end": date(2026, 12, 31)}
    path = tmp_path / "next.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = cso_bot(tmp_path, "plan", "export", PLAN_FILE=str(path))
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)["plan"]
    assert plan["id"] == "next-2025-2026"
    assert plan["period"] == {"start": "2025-01-01", "end": "2026-12-31"}


def test_export_of_a_broken_plan_file(tmp_path: Path) -> None:
    path = _broken_plan(tmp_path)
    result = cso_bot(tmp_path, "plan", "export", PLAN_FILE=str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    line = _stderr_line(result)
    assert str(path) in line and "indicators[0].period" in line


# --- plan check -----------------------------------------------------------------------------


def test_plan_check_of_the_real_plan(tmp_path: Path) -> None:
    result = cso_bot(tmp_path, "plan", "check", "data/annex4.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert "data/annex4.yaml" in out and "OK" in out
    assert "27 measures" in out and "44 indicators" in out


def test_plan_check_of_a_broken_file(tmp_path: Path) -> None:
    path = _broken_plan(tmp_path)
    result = cso_bot(tmp_path, "plan", "check", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    line = _stderr_line(result)
    assert line.startswith(f"cso-bot: {path}: indicators[0].period: ")
    assert "unknown period 'weekly'" in line


def test_plan_check_of_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    result = cso_bot(tmp_path, "plan", "check", str(path))
    assert result.returncode == 2
    line = _stderr_line(result)
    assert str(path) in line and "cannot be read" in line


def test_no_command_is_a_usage_error(tmp_path: Path) -> None:
    result = cso_bot(tmp_path)
    assert result.returncode == 2
    assert "usage: cso-bot" in result.stderr


# --- run ------------------------------------------------------------------------------------


def test_run_without_a_token(tmp_path: Path) -> None:
    result = cso_bot(tmp_path, "run")
    assert result.returncode == 2
    line = _stderr_line(result)
    assert "BOT_TOKEN" in line
    assert "not set" in line
    # It stops before touching the database.
    assert not (tmp_path / "var").exists()


def test_run_with_a_malformed_token(tmp_path: Path) -> None:
    result = cso_bot(tmp_path, "run", BOT_TOKEN="123:abc def")
    assert result.returncode == 2
    assert "abc def" not in result.stderr
    assert "abc def" not in result.stdout
    line = _stderr_line(result)
    assert "BOT_TOKEN" in line and "malformed" in line


def test_run_with_a_bad_setting(tmp_path: Path) -> None:
    result = cso_bot(tmp_path, "run", BOT_TOKEN="123456:TEST", TIMEZONE="Nowhere/Special")
    assert result.returncode == 2
    assert "TIMEZONE" in _stderr_line(result)


def test_run_refuses_an_invalid_plan(tmp_path: Path) -> None:
    # A token that passes validation and an API address nothing listens on: the plan is loaded
    # before any network call, so the bot must stop at the plan, quickly.
    path = _broken_plan(tmp_path, "next.yaml")
    try:
        result = cso_bot(
            tmp_path,
            "run",
            BOT_TOKEN="123456:TEST",
            TELEGRAM_API_URL="http://127.0.0.1:9",
            PLAN_FILE=str(path),
        )
    except subprocess.TimeoutExpired:
        pytest.fail("BUG: `cso-bot run` with an invalid PLAN_FILE did not stop (reached network?)")
    assert result.returncode == 2
    line = _stderr_line(result)
    assert str(path) in line
    assert "indicators[0].period" in line
    assert "123456:TEST" not in result.stderr
    # The plan is checked before the database is opened.
    assert not (tmp_path / "var").exists()


def test_run_refuses_a_newer_database_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "var" / "bot.sqlite3"
    path.parent.mkdir()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    result = cso_bot(
        tmp_path,
        "run",
        BOT_TOKEN="123456:TEST",
        TELEGRAM_API_URL="http://127.0.0.1:9",
        DATABASE_PATH=str(path),
    )
    assert "schema version 99" in result.stderr
    assert result.returncode == 2
    line = _stderr_line(result)
    assert "newer than this bot" in line
