"""plan/loader.py: the real Annex 4 loads; broken files fail naming file, field and problem."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from plan import PlanError, load_plan
from plan.loader import parse_plan

ROOT = Path(__file__).resolve().parents[1]
ANNEX4 = ROOT / "data" / "annex4.yaml"

Data = dict[str, Any]
Mutation = Callable[[Data], None]


@pytest.fixture(scope="module")
def raw() -> Data:
    with ANNEX4.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture
def write(tmp_path: Path, raw: Data) -> Callable[..., Path]:
    """Write a mutated deep copy of the real plan to tmp_path and return its path."""

    def _write(mutate: Mutation, name: str = "plan.yaml") -> Path:
        data = copy.deepcopy(raw)
        mutate(data)
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        return path

    return _write


def _measures(data: Data) -> list[Data]:
    return [m for d in data["directions"] for t in d["tasks"] for m in t["measures"]]


def _index_of_indicator(data: Data, indicator_id: str) -> int:
    return next(i for i, ind in enumerate(data["indicators"]) if ind["id"] == indicator_id)


def _expect(path: Path, field: str, problem: str) -> PlanError:
    """load_plan(path) fails with a PlanError naming the file, the field path and the problem."""
    with pytest.raises(PlanError) as info:
        load_plan(path)
    error = info.value
    assert error.file == str(path)
    assert error.path == field
    assert problem in error.problem
    message = str(error)
    assert "\n" not in message
    if field:
        assert message == f"{path}: {field}: {error.problem}"
    else:
        assert message == f"{path}: {error.problem}"
    return error


# --- the real plan --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plan():
    return load_plan(ANNEX4)


def test_real_plan_counts(plan) -> None:
    assert len(plan.directions) == 2
    assert len(plan.tasks) == 7
    assert len(plan.measures) == 27
    assert len(plan.indicators) == 44


def test_real_plan_identity_and_period(plan) -> None:
    assert plan.id == "vinnytsia-cso-partnership-2023-2024"
    assert plan.start == date(2023, 1, 1)
    assert plan.end == date(2024, 12, 31)
    assert plan.years == (2023, 2024)
    assert plan.title.strip()


def test_printed_codes_of_task_1_3(plan) -> None:
    m = plan.measure("1.3.1")
    assert m is not None
    assert m.printed_code == "1.4.1"
    assert [m.code for m in plan.by_printed_code("1.4.3")] == ["1.3.3", "1.3.4"]
    # The printed number is not a canonical code.
    assert plan.measure("1.4.1") is None
    # Most measures are printed with their own code.
    assert [m.code for m in plan.by_printed_code("2.1.2")] == ["2.1.2"]


def test_responsible_of_2_2_2_resolves_to_glossary_entries(plan) -> None:
    m = plan.measure("2.2.2")
    assert m is not None
    assert [b.id for b in m.responsible] == ["misto_zmistiv", "cso"]
    bodies = {b.id: b for b in plan.bodies}
    assert m.responsible == (bodies["misto_zmistiv"], bodies["cso"])


def test_every_indicator_belongs_to_its_measure(plan) -> None:
    for m in plan.measures:
        assert m.indicators, m.code
        assert all(i.measure_code == m.code for i in m.indicators)
        assert m.code.startswith(m.task_code + ".")
        assert m.task_code.startswith(m.direction_code + ".")


def test_parse_plan_of_a_round_trip_equals_the_file(raw: Data, plan) -> None:
    # safe_dump/safe_load keeps the data; the tests below rely on that.
    again = parse_plan(yaml.safe_load(yaml.safe_dump(raw, allow_unicode=True)), "copy")
    assert again.measures == plan.measures
    assert again.id == plan.id


# --- invalid plan files ---------------------------------------------------------------------


def test_missing_target_of_a_count_indicator(write, raw: Data) -> None:
    n = next(i for i, ind in enumerate(raw["indicators"]) if ind["kind"] == "count")

    def mutate(d: Data) -> None:
        del d["indicators"][n]["target"]

    _expect(write(mutate), f"indicators[{n}].target", "missing")


def test_unknown_period(write) -> None:
    def mutate(d: Data) -> None:
        d["indicators"][0]["period"] = "weekly"

    error = _expect(write(mutate), "indicators[0].period", "unknown period 'weekly'")
    assert "year" in error.problem and "month" in error.problem


def test_duplicate_measure_code(write) -> None:
    def mutate(d: Data) -> None:
        d["directions"][0]["tasks"][0]["measures"][1]["code"] = "1.1.1"

    error = _expect(
        write(mutate), "directions[0].tasks[0].measures[1].code", "duplicate code '1.1.1'"
    )
    assert "directions[0].tasks[0].measures[0].code" in error.problem


def test_indicator_of_a_measure_that_does_not_exist(write, raw: Data) -> None:
    # 1.1.1 has two indicators: moving its second one away leaves 1.1.1 valid.
    n = _index_of_indicator(raw, "1.1.1-tot")

    def mutate(d: Data) -> None:
        d["indicators"][n]["measure"] = "9.9.9"
        del d["indicators"][n]["part_of"]  # a part of 1.1.1's six cannot leave the measure

    _expect(write(mutate), f"indicators[{n}].measure", "no measure with code '9.9.9'")


def test_unknown_glossary_id_in_responsible(write) -> None:
    def mutate(d: Data) -> None:
        d["directions"][0]["tasks"][0]["measures"][0]["responsible"] = ["irm", "nobody"]

    _expect(
        write(mutate),
        "directions[0].tasks[0].measures[0].responsible[1]",
        "unknown glossary id 'nobody'",
    )


def test_unknown_glossary_id_in_funding(write) -> None:
    def mutate(d: Data) -> None:
        d["directions"][1]["tasks"][0]["measures"][0]["funding"] = ["oligarch"]

    _expect(
        write(mutate),
        "directions[1].tasks[0].measures[0].funding[0]",
        "unknown glossary id 'oligarch'",
    )


def test_measure_with_no_indicators(write) -> None:
    def mutate(d: Data) -> None:
        d["indicators"] = [i for i in d["indicators"] if i["measure"] != "1.1.2"]

    _expect(
        write(mutate), "directions[0].tasks[0].measures[1]", "measure '1.1.2' has no indicators"
    )


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        (0, "must be at least 1, got 0"),
        (-3, "must be at least 1, got -3"),
        ("six", "expected a whole number, got 'six'"),
        (2.5, "expected a whole number, got 2.5"),
        (True, "expected a whole number, got True"),
    ],
)
def test_bad_target(write, target: Any, problem: str) -> None:
    def mutate(d: Data) -> None:
        d["indicators"][0]["target"] = target

    _expect(write(mutate), "indicators[0].target", problem)


def test_float_code_written_unquoted(write) -> None:
    # `code: 1.1` without quotes is a float in YAML 1.1; codes must be quoted text.
    def mutate(d: Data) -> None:
        d["directions"][0]["tasks"][0]["code"] = 1.1

    path = write(mutate)
    assert "code: 1.1\n" in path.read_text(encoding="utf-8")
    _expect(path, "directions[0].tasks[0].code", "expected text, got number 1.1")


def test_int_code_written_unquoted(write) -> None:
    def mutate(d: Data) -> None:
        d["directions"][1]["code"] = 2

    _expect(write(mutate), "directions[1].code", "expected text, got number 2")


def test_float_code_in_the_raw_text(tmp_path: Path) -> None:
    # The same mistake made by hand in the original file.
    text = ANNEX4.read_text(encoding="utf-8").replace('code: "1.2"', "code: 1.2", 1)
    path = tmp_path / "hand-edited.yaml"
    path.write_text(text, encoding="utf-8")
    _expect(path, "directions[0].tasks[1].code", "expected text, got number 1.2")


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "notes.yaml"
    path.write_text("plan: [unclosed, list\nglossary: {\n", encoding="utf-8")
    with pytest.raises(PlanError) as info:
        load_plan(path)
    error = info.value
    assert error.file == str(path)
    assert error.path.startswith("line ")
    assert "is not valid YAML" in error.problem
    assert str(error).startswith(f"{path}: line ")
    assert "\n" not in str(error)


def test_yaml_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    _expect(path, "(top level)", "expected a mapping, got list")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "plan.yaml"
    _expect(path, "", "cannot be read")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    _expect(path, "(top level)", "expected a mapping")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "cp1251.yaml"
    path.write_bytes("plan: {title: План}\n".encode("cp1251"))
    _expect(path, "", "is not UTF-8 text")


def test_end_before_start(write) -> None:
    def mutate(d: Data) -> None:
        d["plan"]["period"]["end"] = date(2022, 12, 31)

    _expect(write(mutate), "plan.period", "ends (2022-12-31) before it starts (2023-01-01)")


def test_missing_section(write) -> None:
    def mutate(d: Data) -> None:
        del d["indicators"]

    _expect(write(mutate), "indicators", "expected a non-empty list")


def test_unknown_kind(write) -> None:
    def mutate(d: Data) -> None:
        d["indicators"][0]["kind"] = "vibe"

    _expect(write(mutate), "indicators[0].kind", "unknown kind 'vibe'")


def test_plan_error_is_a_value_error() -> None:
    error = PlanError("a.yaml", "plan.id", "missing")
    assert isinstance(error, ValueError)
    assert str(error) == "a.yaml: plan.id: missing"
    assert (error.file, error.path, error.problem) == ("a.yaml", "plan.id", "missing")


def test_datetime_instead_of_a_date(write) -> None:
    # Regression: a datetime is a date to isinstance(), and `end < start` then raised TypeError.
    def mutate(d: Data) -> None:
        d["plan"]["period"]["start"] = datetime(2023, 1, 1)

    path = write(mutate)
    assert "start: 2023-01-01 00:00:00" in path.read_text(encoding="utf-8")
    _expect(path, "plan.period.start", "expected a date")


def test_mapping_inside_responsible(write) -> None:
    # Regression: `responsible: [irm, {cso}]` made `ref in glossary` raise TypeError (unhashable).
    def mutate(d: Data) -> None:
        d["directions"][0]["tasks"][0]["measures"][0]["responsible"] = ["irm", {"cso": None}]

    _expect(write(mutate), "directions[0].tasks[0].measures[0].responsible[1]", "glossary id")


# --- another plan of the same schema (what PLAN_FILE points at) -----------------------------


def _next_plan(d: Data) -> None:
    d["plan"]["id"] = "next-2025-2026"
    d["plan"]["title"] = "План реалізації на 2025-2026 рр."
    d["plan"]["period"] = {"start": date(2025, 1, 1), "end": date(2026, 12, 31)}
    task = d["directions"][1]["tasks"][3]
    assert task["code"] == "2.4"
    removed = task["measures"].pop()
    assert removed["code"] == "2.4.4"
    d["indicators"] = [i for i in d["indicators"] if i["measure"] != "2.4.4"]


def test_a_second_plan_file_loads(write, raw: Data) -> None:
    removed_indicators = sum(1 for i in raw["indicators"] if i["measure"] == "2.4.4")
    assert removed_indicators >= 1
    path = write(_next_plan, name="next-2025-2026.yaml")

    plan = load_plan(path)
    assert plan.id == "next-2025-2026"
    assert (plan.start, plan.end) == (date(2025, 1, 1), date(2026, 12, 31))
    assert plan.years == (2025, 2026)
    assert len(plan.directions) == 2
    assert len(plan.tasks) == 7
    assert len(plan.measures) == 26
    assert len(plan.indicators) == 44 - removed_indicators
    assert plan.measure("2.4.4") is None
    assert plan.measure("2.4.3") is not None
    assert [m.code for m in plan.by_printed_code("1.4.3")] == ["1.3.3", "1.3.4"]
    assert all(i.measure_code != "2.4.4" for i in plan.indicators)


def test_a_second_plan_file_through_settings(write, tmp_path: Path) -> None:
    from bot.config import load_settings

    path = write(_next_plan, name="next.yaml")
    settings = load_settings({"PLAN_FILE": str(path)}, dotenv=None)
    assert settings.plan_file == path
    assert load_plan(settings.plan_file).id == "next-2025-2026"


def test_removing_a_measure_but_not_its_indicators_fails(write) -> None:
    def mutate(d: Data) -> None:
        d["directions"][1]["tasks"][3]["measures"].pop()

    with pytest.raises(PlanError) as info:
        load_plan(write(mutate))
    assert info.value.path.startswith("indicators[")
    assert info.value.path.endswith("].measure")
    assert "no measure with code '2.4.4'" in info.value.problem


def test_the_fast_loader_reads_annex4_as_the_safe_one(raw: Data) -> None:
    """plan/loader.py parses with libyaml's loader when PyYAML has it (a start pays ~5 ms, not
    ~40 ms): the data must be what yaml.safe_load gives, the plan the same."""
    from plan.loader import _SafeLoader

    text = ANNEX4.read_text(encoding="utf-8")
    assert yaml.load(text, Loader=_SafeLoader) == raw
    assert load_plan(ANNEX4) == parse_plan(copy.deepcopy(raw), str(ANNEX4))
