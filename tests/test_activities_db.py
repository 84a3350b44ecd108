"""Organisations and activities in the database, the CSV import's checks, and ЄДРПОУ codes."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from bot.reports import ActivityImportError, export_activities, import_activities
from db import Database, IntegrityError, NewActivity
from plan import Plan, load_plan
from plan.progress import CountedActivity
from plan.validation import valid_edrpou

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2025, 6, 1)
HEADER = (
    "organization,measure,indicator,date,quantity,cso_participants,council_participants,"
    "title,evidence_url"
)
GOOD = "ГО Тест,1.1.1,1.1.1-trainings,2023-03-01,2,,,Тренінг,https://example.org/1"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(ROOT / "data" / "annex4.yaml")


def _activity(plan: Plan, org_id: int, **changes: object) -> NewActivity:
    fields: dict[str, object] = {
        "plan_id": plan.id,
        "indicator_id": "1.1.1-trainings",
        "measure_code": "1.1.1",
        "organisation_id": org_id,
        "date": date(2023, 3, 1),
        "quantity": 1,
        "title": "Тренінг",
    }
    fields.update(changes)
    return NewActivity(**fields)  # type: ignore[arg-type]


async def _count(database: Database) -> int:
    async with database.read() as repos:
        return await repos.activities.count()


# --- repositories ---------------------------------------------------------------------------


async def test_organisations_by_name_any_case_and_by_code(database: Database) -> None:
    async with database.transaction() as repos:
        created = await repos.organisations.create("ГО «Світло»", edrpou="14360570")
    async with database.read() as repos:
        assert (await repos.organisations.by_name("го «світло»")) == created
        assert (await repos.organisations.by_edrpou("14360570")) == created
        assert (await repos.organisations.find("14360570")) == created
        assert (await repos.organisations.find("ГО «СВІТЛО»")) == created
        assert await repos.organisations.find("інша") is None
        assert created.status == "pending"
        assert await repos.activities.audit_count("organisation") == 1


async def test_organisation_name_is_unique_whatever_the_case(database: Database) -> None:
    async with database.transaction() as repos:
        await repos.organisations.create("Мережа")
    with pytest.raises(IntegrityError, match=r"(?i)unique"):
        async with database.transaction() as repos:
            await repos.organisations.create("МЕРЕЖА")
    async with database.read() as repos:
        assert await repos.organisations.count() == 1


async def test_counted_takes_only_approved_originals_of_the_plan(
    database: Database, plan: Plan
) -> None:
    async with database.transaction() as repos:
        org = await repos.organisations.create("Мережа")
        first = await repos.activities.add_approved(
            _activity(plan, org.id, cso_participants=5, council_participants=1),
            reason="imported from test.csv",
        )
        copy = await repos.activities.add_approved(_activity(plan, org.id))
        await repos.activities.mark_duplicate(copy, first, actor=900)
        for status in ("draft", "submitted", "returned", "rejected"):
            await repos.activities.add(_activity(plan, org.id), status=status, actor=100)
        await repos.activities.add_approved(_activity(plan, org.id, plan_id="another-plan"))
        await repos.activities.credit(first, org.id)
    async with database.read() as repos:
        counted = await repos.activities.counted(plan.id)
        # The organisation is still pending: its activity is loaded, and the engine will
        # not count it until the organisation is verified.
        assert counted == [
            CountedActivity(
                "1.1.1-trainings", date(2023, 3, 1), 1, 5, 1, id=first, verified=False
            ),
        ]
        assert len(await repos.activities.export_rows(plan.id)) == 1
        assert await repos.activities.count() == 7
        # One entry per activity created, one for the duplicate mark, one for the organisation.
        assert await repos.activities.audit_count("activity") == 8
        assert await repos.activities.audit_count() == 9


async def test_database_refuses_bad_quantity_and_status(database: Database, plan: Plan) -> None:
    async with database.transaction() as repos:
        org = await repos.organisations.create("Мережа")
    with pytest.raises(IntegrityError, match=r"(?i)check"):
        async with database.transaction() as repos:
            await repos.activities.add_approved(_activity(plan, org.id, quantity=0))
    with pytest.raises(ValueError, match="status"):
        async with database.transaction() as repos:
            await repos.activities.add(_activity(plan, org.id), status="done")
    assert await _count(database) == 0


# --- import ---------------------------------------------------------------------------------


def _csv(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "activities.csv"
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    return path


async def _import(database: Database, plan: Plan, path: Path, create: bool = True) -> int:
    return await import_activities(database, plan, path, create, today=TODAY)


async def test_good_import_writes_everything_with_audit(
    database: Database, plan: Plan, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path,
        GOOD,
        "го тест,1.4.1,1.3.1-coffee,05.06.2023,1,,,Кава,",  # printed code, other letter case
        "14360570,2.1.3,,2024-01-15,1,,,Розсилка,",  # one indicator: may be left empty
    )
    assert await _import(database, plan, path) == 3
    async with database.read() as repos:
        counted = await repos.activities.counted(plan.id)
        assert [(a.indicator_id, a.date) for a in counted] == [
            ("1.1.1-trainings", date(2023, 3, 1)),
            ("1.3.1-coffee", date(2023, 6, 5)),
            ("2.1.3-newsletters", date(2024, 1, 15)),
        ]
        assert await repos.organisations.count() == 2
        assert (await repos.organisations.by_edrpou("14360570")) is not None
        assert await repos.activities.audit_count("activity") == 3


async def test_unknown_organisation_without_create_orgs(
    database: Database, plan: Plan, tmp_path: Path
) -> None:
    path = _csv(tmp_path, GOOD)
    with pytest.raises(ActivityImportError) as caught:
        await _import(database, plan, path, create=False)
    assert caught.value.errors == [
        "line 2: unknown organization 'ГО Тест' (use --create-orgs to add it)"
    ]
    assert await _count(database) == 0
    async with database.transaction() as repos:
        await repos.organisations.create("ГО Тест")
    assert await _import(database, plan, path, create=False) == 1


BAD_ROWS = [
    ("ГО Тест,1.1.1,,2023-03-01,1,,,Тренінг,", "measure 1.1.1 has several indicators"),
    ("ГО Тест,1.1.1,1.1.1-trainings,2023-03-01,1,,,Тренінг,", None),
    ("ГО Тест,1.4.3,,2023-03-01,1,,,Тренінг,", "1.4.3 is printed more than once"),
    ("ГО Тест,9.9.9,,2023-03-01,1,,,Тренінг,", "unknown measure '9.9.9'"),
    ("ГО Тест,1.1.1,2.1.3-newsletters,2023-03-01,1,,,Т,", "is not one of measure 1.1.1"),
    ("ГО Тест,2.1.3,,2023-02-30,1,,,Розсилка,", "not a real date"),
    ("ГО Тест,2.1.3,,30.02.2023,1,,,Розсилка,", "not a real date"),
    ("ГО Тест,2.1.3,,2023/03/01,1,,,Розсилка,", "not a real date"),
    ("ГО Тест,2.1.3,,2025-06-02,1,,,Розсилка,", "in the future"),
    ("ГО Тест,2.1.3,,2022-12-31,1,,,Розсилка,", "outside the plan period 2023-01-01..2024-12-31"),
    ("ГО Тест,2.1.3,,2025-01-01,1,,,Розсилка,", "outside the plan period 2023-01-01..2024-12-31"),
    ("ГО Тест,2.1.3,,2023-03-01,0,,,Розсилка,", "quantity must be a positive whole number"),
    ("ГО Тест,2.1.3,,2023-03-01,-3,,,Розсилка,", "quantity must be a positive whole number"),
    ("ГО Тест,2.1.3,,2023-03-01,1.5,,,Розсилка,", "quantity must be a positive whole number"),
    ("ГО Тест,2.1.3,,2023-03-01,два,,,Розсилка,", "quantity must be a positive whole number"),
    ("ГО Тест,2.1.3,,2023-03-01,1000000000,,,Розсилка,", "more than 100 000"),
    ("ГО Тест,2.1.3,,2023-03-01,,,,Розсилка,", "quantity must be a positive whole number"),
    ("ГО Тест,2.1.3,,2023-03-01,1,-1,,Розсилка,", "cso_participants must be empty or"),
    ("ГО Тест,2.1.3,,2023-03-01,1,,п'ять,Розсилка,", "council_participants must be empty or"),
    ("ГО Тест,2.1.3,,2023-03-01,1,,,,", "title is required"),
    ("ГО Тест,2.1.3,,2023-03-01,1,,,{},".format("Т" * 201), "more than 200"),
    (",2.1.3,,2023-03-01,1,,,Розсилка,", "organization is required"),
    ("12345670,2.1.3,,2023-03-01,1,,,Розсилка,", "not a valid ЄДРПОУ code"),
]


@pytest.mark.parametrize(
    ("row", "problem"), [r for r in BAD_ROWS if r[1] is not None], ids=lambda v: str(v)[:40]
)
async def test_a_bad_row_in_the_middle_stops_the_whole_import(
    database: Database, plan: Plan, tmp_path: Path, row: str, problem: str
) -> None:
    path = _csv(tmp_path, GOOD, GOOD, row, GOOD)
    with pytest.raises(ActivityImportError) as caught:
        await _import(database, plan, path)
    errors = caught.value.errors
    assert len(errors) == 1, errors
    assert errors[0].startswith("line 4: "), errors
    assert problem in errors[0]
    assert await _count(database) == 0
    async with database.read() as repos:
        assert await repos.organisations.count() == 0


async def test_every_bad_line_is_reported(database: Database, plan: Plan, tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        GOOD,
        "ГО Тест,2.1.3,,2023-02-30,0,,,Розсилка,",
        "",
        "ГО Тест,1.4.3,,2023-03-01,1,,,,",
    )
    with pytest.raises(ActivityImportError) as caught:
        await _import(database, plan, path)
    lines = [e.split(":", 1)[0] for e in caught.value.errors]
    assert lines == ["line 3", "line 3", "line 5", "line 5"]
    assert await _count(database) == 0


async def test_missing_columns(database: Database, plan: Plan, tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("organization,measure\nГО Тест,1.1.1\n", encoding="utf-8")
    with pytest.raises(ActivityImportError) as caught:
        await _import(database, plan, path)
    assert caught.value.errors[0].startswith("line 1: missing columns: indicator, date")


async def test_export_then_import_round_trip(
    database: Database, plan: Plan, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path,
        GOOD,
        '"ГО ""Лапки, хвости""",2.1.2,2.1.2-dialogue-meetings,2023-05-01,1,5,1,"Зустріч, друга",',
        "ГО Тест,2.1.3,,2024-01-15,1,0,,Розсилка,",
    )
    assert await _import(database, plan, path) == 3
    first = io.StringIO()
    assert await export_activities(database, plan, first) == 3

    again = tmp_path / "again.csv"
    again.write_text(first.getvalue(), encoding="utf-8")
    other = await Database.open(tmp_path / "other.sqlite3")
    try:
        assert await import_activities(other, plan, again, True, today=TODAY) == 3
        second = io.StringIO()
        await export_activities(other, plan, second)
        async with database.read() as a, other.read() as b:
            assert await a.activities.counted(plan.id) == await b.activities.counted(plan.id)
    finally:
        await other.close()
    assert second.getvalue() == first.getvalue()
    assert first.getvalue().splitlines()[0] == "\ufeff" + HEADER  # BOM, then the header


# --- ЄДРПОУ ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "00032129",  # АТ «Ощадбанк»
        "00032106",  # АТ «Укрексімбанк»
        "14360570",  # АТ КБ «ПриватБанк»
        "21560766",  # ПАТ «Укртелеком»
    ],
)
def test_published_edrpou_codes_are_valid(code: str) -> None:
    assert valid_edrpou(code)


def test_a_wrong_check_digit_is_invalid() -> None:
    for code in ("00032128", "14360571", "21560760"):
        assert not valid_edrpou(code)


def test_codes_between_30_and_60_million_use_weights_from_7() -> None:
    # 3000000x: weights 7,1,2,3,4,5,6 give 3*7 = 21 -> 10, retried with 9,3,...: 27 -> 5.
    assert valid_edrpou("30000005")
    assert not valid_edrpou("30000000")
    # Below 30 million the weights start at 1: 2*1 = 2.
    assert valid_edrpou("20000002")
    # 0000281: 2*5 + 8*6 + 1*7 = 65 -> 10; with weights +2: 87 -> 10 again, so the digit is 0.
    assert valid_edrpou("00002810")
    assert not valid_edrpou("00002811")


@pytest.mark.parametrize("code", ["", "1436057", "143605700", "1436057O", "１４３６０５７０"])
def test_malformed_edrpou_codes_are_invalid(code: str) -> None:
    assert not valid_edrpou(code)
