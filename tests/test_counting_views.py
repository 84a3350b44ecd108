"""The counting rules carried through the views: the real CLI and the real dispatcher."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiogram.methods import AnswerCallbackQuery, SendMessage

from bot.app import App
from bot.reports import import_activities
from db import NewActivity
from db.activity_reports import ActivityReport
from handlers.organisations import OrgReviewCb
from handlers.report import ReportCb, ReportLevel
from handlers.review_views import ReviewCb
from plan.clock import Clock
from scheduler.newsletter.compose import gather, month_of
from tests.conftest import COORDINATOR_ID, Chat, texts
from tests.test_activity_reports import MEETING, _fill, _pending_ids
from tests.test_cli import cso_bot
from tests.test_cli_report import _write

MEMBER_ID = 100
SECOND_COORDINATOR_ID = 901
PARTNER_ID = 300

ROWS = [
    # 1.1.1 in 2023: five trainings and one ТОТ, which is one of the six ("в т.ч.").
    *(f"ГО Тест,1.1.1,1.1.1-trainings,2023-0{m}-10,1,,,Тренінг {m}," for m in range(1, 6)),
    "ГО Тест,1.1.1,1.1.1-tot,2023-09-01,1,,,ТОТ,",
    # 2.1.3 in 2024: a letter every month but June.
    *(f"ГО Тест,2.1.3,,2024-{m:02d}-10,1,,,Розсилка {m}," for m in range(1, 13) if m != 6),
    # 2.4.4: the 2023 forum had 19 organisations, the 2024 one 20 (and 20 council people).
    "ГО Тест,2.4.4,,2023-10-10,1,19,20,Форум 2023,",
    "ГО Тест,2.4.4,,2024-10-10,1,20,20,Форум 2024,",
]


def _indicator(report: dict[str, Any], indicator_id: str) -> dict[str, Any]:
    return next(i for i in report["indicators"] if i["indicator"] == indicator_id)


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("counting")
    result = cso_bot(
        tmp_path, "activities", "import", str(_write(tmp_path, *ROWS)), "--create-orgs"
    )
    assert result.returncode == 0, result.stderr
    return tmp_path


def _report(tmp_path: Path, year: int) -> dict[str, Any]:
    result = cso_bot(tmp_path, "report", "--format", "json", "--year", str(year))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_cli_a_tot_makes_the_six(imported: Path) -> None:
    report = _report(imported, 2023)
    six = _indicator(report, "1.1.1-trainings")
    tot = _indicator(report, "1.1.1-tot")
    assert (six["actual"], six["target"], six["met"], six["status"]) == (6, 6, True, "achieved")
    assert (tot["actual"], tot["met"], tot["part_of"]) == (1, True, "1.1.1-trainings")
    assert report["awaiting_verification"] == 0  # the import verified what it created


def test_cli_a_year_of_letters_with_a_missing_month(imported: Path) -> None:
    letters = _indicator(_report(imported, 2024), "2.1.3-newsletters")
    assert (letters["months_met"], letters["months_total"]) == (11, 12)
    assert (letters["actual"], letters["met"], letters["status"]) == (11, False, "not_met")
    text = cso_bot(imported, "report", "--year", "2024").stdout
    line = next(x for x in text.splitlines() if " 2.1.3 " in x)
    assert line.startswith("❌ 2.1.3 ") and line.endswith("11 з 12 місяців — не виконано")


def test_cli_a_forum_with_19_and_with_20_organisations(imported: Path) -> None:
    assert _indicator(_report(imported, 2023), "2.4.4-forum")["met"] is False
    assert _indicator(_report(imported, 2024), "2.4.4-forum")["met"] is True


def test_cli_plan_export_gives_part_of_and_units(tmp_path: Path) -> None:
    result = cso_bot(tmp_path, "plan", "export", "--format", "json")
    assert result.returncode == 0, result.stderr
    indicators = {
        i["id"]: i for m in json.loads(result.stdout)["measures"] for i in m["indicators"]
    }
    assert indicators["1.1.1-tot"]["part_of"] == "1.1.1-trainings"
    assert indicators["2.4.4-forum"]["min_participants"] == {"cso": 20, "council": 20}
    assert indicators["2.4.4-forum"]["min_participants_unit"] == {
        "cso": "organisations",
        "council": "people",
    }
    assert indicators["2.1.2-dialogue-meetings"]["min_participants_unit"] == {
        "cso": "people",
        "council": "people",
    }
    assert all("part_of" in i for i in indicators.values())


# --- 4. only what was verified counts, through the dispatcher ---------------------------------


async def test_an_import_verifies_the_organisations_it_creates(
    app: App, coordinator: Chat, tmp_path: Path
) -> None:
    path = _write(tmp_path, ROWS[0], name="spring.csv")
    await import_activities(app.db, app.plan, path, create_orgs=True, today=date(2025, 1, 1))
    async with app.db.read() as repo:
        org = await repo.organisations.find("ГО Тест")
        assert org is not None and org.status == "verified"
        assert await repo.organisations.pending() == []
        reasons = await repo.conn.execute_fetchall(
            "SELECT action, reason FROM audit_log WHERE entity = 'organisation'"
        )
    assert [tuple(r) for r in reasons] == [("create", "imported from spring.csv")]
    # Listed among the verified organisations, never as a registration waiting for a decision.
    listed = texts(await coordinator.send("/organisations"))
    assert "• <b>ГО Тест</b>" in listed
    assert "Нічого не очікує" in listed


async def test_a_pending_organisation_counts_once_verified(app: App, coordinator: Chat) -> None:
    async with app.db.transaction() as repo:
        org = await repo.organisations.register(
            "ГО Нова", edrpou="14360570", contact="+380671234567", contact_person="Іра",
            areas=["1"], registered_by=MEMBER_ID,
        )  # fmt: skip
        await repo.activities.add_approved(
            NewActivity(
                plan_id=app.plan.id, indicator_id="1.1.2-forum", measure_code="1.1.2",
                organisation_id=org.id, date=date(2024, 5, 5), quantity=1, title="Форум",
            )
        )  # fmt: skip
    text = texts(await coordinator.send("/report"))
    assert "Виконано показників: <b>0 з 44</b>" in text
    assert "чекають на верифікацію своєї організації: 1" in text

    assert "ГО Нова" in texts(await coordinator.send("/organisations"))
    decided = await coordinator.press(
        coordinator.keyboard()[0], OrgReviewCb(kind="org", action="approve", org=org.id).pack()
    )
    assert "ГО Нова" in texts(decided)
    text = texts(await coordinator.send("/report"))
    assert "Виконано показників: <b>1 з 44</b>" in text
    assert "верифікацію" not in text


# --- 5. four eyes -------------------------------------------------------------------------------


async def _organisation(app: App, name: str, *members: int, edrpou: str | None = None) -> int:
    async with app.db.transaction() as repo:
        org = await repo.organisations.create(name, edrpou=edrpou, status="verified")
        for member in members:
            await repo.memberships.request(member, org.id, approved=True)
    return org.id


async def _submit(app: App, organisation_id: int, reporter: int, title: str) -> int:
    async with app.db.transaction() as repo:
        return await repo.reports.submit(
            ActivityReport(
                id=None, plan_id=app.plan.id, indicator_id="1.1.2-forum", measure_code="1.1.2",
                organisation_id=organisation_id, reported_by=reporter, date=date(2024, 4, 4),
                quantity=1, title=title,
            )
        )  # fmt: skip


def _alerts(sent: list[Any]) -> str:
    return "\n".join(str(r.text) for r in sent if isinstance(r, AnswerCallbackQuery) and r.text)


def _to(sent: list[Any], chat_id: int) -> str:
    return "\n".join(r.text for r in sent if isinstance(r, SendMessage) and r.chat_id == chat_id)


async def test_a_coordinator_never_decides_on_their_own_organisation(
    app: App, coordinator: Chat
) -> None:
    await _organisation(app, "ГО «Рух»", MEMBER_ID, COORDINATOR_ID)
    async with app.db.transaction() as repo:
        await repo.coordinators.add(SECOND_COORDINATOR_ID, actor=COORDINATOR_ID)
    member = Chat(app, MEMBER_ID)
    await _fill(member, MEETING)
    sent = await member.tap("Надіслати")
    # The announcement goes to the other coordinator only.
    assert "Новий звіт" in _to(sent, SECOND_COORDINATOR_ID)
    assert "Новий звіт" not in _to(sent, COORDINATOR_ID)
    (report_id,) = await _pending_ids(app)

    # The member-coordinator is refused, and nothing changes.
    refused = await coordinator.press(0, ReviewCb(action="approve", activity_id=report_id).pack())
    assert "від вашої організації" in _alerts(refused)
    async with app.db.read() as repo:
        record = await repo.reports.get(report_id)
    assert record is not None and record.status == "submitted"
    pending = texts(await coordinator.send("/pending"))
    assert "Звітів вашої організації, які чекають на іншого координатора: 1" in pending
    assert "Звіт №" not in pending

    # The other coordinator decides it.
    other = Chat(app, SECOND_COORDINATOR_ID)
    assert f"Звіт №{report_id}" in texts(await other.send("/pending"))
    approved = await other.press(0, ReviewCb(action="approve", activity_id=report_id).pack())
    assert "схвалено" in texts(approved)
    async with app.db.read() as repo:
        record = await repo.reports.get(report_id)
    assert record is not None and record.status == "approved"


async def test_with_no_other_coordinator_the_report_waits_and_says_why(
    app: App, coordinator: Chat
) -> None:
    await _organisation(app, "ГО «Рух»", MEMBER_ID, COORDINATOR_ID)
    member = Chat(app, MEMBER_ID)
    await _fill(member, MEETING)
    sent = await member.tap("Надіслати")
    told = _to(sent, COORDINATOR_ID)
    assert "Новий звіт" not in told
    assert "чекає на розгляд" in told and "/coordinators" in told
    assert len(await _pending_ids(app)) == 1


# --- 6. joint activities ------------------------------------------------------------------------


async def test_a_joint_activity_is_credited_to_both(app: App, coordinator: Chat) -> None:
    first_org = await _organisation(app, "ГО Перша", MEMBER_ID)
    second_org = await _organisation(app, "ГО Друга", PARTNER_ID)
    original = await _submit(app, first_org, MEMBER_ID, "Спільний форум")
    duplicate = await _submit(app, second_org, PARTNER_ID, "Спільний форум (звіт партнера)")
    async with app.db.transaction() as repo:
        assert await repo.reports.decide(original, "approve", actor=COORDINATOR_ID)
    await coordinator.press(0, ReviewCb(action="duplicate", activity_id=duplicate).pack())
    await coordinator.send(str(original))

    await coordinator.send("/report")
    sent = await coordinator.press(
        coordinator.keyboard()[0],
        ReportCb(level=ReportLevel.measure, year=2024, code="1.1.2").pack(),
    )
    text = texts(sent)
    assert "Факт/план: 1/1 — виконано" in text
    assert "<i>ГО Перша, ГО Друга</i>" in text
    async with app.db.read() as repo:
        (row,) = await repo.activities.export_rows(app.plan.id)
    assert row.organisations == ("ГО Перша", "ГО Друга")


# --- 8. no anachronisms -------------------------------------------------------------------------


async def test_a_past_month_knows_nothing_of_later(app: App, clock: Clock) -> None:
    org = await _organisation(app, "ГО Тест")
    async with app.db.transaction() as repo:
        await repo.activities.add_approved(
            NewActivity(
                plan_id=app.plan.id, indicator_id="1.1.2-forum", measure_code="1.1.2",
                organisation_id=org, date=date(2024, 9, 9), quantity=1, title="Форум",
            )
        )  # fmt: skip
        from db.projects import NewProject

        await repo.projects.add(
            NewProject(
                title="Проєкт 2026", organisations="ГО Тест", measures=("2.1.3",),
                description="", link=None, active_until=date(2027, 1, 1), added_by=1,
            )
        )  # fmt: skip
    # Previewed today, long after: May 2024 knows neither the September forum nor the project
    # added today; September 2024 knows the forum, still not the project; this month knows it.
    tz, now = app.settings.timezone, clock.now()
    may = await gather(app.db, app.plan, "2024-05", now, tz)
    assert may.projects == () and may.results == ()
    september = await gather(app.db, app.plan, "2024-09", now, tz)
    assert [r.indicator_id for r in september.results] == ["1.1.2-forum"]
    assert september.projects == ()
    current = await gather(app.db, app.plan, month_of(now, tz), now, tz)
    assert [p.title for p in current.projects] == ["Проєкт 2026"]


# --- 3. the forum's threshold in organisations, through the dialog ----------------------------


def _forum(organisations: str, day: str) -> list[str | tuple[str, str]]:
    return [
        "/activity", "2.4.4", day, "Міський форум ІГС", ("tap", "Пропустити"),
        ("tap", "1"), organisations, "20", ("tap", "Пропустити"), ("tap", "Пропустити"),
    ]  # fmt: skip


@pytest.mark.parametrize(("organisations", "met"), [("19", False), ("20", True)])
async def test_a_forum_is_reported_in_organisations(
    app: App, coordinator: Chat, organisations: str, met: bool
) -> None:
    await _organisation(app, "ГО «Рух»", MEMBER_ID)
    member = Chat(app, MEMBER_ID)
    asked = await _fill(member, _forum(organisations, "10.10.2024")[:6])
    assert "Скільки ІГС (організацій) взяли участь? (План вимагає щонайменше 20.)" in texts(asked)
    await _fill(member, _forum(organisations, "10.10.2024")[6:])
    sent = await member.tap("Надіслати")
    assert f"ІГС (організацій) {organisations}, ВМР 20" in _to(sent, COORDINATOR_ID)
    (report_id,) = await _pending_ids(app)
    await coordinator.press(1, ReviewCb(action="approve", activity_id=report_id).pack())
    await coordinator.send("/report")
    sent = await coordinator.press(
        coordinator.keyboard()[0],
        ReportCb(level=ReportLevel.measure, year=2024, code="2.4.4").pack(),
    )
    assert ("Факт/план: 1/1 — виконано" in texts(sent)) is met
    assert ("Факт/план: 0/1 — не виконано" in texts(sent)) is not met
