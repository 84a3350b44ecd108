"""Indicator progress (plan/progress.py): hand-computed sums, thresholds and statuses."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plan import load_plan
from plan.model import Direction, Indicator, Measure, MinParticipants, Plan, Task
from plan.progress import (
    STATUSES,
    CountedActivity,
    IndicatorProgress,
    Summary,
    default_report_year,
    indicator_progress,
    plan_progress,
    summarize,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "annex4.yaml"

YEARLY = Indicator("y-trainings", "1.1.1", "count", "6 trainings a year", target=6, period="year")
MONTHLY = Indicator("m-letters", "1.1.1", "count", "a letter a month", target=1, period="month")
TOTAL = Indicator("p-fairs", "1.2.1", "count", "3 fairs in the plan", target=3, period="plan")
MEETINGS = Indicator(
    "t-meetings",
    "2.1.1",
    "count",
    "4 meetings a year, 5 CSOs and 1 council member each",
    target=4,
    period="year",
    min_participants=MinParticipants(cso=5, council=1),
)
MILESTONE = Indicator("s-concept", "2.1.1", "milestone", "a concept adopted")


def _measure(code: str, indicators: tuple[Indicator, ...]) -> Measure:
    direction, task, _ = code.split(".")
    return Measure(
        code=code,
        printed_code=code,
        direction_code=direction,
        task_code=f"{direction}.{task}",
        title=f"Measure {code}",
        responsible=(),
        term="2023-2024",
        funding=(),
        expected_results="",
        indicators=indicators,
    )


def _hand_plan() -> Plan:
    # Direction 1 holds the yearly, monthly and plan-total indicators; direction 2 the
    # threshold one and the milestone, so summarize has two directions to tell apart.
    return Plan(
        id="hand",
        title="Hand-built plan",
        decision="",
        start=date(2023, 1, 1),
        end=date(2024, 12, 31),
        directions=(
            Direction(
                "1",
                "First",
                (
                    Task("1.1", "1", "Task 1.1", (_measure("1.1.1", (YEARLY, MONTHLY)),)),
                    Task("1.2", "1", "Task 1.2", (_measure("1.2.1", (TOTAL,)),)),
                ),
            ),
            Direction(
                "2",
                "Second",
                (Task("2.1", "2", "Task 2.1", (_measure("2.1.1", (MEETINGS, MILESTONE)),)),),
            ),
        ),
        bodies=(),
        funding_sources=(),
    )


PLAN = _hand_plan()
MID_2024 = date(2024, 7, 1)  # day 183 of 366: 182 days of 2024 lie before it
AFTER_PLAN = date(2025, 3, 1)


def act(
    indicator: Indicator, d: date, quantity: int = 1, **participants: int | None
) -> CountedActivity:
    return CountedActivity(indicator.id, d, quantity, **participants)


def progress(
    indicator: Indicator,
    activities: list[CountedActivity],
    year: int,
    today: date = AFTER_PLAN,
    plan: Plan = PLAN,
) -> IndicatorProgress:
    return indicator_progress(plan, indicator, activities, year, today)


@pytest.fixture(scope="module")
def real() -> Plan:
    return load_plan(DATA)


# --- count / year ---------------------------------------------------------------------------


def test_yearly_sums_quantities_per_calendar_year() -> None:
    acts = [
        act(YEARLY, date(2023, 3, 1), 2),
        act(YEARLY, date(2023, 9, 1), 3),
        act(YEARLY, date(2024, 2, 1), 6),
    ]
    # 2023: 2 + 3 = 5 < 6; 2024: 6 >= 6.
    p23 = progress(YEARLY, acts, 2023)
    assert (p23.actual, p23.target, p23.met, p23.counted) == (5, 6, False, 2)
    assert p23.months_met is None
    p24 = progress(YEARLY, acts, 2024)
    assert (p24.actual, p24.met, p24.counted) == (6, True, 1)


def test_yearly_boundary_dates_fall_in_their_own_year() -> None:
    acts = [act(YEARLY, date(2023, 12, 31), 4), act(YEARLY, date(2024, 1, 1), 2)]
    # Dec 31 belongs to 2023 (4), Jan 1 to 2024 (2).
    assert progress(YEARLY, acts, 2023).actual == 4
    assert progress(YEARLY, acts, 2024).actual == 2


def test_activities_outside_the_plan_period_never_count() -> None:
    acts = [
        act(YEARLY, date(2022, 12, 31), 10),
        act(YEARLY, date(2025, 1, 1), 10),
        act(TOTAL, date(2022, 6, 1), 10),
        act(MILESTONE, date(2022, 6, 1)),
        act(YEARLY, date(2023, 1, 1), 1),
    ]
    assert progress(YEARLY, acts, 2023).actual == 1
    assert progress(YEARLY, acts, 2024).actual == 0
    # The plan total starts at plan.start: the 10 from 2022 are not carried in.
    assert progress(TOTAL, acts, 2024).actual == 0
    assert progress(MILESTONE, acts, 2023).met is False


def test_activities_of_other_indicators_are_ignored() -> None:
    acts = [act(MONTHLY, date(2023, 5, 1), 7), CountedActivity("nope", date(2023, 5, 1), 9)]
    p = progress(YEARLY, acts, 2023)
    assert (p.actual, p.counted) == (0, 0)


def test_negative_quantity_is_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        CountedActivity(YEARLY.id, date(2023, 1, 1), -1)


# --- count / month --------------------------------------------------------------------------


def test_monthly_eleven_of_twelve_is_not_met() -> None:
    acts = [act(MONTHLY, date(2023, m, 15)) for m in range(1, 12)]  # January..November
    p = progress(MONTHLY, acts, 2023)
    assert (p.months_met, p.met, p.actual, p.counted) == (11, False, 11, 11)
    assert p.status == "not_met"  # the year is over: a verdict, not a pace


def test_monthly_all_twelve_is_met() -> None:
    acts = [act(MONTHLY, date(2023, m, 1)) for m in range(1, 13)]
    p = progress(MONTHLY, acts, 2023)
    assert (p.months_met, p.met, p.actual) == (12, True, 12)
    assert p.status == "achieved"
    # None of them is in 2024.
    assert progress(MONTHLY, acts, 2024).months_met == 0


def test_monthly_two_letters_in_one_month_do_not_cover_another() -> None:
    # Two letters in March, none in April, one in each other month: 11 + 1 = 12 letters, 11 months.
    acts = [act(MONTHLY, date(2024, m, 10)) for m in range(1, 13) if m != 4]
    acts.append(act(MONTHLY, date(2024, 3, 20)))
    p = progress(MONTHLY, acts, 2024)
    assert (p.actual, p.months_met, p.met) == (12, 11, False)


def test_monthly_boundaries_of_months() -> None:
    # Jan 31 is January, Feb 1 February; Dec 31 2023 is not January 2024.
    acts = [
        act(MONTHLY, date(2023, 12, 31)),
        act(MONTHLY, date(2024, 1, 31)),
        act(MONTHLY, date(2024, 2, 1)),
    ]
    assert progress(MONTHLY, acts, 2024).months_met == 2
    assert progress(MONTHLY, acts, 2023).months_met == 1


# --- count / plan ---------------------------------------------------------------------------


def test_plan_total_is_a_running_total() -> None:
    acts = [
        act(TOTAL, date(2023, 2, 1)),
        act(TOTAL, date(2023, 11, 1)),
        act(TOTAL, date(2024, 5, 1)),
    ]
    # 2023: 2 < 3, not met; 2024: 2 + 1 = 3 >= 3, met.
    p23 = progress(TOTAL, acts, 2023)
    assert (p23.actual, p23.met, p23.counted) == (2, False, 2)
    p24 = progress(TOTAL, acts, 2024)
    assert (p24.actual, p24.met, p24.counted) == (3, True, 3)


# --- min_participants -----------------------------------------------------------------------


def test_thresholds_count_only_events_meeting_both() -> None:
    d = date(2023, 6, 1)
    acts = [
        act(MEETINGS, d, cso_participants=5, council_participants=1),  # counts: 5>=5, 1>=1
        act(MEETINGS, d, cso_participants=30, council_participants=4),  # counts
        act(MEETINGS, d, cso_participants=4, council_participants=1),  # 4 < 5
        act(MEETINGS, d, cso_participants=5, council_participants=0),  # 0 < 1
        act(MEETINGS, d, cso_participants=None, council_participants=1),  # None fails cso 5
        act(MEETINGS, d, cso_participants=5, council_participants=None),  # None fails council 1
        act(MEETINGS, d),  # both unknown
    ]
    p = progress(MEETINGS, acts, 2023)
    assert (p.actual, p.counted, p.met) == (2, 2, False)  # 2 < 4


def test_thresholds_met_with_four_qualifying_meetings() -> None:
    acts = [
        act(MEETINGS, date(2024, m, 1), cso_participants=5, council_participants=1)
        for m in (2, 5, 8, 11)
    ]
    assert progress(MEETINGS, acts, 2024).met is True


def test_a_zero_threshold_accepts_a_missing_count() -> None:
    cso_only = Indicator(
        "cso-only", "2.1.1", "count", "", target=1, period="year",
        min_participants=MinParticipants(cso=5, council=0),
    )  # fmt: skip
    acts = [CountedActivity("cso-only", date(2023, 3, 3), cso_participants=5)]
    assert progress(cso_only, acts, 2023).actual == 1


# --- milestone ------------------------------------------------------------------------------


def test_milestone_is_met_from_the_year_it_is_done() -> None:
    acts = [act(MILESTONE, date(2024, 3, 10)), act(MILESTONE, date(2024, 4, 1))]
    p23 = progress(MILESTONE, acts, 2023)
    assert (p23.actual, p23.target, p23.met, p23.status) == (0, 1, False, "not_started")
    p24 = progress(MILESTONE, acts, 2024)
    assert (p24.actual, p24.target, p24.met, p24.status) == (1, 1, True, "achieved")
    assert p24.counted == 2


def test_milestone_done_early_stays_met() -> None:
    acts = [act(MILESTONE, date(2023, 12, 31))]
    assert progress(MILESTONE, acts, 2023).met is True
    assert progress(MILESTONE, acts, 2024).met is True


# --- statuses -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "status"),
    [
        # 2024-07-01: 182 of 366 days gone; expected = floor(6 * 182 / 366) = floor(2.98) = 2.
        (6, "achieved"),
        (3, "on_track"),
        (2, "on_track"),  # exactly the expected 2
        (1, "behind"),
        (0, "not_started"),
    ],
)
def test_yearly_status_in_the_current_year(quantity: int, status: str) -> None:
    acts = [act(YEARLY, date(2024, 1, 15), quantity)]
    assert progress(YEARLY, acts, 2024, today=MID_2024).status == status


@pytest.mark.parametrize(
    ("months", "status"),
    [
        (range(1, 7), "on_track"),  # Jan..Jun met, 6 complete months before 2024-07-01
        (range(1, 8), "on_track"),  # July already too
        (range(1, 6), "behind"),  # 5 < 6
        (range(0), "not_started"),
    ],
)
def test_monthly_status_in_the_current_year(months: range, status: str) -> None:
    acts = [act(MONTHLY, date(2024, m, 5)) for m in months]
    assert progress(MONTHLY, acts, 2024, today=MID_2024).status == status


def test_monthly_status_counts_met_months_not_letters() -> None:
    # Six letters, all in January: actual 6 but months_met 1 < 6 complete months.
    acts = [act(MONTHLY, date(2024, 1, d)) for d in range(1, 7)]
    p = progress(MONTHLY, acts, 2024, today=MID_2024)
    assert (p.actual, p.months_met, p.status) == (6, 1, "behind")


@pytest.mark.parametrize(
    ("quantity", "status"),
    [
        # 2024-07-01: 365 + 182 = 547 of 731 plan days gone;
        # expected = floor(3 * 547 / 731) = floor(2.24) = 2.
        (2, "on_track"),
        (1, "behind"),
        (3, "achieved"),
        (0, "not_started"),
    ],
)
def test_plan_total_status_in_the_current_year(quantity: int, status: str) -> None:
    acts = [act(TOTAL, date(2023, 5, 5), quantity)]
    assert progress(TOTAL, acts, 2024, today=MID_2024).status == status


@pytest.mark.parametrize(
    ("quantity", "status"),
    [(6, "achieved"), (5, "not_met"), (1, "not_met"), (0, "not_met")],
)
def test_yearly_status_in_a_past_year(quantity: int, status: str) -> None:
    acts = [act(YEARLY, date(2023, 10, 1), quantity)]
    # 2023 is over on 2024-07-01: the whole target of 6 was due.
    assert progress(YEARLY, acts, 2023, today=MID_2024).status == status


def test_plan_total_in_a_past_year_is_judged_at_the_year_close() -> None:
    acts = [act(TOTAL, date(2023, 5, 5))]
    # At the close of 2023, 365 of 731 plan days had gone: expected floor(3 * 365 / 731) = 1.
    assert progress(TOTAL, acts, 2023, today=MID_2024).status == "on_track"
    # After the plan, the close of 2024 is the plan's end: all 3 were due, 1 < 3.
    assert progress(TOTAL, acts, 2024, today=AFTER_PLAN).status == "not_met"


def test_a_year_is_over_when_the_plan_has_ended() -> None:
    short = Plan(
        id="short", title="", decision="", start=date(2023, 1, 1), end=date(2023, 6, 30),
        directions=PLAN.directions, bodies=(), funding_sources=(),
    )  # fmt: skip
    acts = [act(YEARLY, date(2023, 2, 1))]
    # On 2023-09-01 the plan is over, so 2023 is judged whole: 1 of 6 is behind, although
    # floor(6 * 243 / 365) = 3 would be the share of the calendar year.
    p = progress(YEARLY, acts, 2023, today=date(2023, 9, 1), plan=short)
    assert p.status == "not_met"
    # The monthly indicator only has January..June inside that plan.
    letters = [act(MONTHLY, date(2023, m, 1)) for m in range(1, 7)]
    m = progress(MONTHLY, letters, 2023, today=date(2023, 9, 1), plan=short)
    assert (m.months_met, m.met, m.status) == (6, True, "achieved")


def test_future_year_is_not_started_unless_already_met() -> None:
    today = date(2023, 6, 1)
    two = [act(TOTAL, date(2023, 2, 1), 2)]
    three = [act(TOTAL, date(2023, 2, 1), 3)]
    p = progress(TOTAL, two, 2024, today=today)
    assert (p.actual, p.status) == (2, "not_started")
    assert progress(TOTAL, three, 2024, today=today).status == "achieved"
    assert progress(YEARLY, [], 2024, today=today).status == "not_started"


def test_year_outside_the_plan_gives_zero_progress() -> None:
    acts = [act(TOTAL, date(2023, 2, 1), 5), act(MONTHLY, date(2024, 1, 1))]
    p = progress(TOTAL, acts, 2025)
    assert (p.actual, p.met, p.status, p.counted) == (0, False, "not_started", 0)
    assert p.months_met is None
    assert progress(MONTHLY, acts, 2022).months_met == 0


# --- plan_progress, summarize, default_report_year ------------------------------------------


def test_plan_progress_covers_every_indicator_in_plan_order() -> None:
    acts = [act(YEARLY, date(2024, 1, 1), 6), CountedActivity("unknown", date(2024, 1, 1))]
    result = plan_progress(PLAN, acts, 2024, MID_2024)
    assert [p.indicator for p in result] == [YEARLY, MONTHLY, TOTAL, MEETINGS, MILESTONE]
    assert result[0].met is True
    assert all(p.year == 2024 for p in result)


def test_plan_progress_accepts_a_one_shot_iterator() -> None:
    acts = iter([act(YEARLY, date(2024, 1, 1), 2), act(TOTAL, date(2024, 1, 1), 3)])
    result = plan_progress(PLAN, acts, 2024, MID_2024)
    assert [p.actual for p in result] == [2, 0, 3, 0, 0]


def test_summarize_counts_per_direction() -> None:
    acts = [
        act(YEARLY, date(2024, 3, 1), 6),  # direction 1: met
        act(MONTHLY, date(2024, 3, 1)),  # direction 1: 1 month of 12, not met
        act(TOTAL, date(2023, 3, 1), 3),  # direction 1: met (running total)
        act(MEETINGS, date(2024, 3, 1), 4, cso_participants=9, council_participants=2),  # met
        # direction 2: the milestone is not done.
    ]
    result = plan_progress(PLAN, acts, 2024, MID_2024)
    assert summarize(result, PLAN) == {
        "": Summary(met=3, total=5),
        "1": Summary(met=2, total=3),
        "2": Summary(met=1, total=2),
    }
    assert list(summarize(result, PLAN)) == ["", "1", "2"]


def test_summarize_of_nothing_lists_every_direction() -> None:
    assert summarize([], PLAN) == {"": Summary(0, 0), "1": Summary(0, 0), "2": Summary(0, 0)}


def test_summarize_rejects_progress_of_another_plan() -> None:
    stray = Indicator("stray", "9.9.9", "count", "")
    with pytest.raises(ValueError, match=r"9\.9\.9"):
        summarize([progress(stray, [], 2023)], PLAN)


@pytest.mark.parametrize(
    ("today", "year"),
    [
        (date(2023, 5, 1), 2023),
        (date(2024, 12, 31), 2024),
        (date(2026, 11, 26), 2024),  # after the plan: its last year
        (date(2022, 1, 1), 2023),  # before the plan: its first year
    ],
)
def test_default_report_year(today: date, year: int) -> None:
    assert default_report_year(PLAN, today) == year


# --- the real plan --------------------------------------------------------------------------


def test_real_newsletters_monthly(real: Plan) -> None:
    newsletters = real.indicator("2.1.3-newsletters")
    assert newsletters is not None
    acts = [CountedActivity(newsletters.id, date(2023, m, 28)) for m in range(1, 13)]
    # 2024 so far: every month to September except August.
    acts += [CountedActivity(newsletters.id, date(2024, m, 1)) for m in range(1, 10) if m != 8]
    p23 = indicator_progress(real, newsletters, acts, 2023, date(2024, 9, 15))
    assert (p23.months_met, p23.met, p23.status) == (12, True, "achieved")
    # 2024-09-15: 8 complete months (Jan..Aug); met are Jan..Jul (7) and September (1) = 8,
    # and 8 >= 8 is on track although August was missed; the year is not (yet) met.
    p24 = indicator_progress(real, newsletters, acts, 2024, date(2024, 9, 15))
    assert (p24.months_met, p24.met, p24.status) == (8, False, "on_track")
    # October..December follow; August stays missing: 11 of 12 once the year is over.
    acts += [CountedActivity(newsletters.id, date(2024, m, 1)) for m in (10, 11, 12)]
    final = indicator_progress(real, newsletters, acts, 2024, date(2025, 1, 10))
    assert (final.months_met, final.met, final.status) == (11, False, "not_met")


def test_real_dialogue_meetings_thresholds(real: Plan) -> None:
    meetings = real.indicator("2.1.2-dialogue-meetings")
    assert meetings is not None
    assert meetings.min_participants == MinParticipants(cso=5, council=1)
    ok = {"cso_participants": 5, "council_participants": 1}
    acts = [CountedActivity(meetings.id, date(2023, m, 10), **ok) for m in (1, 4, 7)]
    acts.append(CountedActivity(meetings.id, date(2023, 10, 10), cso_participants=4))
    p = indicator_progress(real, meetings, acts, 2023, date(2024, 1, 5))
    assert (p.actual, p.target, p.met, p.status) == (3, 4, False, "not_met")
    acts.append(CountedActivity(meetings.id, date(2023, 12, 31), **ok))
    assert indicator_progress(real, meetings, acts, 2023, date(2024, 1, 5)).met is True


def test_real_fair_plan_total(real: Plan) -> None:
    fair = real.indicator("1.3.1-fair")
    assert fair is not None
    acts = [CountedActivity(fair.id, date(2024, 9, 20))]
    assert indicator_progress(real, fair, acts, 2023, date(2025, 1, 1)).met is False
    assert indicator_progress(real, fair, acts, 2024, date(2025, 1, 1)).met is True


def test_real_plan_progress_and_summary(real: Plan) -> None:
    result = plan_progress(real, [], 2024, date(2024, 7, 1))
    assert [p.indicator.id for p in result] == [i.id for i in real.indicators]
    assert all(p.status == "not_started" and not p.met for p in result)
    summary = summarize(result, real)
    assert summary[""] == Summary(met=0, total=len(real.indicators))
    assert set(summary) == {"", *(d.code for d in real.directions)}
    assert sum(s.total for k, s in summary.items() if k) == summary[""].total


def test_a_large_input_completes(real: Plan) -> None:
    rng = random.Random(4)
    ids = [i.id for i in real.indicators]
    start = date(2022, 10, 1)
    acts = [
        CountedActivity(
            rng.choice(ids),
            start + timedelta(days=rng.randrange(900)),
            rng.randint(1, 3),
            rng.choice([None, rng.randint(0, 30)]),
            rng.choice([None, rng.randint(0, 30)]),
        )
        for _ in range(100_000)
    ]
    result = plan_progress(real, acts, 2024, date(2024, 7, 1))
    assert len(result) == len(real.indicators)
    assert sum(p.counted for p in result) <= len(acts)
    # The grouped pass agrees with the one-indicator path.
    for p in result[:3]:
        assert indicator_progress(real, p.indicator, acts, 2024, date(2024, 7, 1)) == p


# --- properties -----------------------------------------------------------------------------

IDS = [i.id for i in PLAN.indicators] + ["other"]
activities = st.builds(
    CountedActivity,
    indicator_id=st.sampled_from(IDS),
    date=st.dates(min_value=date(2022, 10, 1), max_value=date(2025, 3, 31)),
    quantity=st.integers(min_value=0, max_value=4),
    cso_participants=st.none() | st.integers(min_value=0, max_value=8),
    council_participants=st.none() | st.integers(min_value=0, max_value=3),
)
todays = st.dates(min_value=date(2022, 6, 1), max_value=date(2025, 6, 1))


def _brute_force_year(indicator: Indicator, acts: list[CountedActivity], year: int) -> int:
    mp = indicator.min_participants or MinParticipants()
    return sum(
        a.quantity
        for a in acts
        if a.indicator_id == indicator.id
        and PLAN.start <= a.date <= PLAN.end
        and a.date.year == year
        and (mp.cso == 0 or (a.cso_participants or 0) >= mp.cso)
        and (mp.council == 0 or (a.council_participants or 0) >= mp.council)
    )


@settings(max_examples=200, deadline=None)
@given(acts=st.lists(activities, max_size=60), year=st.sampled_from([2023, 2024]), today=todays)
def test_yearly_actual_is_the_brute_force_sum(
    acts: list[CountedActivity], year: int, today: date
) -> None:
    for indicator in (YEARLY, MEETINGS):
        p = progress(indicator, acts, year, today)
        assert p.actual == _brute_force_year(indicator, acts, year)
        assert p.met == (p.actual >= indicator.target)


@settings(max_examples=200, deadline=None)
@given(acts=st.lists(activities, max_size=60), extra=activities, today=todays)
def test_adding_an_activity_never_loses_progress(
    acts: list[CountedActivity], extra: CountedActivity, today: date
) -> None:
    for year in PLAN.years:
        before = plan_progress(PLAN, acts, year, today)
        after = plan_progress(PLAN, [*acts, extra], year, today)
        for b, a in zip(before, after, strict=True):
            assert a.actual >= b.actual
            assert a.counted >= b.counted
            assert (a.months_met or 0) >= (b.months_met or 0)
            assert a.met or not b.met
            assert a.status in set(STATUSES)
