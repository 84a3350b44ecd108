"""Activity import/export as CSV and the yearly report: services over the database and the plan."""

from __future__ import annotations

import asyncio
import csv
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from db import Database, NewActivity
from db.organisations import OrganisationRepo
from formats.spreadsheet_csv import BOM, CsvFileError, read_rows
from handlers.progress import year_progress
from plan.codes import measures_by_code, normalize_code
from plan.model import Measure, Plan
from plan.plans import Plans
from plan.progress import IndicatorProgress
from plan.report import report_dict
from plan.validation import (
    MAX_TITLE,
    InputError,
    clean_text,
    parse_date,
    parse_participants,
    parse_quantity,
    read_date,
    valid_edrpou,
)

COLUMNS: tuple[str, ...] = (
    "organization",
    "measure",
    "indicator",
    "date",
    "quantity",
    "cso_participants",
    "council_participants",
    "title",
    "evidence_url",
)

# The same columns as a person may name them in Ukrainian; matched without regard to case.
COLUMNS_UK: dict[str, str] = {
    "organization": "Організація",
    "measure": "Захід",
    "indicator": "Показник",
    "date": "Дата",
    "quantity": "Кількість",
    "cso_participants": "Учасників від ІГС",
    "council_participants": "Учасників від ради",
    "title": "Назва",
    "evidence_url": "Підтвердження",
}
_HEADER_NAMES = {
    **{name.casefold(): name for name in COLUMNS},
    **{uk.casefold(): name for name, uk in COLUMNS_UK.items()},
}


class ActivityImportError(Exception):
    """The file cannot be imported; errors are 'line N: what is wrong', in file order."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


class ReportYearError(ValueError):
    """A report was asked for a year the plan does not cover."""


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    organisation: str
    activity: NewActivity  # organisation_id is filled in at insert time


def _measure(plan: Plan, raw: str) -> tuple[Measure | None, str | None]:
    code = normalize_code(raw)
    if not code:
        return None, "measure is required"
    printed = measures_by_code(plan, code)
    if len(printed) == 1:
        return printed[0], None
    if len(printed) > 1:
        choices = ", ".join(m.code for m in printed)
        return None, f"measure {code} is printed more than once in the plan: use one of {choices}"
    return None, f"unknown measure {raw.strip()!r}"


def _participants(name: str, raw: str, errors: list[str]) -> int | None:
    if raw == "":
        return None
    try:
        return parse_participants(raw)
    except InputError:
        errors.append(f"{name} must be empty or a non-negative whole number, got {raw!r}")
        return None


def _date_problem(raw: str, error: InputError, plans: Plans) -> str:
    if error.reason == "date_future":
        return f"date {raw} is in the future"
    if error.reason == "date_outside_plan":
        # No loaded plan runs then: name every period that is open.
        many = "s" if len(plans.all) > 1 else ""
        return f"date {raw} is outside the plan period{many} {plans.periods(iso=True)}"
    return f"date {raw!r} is not a real date (YYYY-MM-DD or DD.MM.YYYY)"


def _quantity_problem(raw: str, error: InputError) -> str:
    if error.reason == "too_large":
        return f"quantity {raw} is more than {error.details['maximum']:,}".replace(",", " ")
    return f"quantity must be a positive whole number, got {raw!r}"


def _check_row(
    plans: Plans, fields: dict[str, str], today: date
) -> tuple[NewActivity | None, list[str]]:
    plan = _plan_of(plans, fields["date"])
    errors: list[str] = []
    measure, problem = _measure(plan, fields["measure"])
    if problem:
        errors.append(problem)
    indicator_id = fields["indicator"]
    if measure is not None:
        ids = [i.id for i in measure.indicators]
        if indicator_id == "":
            if len(ids) == 1:
                indicator_id = ids[0]
            else:
                errors.append(
                    f"measure {measure.code} has several indicators: name one of {', '.join(ids)}"
                )
        elif indicator_id not in ids:
            errors.append(
                f"indicator {indicator_id!r} is not one of measure {measure.code}: "
                f"{', '.join(ids)}"
            )
    raw_date = fields["date"]
    day: date | None = None
    try:
        day = parse_date(raw_date, plan, today)
    except InputError as e:
        errors.append(_date_problem(raw_date, e, plans))
    raw_quantity = fields["quantity"]
    quantity = 0
    try:
        quantity = parse_quantity(raw_quantity)
    except InputError as e:
        errors.append(_quantity_problem(raw_quantity, e))
    cso = _participants("cso_participants", fields["cso_participants"], errors)
    council = _participants("council_participants", fields["council_participants"], errors)
    title = fields["title"]
    try:
        title = clean_text(title, limit=MAX_TITLE)
    except InputError as e:
        errors.append(
            "title is required"
            if e.reason == "empty"
            else f"title is {e.details['length']} characters long, more than {MAX_TITLE}"
        )
    if errors or measure is None or day is None:
        return None, errors
    return (
        NewActivity(
            plan_id=plan.id,
            indicator_id=indicator_id,
            measure_code=measure.code,
            organisation_id=0,
            date=day,
            quantity=quantity,
            title=title,
            cso_participants=cso,
            council_participants=council,
            evidence_url=fields["evidence_url"] or None,
        ),
        [],
    )


async def import_activities(
    db: Database,
    plan: Plan | Plans,
    csv_path: str | Path,
    create_orgs: bool = False,
    *,
    today: date,
) -> int:
    """Import every row of a CSV file as approved activities, or none of them.

    Every row is checked first; any problem raises ActivityImportError with all of them, and
    nothing is written. Otherwise all rows go in one transaction, each with an audit entry.
    Organisations created with `create_orgs` are verified by the import (the audit entry names
    the file): they never wait among pending registrations. With several plans, each activity
    belongs to the plan whose period covers its date.
    """
    plans = plan if isinstance(plan, Plans) else Plans((plan,))
    path = Path(csv_path)
    try:
        lines = read_rows(await asyncio.to_thread(path.read_bytes))
    except OSError as e:
        raise ActivityImportError([f"{path}: cannot be read ({e.strerror or e})"]) from e
    except CsvFileError as e:
        raise ActivityImportError([f"{path}: cannot be read: {e}"]) from e
    if not lines:
        raise ActivityImportError(["line 1: the file is empty; expected a header"])
    header = [_HEADER_NAMES.get(h.strip().casefold(), h.strip()) for h in lines[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ActivityImportError(
            [
                f"line 1: missing columns: {', '.join(missing)} (expected a CSV file, comma- or "
                f"semicolon-separated, with the columns {', '.join(COLUMNS)} or in Ukrainian "
                f"{', '.join(COLUMNS_UK.values())})"
            ]
        )
    position = {name: header.index(name) for name in COLUMNS}

    errors: list[str] = []
    rows: list[_Row] = []
    organisations: dict[str, str | None] = {}  # as written → error, or None when usable
    async with db.read() as repos:
        for number, cells in enumerate(lines[1:], start=2):
            if not any(c.strip() for c in cells):
                continue
            fields = {
                name: cells[i].strip() if i < len(cells) else "" for name, i in position.items()
            }
            row_errors: list[str] = []
            org = fields["organization"]
            if not org:
                row_errors.append("organization is required")
            else:
                if org.casefold() not in organisations:
                    organisations[org.casefold()] = await _organisation_problem(
                        repos.organisations, org, create_orgs
                    )
                problem = organisations[org.casefold()]
                if problem:
                    row_errors.append(problem)
            activity, problems = _check_row(plans, fields, today)
            row_errors += problems
            errors += [f"line {number}: {e}" for e in row_errors]
            if activity is not None and not row_errors:
                rows.append(_Row(number, org, activity))
    if errors:
        raise ActivityImportError(errors)
    if not rows:
        raise ActivityImportError(["the file has no activities"])

    reason = f"imported from {path.name}"
    async with db.transaction() as repos:
        ids: dict[str, int] = {}
        for row in rows:
            key = row.organisation.casefold()
            if key not in ids:
                found = await repos.organisations.find(row.organisation)
                if found is None:
                    code = row.organisation if _looks_like_code(row.organisation) else None
                    # The import is an operator's act: what it creates is verified by it.
                    found = await repos.organisations.create(
                        row.organisation, edrpou=code, status="verified", reason=reason
                    )
                ids[key] = found.id
            activity = replace(row.activity, organisation_id=ids[key])
            await repos.activities.add_approved(activity, actor=None, reason=reason)
    return len(rows)


def _plan_of(plans: Plans, raw_date: str) -> Plan:
    """The plan covering the row's date; the latest one when none does (its check then says
    which period is open), or when the date cannot be read (its check says so)."""
    try:
        return plans.covering(read_date(raw_date)) or plans.latest
    except InputError:
        return plans.latest


def _looks_like_code(value: str) -> bool:
    return len(value) == 8 and value.isdigit()


async def _organisation_problem(repo: OrganisationRepo, org: str, create_orgs: bool) -> str | None:
    if await repo.find(org) is not None:
        return None
    if _looks_like_code(org) and not valid_edrpou(org):
        return f"organization {org!r} is not a valid ЄДРПОУ code"
    if not create_orgs:
        return f"unknown organization {org!r} (use --create-orgs to add it)"
    return None


async def export_activities(db: Database, plan: Plan | Plans, out: TextIO) -> int:
    """Write the approved activities of the plan (or of every plan) in the import format;
    return how many.

    The text starts with a BOM, so a spreadsheet opens it as UTF-8 and shows the Cyrillic.
    """
    plans = plan if isinstance(plan, Plans) else Plans((plan,))
    async with db.read() as repos:
        rows = [r for p in plans.all for r in await repos.activities.export_rows(p.id)]
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r.organisation,
                r.measure_code,
                r.indicator_id,
                r.date,
                r.quantity,
                _blank(r.cso_participants),
                _blank(r.council_participants),
                r.title,
                r.evidence_url or "",
            ]
        )
    return len(rows)


def _blank(value: int | None) -> str:
    return "" if value is None else str(value)


def check_report_year(plan: Plan, year: int) -> None:
    if year not in plan.years:
        raise ReportYearError(
            f"year {year} is outside the plan period "
            f"{plan.start.isoformat()}..{plan.end.isoformat()}"
        )


async def build_report(db: Database, plan: Plan, year: int, today: date) -> dict[str, Any]:
    """The year's progress report (see plan.report.report_dict for its shape)."""
    progress, waiting = await progress_for(db, plan, year, today)
    return report_dict(plan, year, progress, waiting)


async def progress_for(
    db: Database, plan: Plan, year: int, today: date
) -> tuple[list[IndicatorProgress], int]:
    """The year's progress and the activities waiting for verification, for every rendering."""
    check_report_year(plan, year)
    return await year_progress(db, plan, year, today)
