"""data/annex4.yaml checked against the source document (Annex 4 of the decision)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

DATA = Path(__file__).resolve().parents[1] / "data" / "annex4.yaml"
# The shared/ folder sits beside the checkout, both here and in CI.
SOURCE = Path(__file__).resolve().parents[2] / "shared" / "source" / "annex4-decision.txt"

EXPECTED_CODES = [
    "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6",
    "1.2.1", "1.2.2",
    "1.3.1", "1.3.2", "1.3.3", "1.3.4",
    "2.1.1", "2.1.2", "2.1.3", "2.1.4",
    "2.2.1", "2.2.2",
    "2.3.1", "2.3.2", "2.3.3", "2.3.4", "2.3.5",
    "2.4.1", "2.4.2", "2.4.3", "2.4.4",
]  # fmt: skip
EXPECTED_TASKS = ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4"]
INDICATOR_ID = re.compile(r"^[a-z0-9][a-z0-9.\-]{0,31}$")


def _collapse(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    with DATA.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def measures(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for d in data["directions"] for t in d["tasks"] for m in t["measures"]]


@pytest.fixture(scope="module")
def by_code(measures: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {m["code"]: m for m in measures}


@pytest.fixture(scope="module")
def indicators(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for i in data["indicators"]}


@pytest.fixture(scope="module")
def source_lines() -> list[str]:
    if not SOURCE.exists():
        pytest.skip(f"source document not available at {SOURCE}")
    # Annex 4 is lines 27-268 of the document.
    return SOURCE.read_text(encoding="utf-8").splitlines()[26:268]


def test_plan_header(data: dict[str, Any]) -> None:
    plan = data["plan"]
    assert plan["id"] == "vinnytsia-cso-partnership-2023-2024"
    assert plan["title"] == "План реалізації Стратегії партнерства між ІГС та ВМР на 2023-2024 рр."
    assert "№ 386 від 30.04.2021" in plan["decision"]
    assert plan["period"] == {"start": date(2023, 1, 1), "end": date(2024, 12, 31)}


def test_structure_counts_and_codes(data: dict[str, Any], measures: list[dict[str, Any]]) -> None:
    directions = data["directions"]
    assert [d["code"] for d in directions] == ["1", "2"]
    tasks = [t for d in directions for t in d["tasks"]]
    assert [t["code"] for t in tasks] == EXPECTED_TASKS
    assert len(measures) == 27
    assert [m["code"] for m in measures] == EXPECTED_CODES
    for d in directions:
        for t in d["tasks"]:
            assert t["code"].startswith(d["code"] + ".")
            for m in t["measures"]:
                assert m["code"].startswith(t["code"] + ".")


def test_codes_are_strings(data: dict[str, Any], measures: list[dict[str, Any]]) -> None:
    for d in data["directions"]:
        assert isinstance(d["code"], str)
        for t in d["tasks"]:
            assert isinstance(t["code"], str)
    for m in measures:
        assert isinstance(m["code"], str)
        assert isinstance(m["printed_code"], str)
    for i in data["indicators"]:
        assert isinstance(i["measure"], str)


def test_task_1_3_printed_codes(by_code: dict[str, dict[str, Any]]) -> None:
    printed = [by_code[c]["printed_code"] for c in ("1.3.1", "1.3.2", "1.3.3", "1.3.4")]
    assert printed == ["1.4.1", "1.4.2", "1.4.3", "1.4.3"]
    assert by_code["1.3.3"]["title"] == "Реалізація спільних проєктів."
    assert by_code["1.3.4"]["title"] == "Діджиталізація мережі ІГС"
    for code, m in by_code.items():
        if not code.startswith("1.3."):
            assert m["printed_code"] == code


def test_2_2_2_doubled_gs_resolved(by_code: dict[str, dict[str, Any]]) -> None:
    m = by_code["2.2.2"]
    assert m["responsible_printed"] == "ГС ГС «Мережа ОГС «Місто змістів», ІГС"
    assert m["responsible"] == ["misto_zmistiv", "cso"]


def test_2_3_2_trailing_period_is_council_bodies(by_code: dict[str, dict[str, Any]]) -> None:
    m = by_code["2.3.2"]
    assert m["responsible_printed"].endswith("виконавчі органи ВМР.")
    assert m["responsible"] == ["irm", "misto_zmistiv", "council_bodies"]


def test_responsible_and_funding_match_printed(measures: list[dict[str, Any]]) -> None:
    body = {
        "ІРМ": "irm",
        "ГС «Мережа ОГС «Місто змістів»": "misto_zmistiv",
        "ГС ГС «Мережа ОГС «Місто змістів»": "misto_zmistiv",
        "ІГС": "cso",
        "виконавчі органи ВМР": "council_bodies",
        "виконавчі органи ВМР.": "council_bodies",
    }
    fund = {
        "бюджет вінницької мтг": "city_budget",
        "грантові кошти": "grants",
        "не потребує фінансування": "no_funding",
    }
    for m in measures:
        parts = [p.strip() for p in m["responsible_printed"].split(", ")]
        assert m["responsible"] == [body[p] for p in parts], m["code"]
        sources = [p.strip().lower().rstrip(".") for p in m["funding_printed"].split(", ")]
        assert m["funding"] == [fund[s] for s in sources], m["code"]
        assert m["term"] == "2023-2024 рр."


def test_glossary_references_exist(data: dict[str, Any], measures: list[dict[str, Any]]) -> None:
    bodies = [b["id"] for b in data["glossary"]["bodies"]]
    funding = [f["id"] for f in data["glossary"]["funding"]]
    assert len(set(bodies)) == len(bodies)
    assert len(set(funding)) == len(funding)
    assert {"irm", "misto_zmistiv", "cso", "council_bodies"} <= set(bodies)
    assert set(funding) == {"city_budget", "grants", "no_funding"}
    for m in measures:
        assert m["responsible"] and set(m["responsible"]) <= set(bodies), m["code"]
        assert m["funding"] and set(m["funding"]) <= set(funding), m["code"]


def test_indicator_ids_unique_and_measures_exist(
    data: dict[str, Any], by_code: dict[str, dict[str, Any]]
) -> None:
    ids = [i["id"] for i in data["indicators"]]
    assert len(ids) == len(set(ids))
    for ind in data["indicators"]:
        assert INDICATOR_ID.match(ind["id"]), ind["id"]
        assert ind["measure"] in by_code, ind["id"]
        assert ind["id"].startswith(ind["measure"] + "-"), ind["id"]
        assert ind["kind"] in ("count", "milestone"), ind["id"]
        assert ind["description"].strip() and len(ind["description"]) <= 90, ind["id"]
        if ind["kind"] == "count":
            target = ind["target"]
            assert isinstance(target, int) and not isinstance(target, bool), ind["id"]
            assert target >= 1, ind["id"]
            assert ind["period"] in ("year", "month", "plan"), ind["id"]
            assert ind["unit"].strip(), ind["id"]
        else:
            assert not {"target", "period", "unit", "min_participants"} & set(ind), ind["id"]


def test_every_measure_has_an_indicator(
    data: dict[str, Any], measures: list[dict[str, Any]]
) -> None:
    covered = {i["measure"] for i in data["indicators"]}
    assert [m["code"] for m in measures if m["code"] not in covered] == []


def _count(ind: dict[str, Any], target: int, period: str) -> None:
    assert ind["kind"] == "count"
    assert (ind["target"], ind["period"]) == (target, period)


def test_1_1_1_trainings_and_tot(indicators: dict[str, dict[str, Any]]) -> None:
    # "мінімум 6 навчальних заходів на рік, в т.ч. ... ТОТ (тренінг для тренерів 1 раз/рік)"
    trainings = indicators["1.1.1-trainings"]
    assert trainings["measure"] == "1.1.1"
    _count(trainings, 6, "year")
    assert trainings["unit"] == "навчальний захід"
    assert "min_participants" not in trainings
    tot = indicators["1.1.1-tot"]
    assert tot["measure"] == "1.1.1"
    _count(tot, 1, "year")


def test_1_3_1_fair_once_per_plan(indicators: dict[str, dict[str, Any]]) -> None:
    # "1 ярмарок/фестиваль на 2 роки" (measure printed 1.4.1)
    fair = indicators["1.3.1-fair"]
    assert fair["measure"] == "1.3.1"
    _count(fair, 1, "plan")
    _count(indicators["1.3.1-coffee"], 4, "year")
    _count(indicators["1.3.1-mentoring"], 5, "year")


def test_2_1_2_meetings_with_participants(indicators: dict[str, dict[str, Any]]) -> None:
    # "мінімум 4 зустрічі на рік. У кожній зустрічі ... мінімум 5 ... ІГС та 1 ВМР"
    meetings = indicators["2.1.2-dialogue-meetings"]
    assert meetings["measure"] == "2.1.2"
    _count(meetings, 4, "year")
    assert meetings["min_participants"] == {"cso": 5, "council": 1}
    thematic = indicators["2.1.2-thematic-meetings"]
    _count(thematic, 2, "year")
    assert "min_participants" not in thematic
    assert len([i for i in indicators.values() if i["measure"] == "2.1.2"]) == 2


def test_2_1_3_newsletter_monthly(indicators: dict[str, dict[str, Any]]) -> None:
    # "мінімум 1 інформаційний лист щомісяця"
    news = indicators["2.1.3-newsletters"]
    assert news["measure"] == "2.1.3"
    _count(news, 1, "month")
    assert news["unit"] == "інформаційний лист"


def test_2_2_1_experts_per_year(indicators: dict[str, dict[str, Any]]) -> None:
    # "Залучено мінімум 20 представників/-ць ІГС на рік."
    experts = indicators["2.2.1-experts"]
    assert experts["measure"] == "2.2.1"
    _count(experts, 20, "year")


def test_2_3_2_concept_and_offices(indicators: dict[str, dict[str, Any]]) -> None:
    # "Розроблена концепція «Офісу взаємодії»" / "Відкрито як мінімум 3 офіси взаємодії"
    concept = indicators["2.3.2-concept"]
    assert (concept["measure"], concept["kind"]) == ("2.3.2", "milestone")
    assert "Офісу взаємодії" in concept["description"]
    offices = indicators["2.3.2-offices"]
    assert offices["measure"] == "2.3.2"
    _count(offices, 3, "plan")


def test_2_4_4_forum_with_participants(indicators: dict[str, dict[str, Any]]) -> None:
    # "Проведено 1 форум в рік. У форумі взяло участь мінімум 20 ІГС та 20 ... ВМР."
    forum = indicators["2.4.4-forum"]
    assert forum["measure"] == "2.4.4"
    _count(forum, 1, "year")
    assert forum["min_participants"] == {"cso": 20, "council": 20}
    assert [i["id"] for i in indicators.values() if i["measure"] == "2.4.4"] == ["2.4.4-forum"]


def test_milestones_and_other_counts(indicators: dict[str, dict[str, Any]]) -> None:
    for ind_id in ("1.3.4-platform", "2.1.1-recommendations", "2.4.3-regulations"):
        assert indicators[ind_id]["kind"] == "milestone", ind_id
    _count(indicators["1.1.2-forum"], 1, "year")
    _count(indicators["1.1.3-school"], 1, "year")
    _count(indicators["1.1.4-survey"], 1, "year")
    _count(indicators["1.1.5-expert-trainings"], 6, "plan")
    _count(indicators["1.1.6-vouchers"], 4, "plan")
    _count(indicators["1.3.2-project-wednesday"], 10, "plan")
    _count(indicators["1.3.3-joint-projects"], 5, "year")
    _count(indicators["2.1.4-joint-trainings"], 4, "year")
    _count(indicators["2.2.2-policies"], 3, "plan")
    _count(indicators["2.4.1-contests"], 1, "year")
    _count(indicators["2.4.1-funded-projects"], 10, "plan")


def test_expected_results_verbatim(
    measures: list[dict[str, Any]], source_lines: list[str]
) -> None:
    document = _collapse("\n".join(source_lines))
    for m in measures:
        text = m["expected_results"]
        assert text == text.strip(), m["code"]
        assert all(line == line.strip() and line for line in text.split("\n")), m["code"]
        assert _collapse(text) in document, m["code"]


def test_titles_and_cells_verbatim(
    data: dict[str, Any], measures: list[dict[str, Any]], source_lines: list[str]
) -> None:
    printed = {line.strip() for line in source_lines}
    for d in data["directions"]:
        assert f"Стратегічний напрям {d['code']}. {d['title']}" in printed, d["code"]
        for t in d["tasks"]:
            heading = {f"Завдання {t['code']}. {t['title']}", f"Завдання {t['code']} {t['title']}"}
            assert heading & printed, t["code"]
    for m in measures:
        for key in ("printed_code", "title", "responsible_printed", "term", "funding_printed"):
            assert m[key] in printed, (m["code"], key)


def test_measures_in_printed_order(
    measures: list[dict[str, Any]], source_lines: list[str]
) -> None:
    # Each measure's printed number is followed, on the next line, by its title.
    stripped = [line.strip() for line in source_lines]
    pairs = [
        (stripped[i], stripped[i + 1])
        for i, line in enumerate(source_lines[:-1])
        if line.startswith("\t") and re.fullmatch(r"\d\.\d\.\d", stripped[i])
    ]
    assert pairs == [(m["printed_code"], m["title"]) for m in measures]
