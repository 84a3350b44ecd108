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


# --- the current plan and the archive (the clock is past 2025: the next plan runs) ------------

ANNEX4_ID = "vinnytsia-cso-partnership-2023-2024"


def _callback_data(chat: Chat) -> list[str]:
    return [data for _, data in chat.keyboard()[1]]


async def test_plan_serves_the_current_plan_and_offers_the_archive(two_plans: App) -> None:
    chat = Chat(two_plans, 100)
    text = texts(await chat.send("/plan"))
    assert "1 січня 2025 – 31 грудня 2026" in text and "завершився" not in text
    assert "🗄 План 2023–2024 (архів)" in chat.buttons()
    text = texts(await chat.tap("🗄 План 2023–2024"))
    assert "1 січня 2023 – 31 грудня 2024" in text
    assert "Період цього плану завершився 31 грудня 2024" in text and "З архіву" in text
    assert "⬅ Поточний план" in chat.buttons()
    # The archived plan's tree keeps its plan in every button, each under Telegram's 64 bytes.
    await chat.tap("1. ")
    await chat.tap("1.1. ")
    assert all(data.endswith(":0") for data in _callback_data(chat) if data.startswith("p:"))
    text = texts(await chat.tap("1.1.1."))
    assert "План 2023–2024" in text and "Захід 1.1.1" in text
    assert "🗄 1.1.1 у плані 2025–2026" in chat.buttons()
    assert max(len(d.encode()) for d in _callback_data(chat)) <= 64
    text = texts(await chat.tap("🗄 1.1.1 у плані 2025–2026"))
    assert "План 2025–2026" in text and "завершився" not in text
    text = texts(await chat.tap("⬆ План"))
    assert "1 січня 2025 – 31 грудня 2026" in text


async def test_measure_in_a_chosen_plan(two_plans: App) -> None:
    chat = Chat(two_plans, 100)
    text = texts(await chat.send("/measure 1.1.1"))
    assert "План 2025–2026" in text
    text = texts(await chat.send("/measure 1.1.1 2024"))
    assert "План 2023–2024" in text and "завершився 31 грудня 2024" in text
    assert texts(await chat.send(f"/measure {ANNEX4_ID} 1.1.1")) == text
    text = texts(await chat.send("/measure 1.1.1 2030"))
    assert "Жоден завантажений план не діє у 2030" in text
    assert "1 січня 2023 – 31 грудня 2024, 1 січня 2025 – 31 грудня 2026" in text


async def test_search_says_which_plan_it_searched(two_plans: App) -> None:
    chat = Chat(two_plans, 100)
    text = texts(await chat.send("/search форум"))
    assert "Шукали в поточному плані, 2025–2026" in text
    assert "2.4.4" in text


async def test_an_ended_plan_says_when_it_ended(chat: Chat) -> None:
    # One plan loaded (Annex 4) and the clock past it: it is still served, marked as ended.
    text = texts(await chat.send("/plan"))
    assert "Період цього плану завершився 31 грудня 2024" in text
    assert not [b for b in chat.buttons() if "архів" in b]
    assert "Шукали" not in texts(await chat.send("/search форум"))


# --- reports dated where no plan runs ---------------------------------------------------------

MEMBER = 321


async def _member(app: App) -> Chat:
    async with app.db.transaction() as repo:
        org = await repo.organisations.create("ГО «Рух»", edrpou=None, status="verified")
        await repo.memberships.request(MEMBER, org.id, approved=True)
    return Chat(app, MEMBER)


async def test_report_dates_are_checked_against_every_plan(two_plans: App) -> None:
    member = await _member(two_plans)
    await member.send("/activity")
    await member.send("2.1.2")
    await member.tap("Діалогові зустрічі")
    text = texts(await member.send("14.03.2022"))
    assert "Жоден завантажений план не охоплює цей день" in text
    assert "1 січня 2023 – 31 грудня 2024, 1 січня 2025 – 31 грудня 2026" in text
    # A date of the earlier plan is taken, and the report is stored against that plan.
    steps = [
        "14.03.2024", "Зустріч", ("tap", "Пропустити"), ("tap", "1"), "7", "2",
        ("tap", "Пропустити"), "https://example.org/post/1",
    ]  # fmt: skip
    for step in steps:
        await (member.tap(step[1]) if isinstance(step, tuple) else member.send(step))
    await member.tap("Надіслати")
    async with two_plans.db.read() as repo:
        (report,) = await repo.reports.pending()
    assert report.plan_id == ANNEX4_ID


async def test_import_names_every_open_period(tmp_path: Path) -> None:
    plan_file = f"{ANNEX4},{_next_plan(tmp_path)}"
    rows = ["ГО Тест,1.1.1,1.1.1-trainings,2022-12-31,1,,,Тренінг,"]
    result = cso_bot(
        tmp_path, "activities", "import", str(_write(tmp_path, *rows)), "--create-orgs",
        PLAN_FILE=plan_file,
    )  # fmt: skip
    assert result.returncode != 0
    assert (
        "outside the plan periods 2023-01-01..2024-12-31, 2025-01-01..2026-12-31" in result.stderr
    )


# --- the after-event invitation ---------------------------------------------------------------


async def test_no_invitation_for_an_event_no_plan_covers(two_plans: App) -> None:
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from db.events import NewEvent
    from scheduler import reminders

    member = await _member(two_plans)
    moments = {
        "outside": datetime(2022, 6, 1, 10, 0, tzinfo=UTC),
        "inside": datetime(2024, 6, 1, 10, 0, tzinfo=UTC),
    }
    async with two_plans.db.transaction() as repo:
        for title, start in moments.items():
            event = NewEvent(
                title=title, starts_at=start, ends_at=start + timedelta(hours=2), place="Вінниця",
                organiser="ГО «Рух»", organisation_id=None, measures=("2.1.2",), description="",
                capacity=None, status="approved", proposed_by=MEMBER, created_by=MEMBER,
            )  # fmt: skip
            await repo.events.create(event, start - timedelta(days=10))
    planner = two_plans.dispatcher["reminders"]
    runtime = reminders.Runtime(
        two_plans.db, member.bot, two_plans.i18n, ZoneInfo("Europe/Kyiv"), 24, plans=planner.plans
    )
    asked = await reminders.ask_for_reports(runtime, datetime(2025, 1, 1, tzinfo=UTC))
    assert asked == 2
    assert await reminders.ask_for_reports(runtime, datetime(2025, 1, 1, tzinfo=UTC)) == 0
    told = [r for r in member.session.requests if r.__api_method__ == "sendMessage"]
    outside = next(r for r in told if "«outside»" in r.text)
    assert "поза періодами плану" in outside.text and outside.reply_markup is None
    assert "1 січня 2023 – 31 грудня 2024" in outside.text
    inside = next(r for r in told if "«inside»" in r.text)
    assert inside.reply_markup is not None  # the button to report it


# --- the 2.1.3 letters count for the plan running in their month ------------------------------


async def test_a_letter_counts_for_the_plan_of_its_month(two_plans: App) -> None:
    from datetime import UTC, datetime

    issues = two_plans.dispatcher["newsletter"].issues
    async with two_plans.db.transaction() as repo:
        ids = {}
        for month in ("2024-12", "2025-01"):
            ids[month] = await repo.newsletters.create(
                month, ["Лист"], datetime(2024, 11, 28, tzinfo=UTC), intro="", status="sent"
            )
    recorded = {
        month: await issues.record_activity(
            newsletter_id, datetime.fromisoformat(f"{month}-01T10:00+02:00")
        )
        for month, newsletter_id in ids.items()
    }
    async with two_plans.db.read() as repo:
        annex4 = {a.id for a in await repo.activities.counted(ANNEX4_ID)}
        following = {a.id for a in await repo.activities.counted(NEXT_ID)}
    assert recorded["2024-12"] in annex4 and recorded["2024-12"] not in following
    assert recorded["2025-01"] in following and recorded["2025-01"] not in annex4
    # A month's issue is composed from the plan running in that month.
    assert (issues.plan_of("2024-05").id, issues.plan_of("2025-03").id) == (ANNEX4_ID, NEXT_ID)
