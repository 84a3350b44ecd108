"""Annex 4's counting rules as printed, on the real plan, with hand-computed expectations."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from plan import Plan, load_plan
from plan.export import plan_to_dict
from plan.loader import PlanError, parse_plan
from plan.model import cso_participants_unit
from plan.progress import (
    CountedActivity,
    IndicatorProgress,
    awaiting_verification,
    contributing,
    met_pairs,
    newly_met,
    plan_progress,
)
from plan.report import csv_rows, progress_value, report_dict, report_text

DATA = Path(__file__).resolve().parents[1] / "data" / "annex4.yaml"
AFTER_PLAN = date(2025, 6, 1)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(DATA)


def _one(progress: list[IndicatorProgress], indicator_id: str) -> IndicatorProgress:
    return next(p for p in progress if p.indicator.id == indicator_id)


# --- 1. "в т.ч.": the ТОТ is one of the six ---------------------------------------------------


def test_a_tot_counts_for_itself_and_for_the_six(plan: Plan) -> None:
    # 5 trainings and 1 ТОТ in 2023: the six are met, and so is the ТОТ.
    acts = [
        *(CountedActivity("1.1.1-trainings", date(2023, m, 10), id=m) for m in range(1, 6)),
        CountedActivity("1.1.1-tot", date(2023, 9, 1), id=9),
    ]
    progress = plan_progress(plan, acts, 2023, AFTER_PLAN)
    six, tot = _one(progress, "1.1.1-trainings"), _one(progress, "1.1.1-tot")
    assert (six.actual, six.target, six.met, six.counted) == (6, 6, True, 6)
    assert (tot.actual, tot.target, tot.met) == (1, 1, True)
    # The drill-down of the six lists the ТОТ too; the ТОТ's lists only itself.
    assert [a.id for a in contributing(plan, six.indicator, acts, 2023)] == [1, 2, 3, 4, 5, 9]
    assert [a.id for a in contributing(plan, tot.indicator, acts, 2023)] == [9]


def test_five_trainings_without_a_tot_are_not_six(plan: Plan) -> None:
    acts = [CountedActivity("1.1.1-trainings", date(2023, m, 10)) for m in range(1, 6)]
    progress = plan_progress(plan, acts, 2023, AFTER_PLAN)
    assert (_one(progress, "1.1.1-trainings").actual, _one(progress, "1.1.1-tot").actual) == (
        5,
        0,
    )
    assert not _one(progress, "1.1.1-trainings").met


def test_every_part_of_relation_of_the_document(plan: Plan) -> None:
    parts = {i.id: i.part_of for i in plan.indicators if i.part_of is not None}
    assert parts == {"1.1.1-tot": "1.1.1-trainings"}
    exported = {
        i["id"]: i["part_of"] for m in plan_to_dict(plan)["measures"] for i in m["indicators"]
    }
    assert len(exported) == 44
    assert exported["1.1.1-tot"] == "1.1.1-trainings"
    assert exported["1.1.1-trainings"] is None


def _raw() -> dict[str, Any]:
    return yaml.safe_load(DATA.read_text(encoding="utf-8"))


def _indicator(raw: dict[str, Any], indicator_id: str) -> dict[str, Any]:
    return next(i for i in raw["indicators"] if i["id"] == indicator_id)


@pytest.mark.parametrize(
    ("whole", "problem"),
    [
        ("1.1.2-forum", "is not an indicator of measure '1.1.1'"),
        ("nothing", "is not an indicator of measure '1.1.1'"),
        ("1.1.1-tot", "part of itself"),
    ],
)
def test_part_of_is_validated(whole: str, problem: str) -> None:
    raw = _raw()
    _indicator(raw, "1.1.1-tot")["part_of"] = whole
    with pytest.raises(PlanError, match=problem):
        parse_plan(raw)


def test_part_of_cycles_are_refused() -> None:
    raw = _raw()
    _indicator(raw, "1.1.1-trainings")["part_of"] = "1.1.1-tot"
    with pytest.raises(PlanError, match="cycle"):
        parse_plan(raw)


def test_a_milestone_is_no_part() -> None:
    raw = _raw()
    _indicator(raw, "1.1.4-needs-map")["part_of"] = "1.1.4-survey"
    with pytest.raises(PlanError, match="only a count"):
        parse_plan(raw)


# --- 2. monthly promises ------------------------------------------------------------------------


def test_a_year_of_letters_with_a_missing_month(plan: Plan) -> None:
    # Letters in every month of 2024 but June: 11 of 12 months, not met once 2024 is over.
    acts = [CountedActivity("2.1.3-newsletters", date(2024, m, 3)) for m in range(1, 13) if m != 6]
    p = _one(plan_progress(plan, acts, 2024, AFTER_PLAN), "2.1.3-newsletters")
    assert (p.months_met, p.months_total, p.met, p.status) == (11, 12, False, "not_met")
    assert progress_value(p) == "11 з 12 місяців"
    entry = next(i for i in report_dict(plan, 2024, [p])["indicators"])
    assert (entry["months_met"], entry["months_total"]) == (11, 12)
    assert csv_rows(plan, [p])[0][5:] == ["12", "11", "11 з 12 місяців", "not_met"]
    assert "❌ 2.1.3 " in report_text(plan, 2024, [p])


def test_a_running_year_is_measured_against_the_months_elapsed(plan: Plan) -> None:
    # On 15 July 2024, January..June are complete: 6 letters is on schedule, 5 is behind.
    today = date(2024, 7, 15)
    six = [CountedActivity("2.1.3-newsletters", date(2024, m, 3)) for m in range(1, 7)]
    p = _one(plan_progress(plan, six, 2024, today), "2.1.3-newsletters")
    assert (p.months_met, p.months_total, p.status) == (6, 12, "on_track")
    p = _one(plan_progress(plan, six[1:], 2024, today), "2.1.3-newsletters")
    assert (p.months_met, p.status) == (5, "behind")


# --- 3. per-event thresholds in the plan's own unit --------------------------------------------


@pytest.mark.parametrize(("organisations", "met"), [(19, False), (20, True)])
def test_a_forum_needs_twenty_organisations(plan: Plan, organisations: int, met: bool) -> None:
    forum = plan.indicator("2.4.4-forum")
    assert forum is not None and cso_participants_unit(forum) == "organisations"
    acts = [CountedActivity("2.4.4-forum", date(2024, 10, 10), 1, organisations, 20)]
    p = _one(plan_progress(plan, acts, 2024, AFTER_PLAN), "2.4.4-forum")
    assert (p.actual, p.met) == (int(met), met)


def test_units_of_every_threshold(plan: Plan) -> None:
    exported = {
        i["id"]: (i["min_participants"], i["min_participants_unit"])
        for m in plan_to_dict(plan)["measures"]
        for i in m["indicators"]
        if i["min_participants"] is not None
    }
    assert exported == {
        "2.1.2-dialogue-meetings": (
            {"cso": 5, "council": 1},
            {"cso": "people", "council": "people"},
        ),
        "2.4.4-forum": (
            {"cso": 20, "council": 20},
            {"cso": "organisations", "council": "people"},
        ),
    }
    meetings = plan.indicator("2.1.2-dialogue-meetings")
    assert meetings is not None and cso_participants_unit(meetings) == "people"
    trainings = plan.indicator("1.1.1-trainings")
    assert trainings is not None and cso_participants_unit(trainings) is None


def test_an_unknown_unit_is_refused() -> None:
    raw = _raw()
    _indicator(raw, "2.4.4-forum")["min_participants_unit"] = {"cso": "groups"}
    with pytest.raises(PlanError, match="unknown unit 'groups'"):
        parse_plan(raw)


# --- 4. only what was verified counts -----------------------------------------------------------


def test_a_pending_organisations_activity_waits(plan: Plan) -> None:
    pending = CountedActivity("1.1.2-forum", date(2024, 5, 5), verified=False)
    p = _one(plan_progress(plan, [pending], 2024, AFTER_PLAN), "1.1.2-forum")
    assert (p.actual, p.met) == (0, False)
    assert awaiting_verification(plan, [pending]) == 1
    assert contributing(plan, p.indicator, [pending], 2024) == []
    verified = CountedActivity("1.1.2-forum", date(2024, 5, 5))
    assert _one(plan_progress(plan, [verified], 2024, AFTER_PLAN), "1.1.2-forum").met


# --- one newly_met for every announcement ------------------------------------------------------


def test_newly_met_names_the_whole_a_part_completes(plan: Plan) -> None:
    five = [CountedActivity("1.1.1-trainings", date(2023, m, 10), id=m) for m in range(1, 6)]
    tot = CountedActivity("1.1.1-tot", date(2023, 9, 1), id=9)
    before = plan_progress(plan, five, 2023, AFTER_PLAN)
    after = plan_progress(plan, [*five, tot], 2023, AFTER_PLAN)
    reached = newly_met(after, met_pairs(before))
    assert [p.indicator.id for p in reached] == ["1.1.1-trainings", "1.1.1-tot"]
    # What an earlier issue announced is not announced again.
    assert newly_met(after, {("1.1.1-trainings", 2023), ("1.1.1-tot", 2023)}) == []


# --- 7. one vocabulary --------------------------------------------------------------------------


def test_verdicts_for_ended_periods_and_paces_while_running(plan: Plan) -> None:
    three = [CountedActivity("1.1.1-trainings", date(2024, 2, 1), 3)]
    running = _one(plan_progress(plan, three, 2024, date(2024, 7, 1)), "1.1.1-trainings")
    # On 1 July, 182 of 366 days are gone: 6 x 182 // 366 = 2 due, 3 done.
    assert running.status == "on_track"
    ended = _one(plan_progress(plan, three, 2024, AFTER_PLAN), "1.1.1-trainings")
    assert ended.status == "not_met"
    text = report_text(plan, 2024, [ended])
    assert "❌ 1.1.1 " in text and "— не виконано" in text
    assert "✅ виконано ❌ не виконано 🔵 за графіком 🟠 із відставанням ⚪ не розпочато" in text
