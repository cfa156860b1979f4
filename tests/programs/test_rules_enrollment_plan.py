"""Table-driven tests of automatic enrolment (rules_enrollment) and of the materialised plan (rules_plan)."""

from __future__ import annotations

from datetime import date

import pytest

from rhip.programs.rules_enrollment import ConditionFact, PersonFacts, desired_enrollments
from rhip.programs.rules_plan import PlannedItem, match_item, plan, recheck_item, schedule_version


def by_program(person: PersonFacts, on: date) -> dict:
    return {d.program: d for d in desired_enrollments(person, on)}


I10 = ConditionFact(1, "I10", date(2020, 5, 1), date(2020, 5, 1))


@pytest.mark.parametrize("birth, on, enrolled, start", [
    (date(1990, 6, 1), date(2025, 5, 31), False, None),               # 34 the day before the 35th birthday
    (date(1990, 6, 1), date(2025, 6, 1), True, date(2025, 6, 1)),     # 35 on the birthday: enrolled from then
    (date(1980, 1, 1), date(2025, 1, 1), True, date(2020, 5, 1)),     # older: from the diagnosis
    (date(1990, 2, 28), date(2025, 2, 28), True, date(2025, 2, 28)),
])
def test_hypertension_needs_age_35(birth, on, enrolled, start):
    got = by_program(PersonFacts(birth, conditions=(I10,)), on)
    assert ("hypertension" in got) is enrolled
    if enrolled:
        d = got["hypertension"]
        assert d.start_date == start and d.reason_code == "condition" and d.source_ref == "Condition/1"
        assert "I10" in d.reason_zh and "35" in d.reason_zh


@pytest.mark.parametrize("code, program", [
    ("I10", "hypertension"), ("I11.9", "hypertension"), ("I15.0", "hypertension"), ("I16", None),
    ("E11.9", "diabetes"), ("E10.9", None), ("F20.0", "smi"), ("F31.9", "smi"), ("F32.9", None), ("A15.0", "tb"),
    ("A19.9", "tb"), ("A20", None),
])
def test_condition_codes_enrol_their_programme(code, program):
    c = ConditionFact(7, code, date(2024, 3, 1), date(2024, 3, 1))
    got = set(by_program(PersonFacts(date(1970, 1, 1), conditions=(c,)), date(2025, 1, 1))) - {"elderly", "child"}
    assert got == ({program} if program else set())


def test_inactive_condition_does_not_enrol():
    c = ConditionFact(1, "I10", date(2020, 5, 1), date(2020, 5, 1), "resolved")
    assert "hypertension" not in by_program(PersonFacts(date(1960, 1, 1), conditions=(c,)), date(2025, 1, 1))


@pytest.mark.parametrize("birth, on, enrolled, start", [
    (date(1960, 12, 31), date(2025, 1, 1), True, date(2025, 1, 1)),   # 65 by 31 December: the whole year
    (date(1961, 1, 1), date(2025, 12, 31), False, None),              # turns 65 next year
    (date(1960, 2, 29), date(2025, 1, 1), True, date(2025, 1, 1)),    # leap-day birth: 65 on 1 March 2025
])
def test_elderly_by_age_on_31_december(birth, on, enrolled, start):
    got = by_program(PersonFacts(birth), on)
    assert ("elderly" in got) is enrolled
    if enrolled:
        assert got["elderly"].start_date == start and got["elderly"].reason_code == "age"


@pytest.mark.parametrize("birth, on, end", [
    (date(2020, 2, 29), date(2025, 1, 1), date(2027, 3, 1)),   # leap-day birth: 7th birthday on 1 March 2027
    (date(2019, 6, 15), date(2025, 1, 1), date(2026, 6, 15)),
])
def test_child_until_seventh_birthday(birth, on, end):
    d = by_program(PersonFacts(birth), on)["child"]
    assert (d.start_date, d.end_date, d.end_reason) == (birth, end, "age_limit")


def test_death_ends_everything_and_moving_out_too():
    dead = PersonFacts(date(1950, 1, 1), "deceased", date(2024, 8, 1), (I10,))
    got = by_program(dead, date(2025, 1, 1))
    assert {(p, d.end_date, d.end_reason) for p, d in got.items()} == {
        ("hypertension", date(2024, 8, 1), "death"), ("elderly", date(2024, 8, 1), "death"),
        ("child", date(1957, 1, 1), "age_limit")}   # history: the 7th birthday came first
    moved = PersonFacts(date(1950, 1, 1), "moved_out", date(2024, 8, 1), (I10,))
    assert by_program(moved, date(2025, 1, 1))["hypertension"].end_reason == "moved_out"


@pytest.mark.parametrize("conditions, end, facts", [
    ((ConditionFact(3, "Z34.9", date(2024, 1, 10), date(2024, 3, 1)),), date(2024, 11, 13),
     {"lmp": "2024-01-10"}),                                                # no delivery: 44 weeks after the LMP
    ((ConditionFact(3, "Z34.9", date(2024, 1, 10), date(2024, 3, 1)), ConditionFact(4, "O80.0", date(2024, 10, 12),
                                                                                   date(2024, 10, 12))),
     date(2024, 12, 7), {"lmp": "2024-01-10", "delivery": "2024-10-12"}),   # delivery + 56 days
])
def test_pregnancy_ends_after_the_postpartum_window(conditions, end, facts):
    d = by_program(PersonFacts(date(1995, 5, 5), conditions=conditions), date(2024, 6, 1))["pregnancy"]
    assert d.start_date == date(2024, 3, 1) and d.anchor_date == date(2024, 1, 10)
    assert (d.end_date, d.end_reason, dict(d.facts)) == (end, "pregnancy_ended", facts)


def test_nothing_starts_after_the_date():
    c = ConditionFact(1, "I10", date(2026, 5, 1), date(2026, 5, 1))
    assert "hypertension" not in by_program(PersonFacts(date(1960, 1, 1), conditions=(c,)), date(2026, 4, 30))


# ---------------------------------------------------------------- plan

def test_chronic_plan_has_quarters_from_the_enrolment():
    items = plan("hypertension", anchor=None, facts={}, start=date(2025, 5, 10), end=None, through=date(2025, 12, 31))
    assert [(i.kind, i.window_start, i.window_end) for i in items] == [
        ("hypertension.2025q2", date(2025, 5, 10), date(2025, 6, 30)),
        ("hypertension.2025q3", date(2025, 7, 1), date(2025, 9, 30)),
        ("hypertension.2025q4", date(2025, 10, 1), date(2025, 12, 31))]


def test_plan_from_drops_what_closed_before():
    items = plan("child", anchor=date(2024, 2, 29), facts={}, start=date(2024, 2, 29), end=None,
                 through=date(2026, 12, 31), plan_from=date(2025, 1, 1))
    assert min(i.window_end for i in items) >= date(2025, 1, 1)
    assert "child.m12" in {i.kind for i in items}   # 12 months: 1 March 2025 ± 15 days


def test_plan_stops_at_the_end():
    items = plan("elderly", anchor=date(1950, 1, 1), facts={}, start=date(2015, 1, 1), end=date(2025, 3, 1),
                 through=date(2026, 12, 31), plan_from=date(2024, 1, 1))
    assert {(i.kind, i.window_start.year) for i in items} == {
        ("elderly.service", 2024), ("elderly.tcm", 2024), ("elderly.service", 2025), ("elderly.tcm", 2025)}


def test_history_before_the_first_schedule_version_uses_it():
    assert schedule_version("elderly", date(2010, 1, 1)) == "2017"


def item(kind, start, end, service="visit"):
    return PlannedItem(kind, kind, service, start, start, end)


Q2 = item("hypertension.2025q2", date(2025, 4, 1), date(2025, 6, 30))
Q3 = item("hypertension.2025q3", date(2025, 7, 1), date(2025, 9, 30))
RE = item("hypertension.recheck", date(2025, 5, 2), date(2025, 5, 15), "recheck")
M3 = item("child.m3", date(2024, 5, 14), date(2024, 6, 13))


@pytest.mark.parametrize("items, visit, kind, expected", [
    ([Q2, Q3], date(2025, 6, 30), None, [Q2]),            # the last day of the window counts
    ([Q2, Q3], date(2025, 7, 1), None, [Q3]),
    ([Q2, Q3, RE], date(2025, 5, 20), None, [Q2, RE]),    # a late recheck still closes the recheck
    ([Q2, Q3, RE], date(2025, 5, 1), None, [Q2]),         # before the recheck opens
    ([Q3], date(2025, 6, 30), "hypertension.2025q3", []),  # a quarter only counts inside it
    ([M3], date(2024, 6, 20), "child.m3", [M3]),          # a point visit done late still counts
    ([M3], date(2024, 6, 20), None, []),                   # … but only when named
])
def test_match_item(items, visit, kind, expected):
    assert match_item(items, visit, kind) == expected


@pytest.mark.parametrize("step, expected", [
    ("routine", None),
    ("adjust_recheck", (date(2025, 5, 2), date(2025, 5, 15))),
    ("refer", (date(2025, 5, 2), date(2025, 5, 15))),
])
def test_recheck_item(step, expected):
    got = recheck_item("hypertension", date(2025, 5, 1), step, date(2025, 5, 15))
    assert (got and (got.window_start, got.window_end)) == expected
