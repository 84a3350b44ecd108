"""Plans that follow one another: Annex 4 (2023-2024) and a next plan (2025-2026) side by side."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app import App, build_app
from bot.config import Secret, Settings
from plan import PlanError
from plan.clock import Clock
from plan.plans import load_plans
from tests.conftest import COORDINATOR_ID, ROOT, Chat, texts
from tests.test_cli import cso_bot
from tests.test_cli_report import _write

ANNEX4 = ROOT / "data" / "annex4.yaml"
NEXT_ID = "next-2025-2026"
ROWS = [
    # 2023 belongs to Annex 4: one training of its six.
    "ГО Тест,1.1.1,1.1.1-trainings,2023-03-01,1,,,Тренінг 2023,",
    # 2025 belongs to the next plan: six trainings, its target met.
    *(f"ГО Тест,1.1.1,1.1.1-trainings,2025-0{m}-10,1,,,Тренінг 2025-{m}," for m in range(1, 7)),
]


def _next_plan(tmp_path: Path, start: str = "2025-01-01", end: str = "2026-12-31") -> Path:
    data = yaml.safe_load(ANNEX4.read_text(encoding="utf-8"))
    data["plan"]["id"] = NEXT_ID
    data["plan"]["period"] = {"start": date.fromisoformat(start), "end": date.fromisoformat(end)}
    path = tmp_path / "next.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _report(tmp_path: Path, plan_file: str, *args: str) -> dict[str, Any]:
    result = cso_bot(tmp_path, "report", "--format", "json", *args, PLAN_FILE=plan_file)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _trainings(report: dict[str, Any]) -> dict[str, Any]:
    return next(i for i in report["indicators"] if i["indicator"] == "1.1.1-trainings")


def test_two_plans_through_the_cli(tmp_path: Path) -> None:
    plan_file = f"{ANNEX4},{_next_plan(tmp_path)}"
    imported = cso_bot(
        tmp_path,
        "activities", "import", str(_write(tmp_path, *ROWS)), "--create-orgs",
        PLAN_FILE=plan_file,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr

    earlier = _report(tmp_path, plan_file, "--year", "2023")
    assert earlier["plan_id"] == "vinnytsia-cso-partnership-2023-2024"
    assert (_trainings(earlier)["actual"], _trainings(earlier)["met"]) == (1, False)
    later = _report(tmp_path, plan_file, "--year", "2025")
    assert later["plan_id"] == NEXT_ID
    assert (_trainings(later)["actual"], _trainings(later)["met"]) == (6, True)
    # With no --year: the current year, which the next plan covers (the clock is past 2025).
    assert _report(tmp_path, plan_file)["plan_id"] == NEXT_ID
    # --plan chooses; with no --year its own default year (Annex 4 is over: its last year).
    chosen = _report(tmp_path, plan_file, "--plan", "vinnytsia-cso-partnership-2023-2024")
    assert (chosen["year"], _trainings(chosen)["actual"]) == (2024, 0)
    # A year outside the chosen plan is refused, naming its period.
    refused = cso_bot(
        tmp_path, "report", "--year", "2025", "--plan", "vinnytsia-cso-partnership-2023-2024",
        PLAN_FILE=plan_file,
    )  # fmt: skip
    assert refused.returncode == 2 and "2023-01-01..2024-12-31" in refused.stderr
    # Every activity of both plans is exported.
    exported = cso_bot(tmp_path, "activities", "export", PLAN_FILE=plan_file)
    assert len(exported.stdout.strip().splitlines()) == 1 + len(ROWS)


def test_help_says_which_year_is_the_default(tmp_path: Path) -> None:
    result = cso_bot(tmp_path, "report", "--help")
    text = " ".join(result.stdout.split())
    assert "the current year if a loaded plan runs in it, else the last year of the latest" in text
    assert "--plan" in text


def test_overlapping_plans_are_a_clear_start_up_error(tmp_path: Path) -> None:
    overlapping = _next_plan(tmp_path, start="2024-07-01")
    with pytest.raises(PlanError, match="overlaps vinnytsia-cso-partnership-2023-2024"):
        load_plans([ANNEX4, overlapping])
    result = cso_bot(tmp_path, "report", PLAN_FILE=f"{ANNEX4},{overlapping}")
    assert result.returncode == 2
    assert "overlaps" in result.stderr and "Traceback" not in result.stderr


def test_one_id_for_two_plans_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load(ANNEX4.read_text(encoding="utf-8"))
    data["plan"]["period"] = {"start": date(2025, 1, 1), "end": date(2026, 12, 31)}
    again = tmp_path / "again.yaml"
    again.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PlanError, match="also the id of"):
        load_plans([ANNEX4, again])


@pytest.fixture
async def two_plans(tmp_path: Path, clock: Clock) -> AsyncIterator[App]:
    settings = Settings(
        bot_token=Secret("123456:TEST-token"),
        database_path=tmp_path / "bot.sqlite3",
        plan_file=Path(f"{ANNEX4},{_next_plan(tmp_path)}"),
        coordinator_ids=frozenset({COORDINATOR_ID}),
    )
    application = await build_app(settings, clock)
    yield application
    await application.close()


async def test_report_in_the_bot_covers_both_plans(two_plans: App, tmp_path: Path) -> None:
    from bot.reports import import_activities

    plans = two_plans.dispatcher["plans"]
    await import_activities(
        two_plans.db, plans, _write(tmp_path, *ROWS), create_orgs=True, today=Clock().today()
    )
    coordinator = Chat(two_plans, COORDINATOR_ID)
    text = texts(await coordinator.send("/report"))
    assert "2026" in text  # the current year, in the next plan
    assert coordinator.buttons()[-4:] == ["2023", "2024", "2025", "• 2026 •"]
    text = texts(await coordinator.tap("2025"))
    assert "Виконано показників: <b>1 з 44</b>" in text  # the six trainings of 2025
    text = texts(await coordinator.tap("2023"))
    assert "Виконано показників: <b>0 з 44</b>" in text  # Annex 4's 2023 stays as it was


async def test_progress_in_the_bot_covers_both_plans(two_plans: App) -> None:
    chat = Chat(two_plans, 100)
    text = texts(await chat.send("/progress"))
    assert "<b>Виконання плану у 2026 році</b>" in text
    assert chat.buttons() == ["2023", "2024", "2025", "• 2026 •"]
    assert "<b>Виконання плану у 2023 році</b>" in texts(await chat.tap("2023"))
