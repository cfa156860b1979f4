"""Programme rules, table-driven from DOMAIN.md: calendar, versioned schedules, immunization, visit windows,
management facts."""

from datetime import date, timedelta

import pytest

from rhip.programs.rules import (
    PROGRAMS, Assessment, ControlStatus, NextStep, VisitStatus, add_months, age_in_months, age_on,
    immunizations_due, latest_control_status, load_schedule, managed_per_spec, schedule_versions, visits_due,
)
from rhip.registry.rules import age_on as registry_age_on


def by_kind(items):
    return {i.kind: i for i in items}


def by_code(doses):
    return {d.code: d for d in doses}


# ------------------------------------------------------------------ calendar arithmetic

@pytest.mark.parametrize("start,months,expected", [
    (date(2024, 2, 29), 1, date(2024, 3, 29)),
    (date(2024, 2, 29), 6, date(2024, 8, 29)),
    (date(2024, 2, 29), 12, date(2025, 3, 1)),    # common year: 29 Feb ages on 1 March (registry rule)
    (date(2024, 2, 29), 24, date(2026, 3, 1)),
    (date(2024, 2, 29), 48, date(2028, 2, 29)),   # leap year again
    (date(2024, 1, 31), 1, date(2024, 3, 1)),     # no 31 February
    (date(2023, 1, 31), 1, date(2023, 3, 1)),
    (date(2024, 3, 31), 1, date(2024, 5, 1)),
    (date(2024, 12, 15), 1, date(2025, 1, 15)),   # year rollover
    (date(2024, 5, 10), 0, date(2024, 5, 10)),
])
def test_add_months(start, months, expected):
    assert add_months(start, months) == expected
    assert age_in_months(start, expected) == months
    if expected > start:
        assert age_in_months(start, expected - timedelta(days=1)) == months - 1


@pytest.mark.parametrize("birth,on", [
    (date(2024, 2, 29), date(2025, 2, 28)), (date(2024, 2, 29), date(2025, 3, 1)),
    (date(2024, 2, 29), date(2028, 2, 28)), (date(2024, 2, 29), date(2028, 2, 29)),
    (date(1960, 12, 31), date(2025, 12, 30)), (date(1960, 12, 31), date(2025, 12, 31)),
])
def test_ages_agree_with_registry(birth, on):
    assert age_on(birth, on) == registry_age_on(birth, on)
    assert age_in_months(birth, on) // 12 == registry_age_on(birth, on)


# ------------------------------------------------------------------ versioned schedules

@pytest.mark.parametrize("program", PROGRAMS)
def test_every_schedule_loads_and_is_consistent(program):
    sched = load_schedule(program, date(2025, 6, 1))
    assert sched.program == program and sched.effective_from <= date(2025, 6, 1)
    codes = [i.code for i in sched.items]
    assert len(codes) == len(set(codes))
    anchor = date(2024, 2, 29)
    for item in sched.items:
        assert item.code.startswith({"immunization": "imm."}.get(program, program + "."))
        assert item.name_zh and item.name_en
        assert item.window_start.apply(anchor) <= item.due.apply(anchor) <= item.window_end.apply(anchor)


@pytest.mark.parametrize("on,version,verify", [
    (date(2021, 1, 1), "2021", False),
    (date(2024, 12, 31), "2021", False),
    (date(2025, 1, 1), "2025", True),     # (verify) 2025 DTaP change, effective 2025-01-01
    (date(2030, 6, 1), "2025", True),
])
def test_immunization_version_by_effective_date(on, version, verify):
    sched = load_schedule("immunization", on)
    assert (sched.version, sched.verify) == (version, verify)


def test_versions_chain_without_gaps():
    old, new = schedule_versions("immunization")
    assert old.effective_to == new.effective_from - timedelta(days=1)
    assert new.effective_to is None


def test_no_schedule_before_first_version_and_unknown_program():
    with pytest.raises(LookupError):
        load_schedule("immunization", date(2020, 12, 31))
    with pytest.raises(ValueError):
        load_schedule("dental", date(2025, 1, 1))


def test_child_schedule_has_the_national_minimum():
    codes = {i.code for i in load_schedule("child", date(2025, 1, 1)).items}
    expected = {"child.newborn", "child.d28", "child.y4", "child.y5", "child.y6", "child.hb.m6_8", "child.hb.m18",
                "child.hb.m30"} | {f"child.m{m}" for m in (3, 6, 8, 12, 18, 24, 30, 36)} \
        | {f"child.tcm.m{m}" for m in (6, 12, 18, 24, 30, 36)}
    assert codes == expected


# ------------------------------------------------------------------ immunization

@pytest.mark.parametrize("birth,dtap_due,dt_due", [
    # 2021 edition: DTaP 3/4/5/18 months, DT at 6 years
    (date(2024, 6, 1), [date(2024, 9, 1), date(2024, 10, 1), date(2024, 11, 1), date(2025, 12, 1)], date(2030, 6, 1)),
    # (verify) 2025: DTaP 2/4/6/18 months + 6 years, no DT
    (date(2025, 6, 1), [date(2025, 8, 1), date(2025, 10, 1), date(2025, 12, 1), date(2026, 12, 1), date(2031, 6, 1)],
     None),
])
def test_dtap_and_dt_follow_the_version_of_the_birth_date(birth, dtap_due, dt_due):
    doses = immunizations_due(birth, [], date(2026, 1, 1))
    assert [d.due_date for d in doses if d.vaccine == "DTaP"] == dtap_due
    dt = [d for d in doses if d.vaccine == "DT"]
    assert ([d.due_date for d in dt] or [None]) == [dt_due]


@pytest.mark.parametrize("code,due", [
    ("imm.HepB.1", date(2024, 2, 29)), ("imm.BCG.1", date(2024, 2, 29)),
    ("imm.HepB.2", date(2024, 3, 29)), ("imm.HepB.3", date(2024, 8, 29)),
    ("imm.MMR.1", date(2024, 10, 29)), ("imm.MPSV-A.2", date(2024, 11, 29)),
    ("imm.HepA-L.1", date(2025, 8, 29)),
    ("imm.JE-L.2", date(2026, 3, 1)),     # 2 years: 29 Feb → 1 March in a common year
    ("imm.MPSV-AC.1", date(2027, 3, 1)),
    ("imm.bOPV.2", date(2028, 2, 29)),    # 4 years: leap year
    ("imm.DTaP.5", date(2030, 3, 1)),     # 6 years, under the 2025 version passed explicitly
])
def test_leap_day_birth_immunization_dates(code, due):
    doses = by_code(immunizations_due(date(2024, 2, 29), [], date(2024, 3, 1),
                                      schedule=load_schedule("immunization", date(2025, 1, 1))))
    assert doses[code].due_date == due


def test_leap_day_birth_follows_2021_edition_by_default():
    doses = by_code(immunizations_due(date(2024, 2, 29), [], date(2024, 3, 1)))
    assert "imm.DTaP.5" not in doses
    assert doses["imm.DT.1"].due_date == date(2030, 3, 1)
    assert doses["imm.DTaP.1"].due_date == date(2024, 5, 29)


@pytest.mark.parametrize("on,given,status,days_overdue", [
    (date(2024, 8, 31), [], VisitStatus.UPCOMING, 0),
    (date(2024, 9, 1), [], VisitStatus.DUE, 0),        # due at the age
    (date(2024, 10, 1), [], VisitStatus.DUE, 0),       # last day of the 30-day grace
    (date(2024, 10, 2), [], VisitStatus.OVERDUE, 1),
    (date(2024, 12, 31), [], VisitStatus.OVERDUE, 91),
    (date(2024, 12, 31), [("DTaP", 1, date(2024, 9, 5))], VisitStatus.DONE, 0),
])
def test_dose_status_with_grace(on, given, status, days_overdue):
    dose = by_code(immunizations_due(date(2024, 6, 1), given, on))["imm.DTaP.1"]
    assert (dose.status, dose.days_overdue) == (status, days_overdue)
    assert dose.overdue_after == date(2024, 10, 1)


def test_grace_is_a_parameter():
    dose = by_code(immunizations_due(date(2024, 6, 1), [], date(2024, 9, 2), grace_days=0))["imm.DTaP.1"]
    assert (dose.status, dose.days_overdue) == (VisitStatus.OVERDUE, 1)


def test_minimum_interval_pushes_next_dose():
    doses = by_code(immunizations_due(date(2024, 6, 1), [("DTaP", 1, date(2024, 9, 20))], date(2024, 10, 5)))
    assert doses["imm.DTaP.2"].due_date == date(2024, 10, 18)   # 28 days after dose 1, later than 4 months
    assert doses["imm.DTaP.2"].status is VisitStatus.UPCOMING
    assert doses["imm.DTaP.1"].given_on == date(2024, 9, 20)


# ------------------------------------------------------------------ visit windows

BORN = date(2024, 1, 10)   # m3 due 2024-04-10, window 2024-03-26 .. 2024-04-25


@pytest.mark.parametrize("visits,on,status,days_overdue,on_time", [
    ([], date(2024, 3, 25), VisitStatus.UPCOMING, 0, None),
    ([], date(2024, 3, 26), VisitStatus.DUE, 0, None),
    ([], date(2024, 4, 25), VisitStatus.DUE, 0, None),
    ([], date(2024, 4, 26), VisitStatus.OVERDUE, 1, None),               # one day after the window
    ([date(2024, 4, 25)], date(2024, 5, 1), VisitStatus.DONE, 0, True),  # last day of the window: on time
    ([date(2024, 3, 26)], date(2024, 5, 1), VisitStatus.DONE, 0, True),
    ([("child.m3", date(2024, 4, 26))], date(2024, 5, 1), VisitStatus.DONE, 0, False),  # tagged, late
    ([date(2024, 4, 26)], date(2024, 5, 1), VisitStatus.OVERDUE, 6, None),  # untagged, outside: no match
])
def test_child_m3_window(visits, on, status, days_overdue, on_time):
    item = by_kind(visits_due("child", {"birth": BORN}, visits, on))["child.m3"]
    assert (item.due_date, item.window_start, item.window_end) == (date(2024, 4, 10), date(2024, 3, 26),
                                                                  date(2024, 4, 25))
    assert (item.status, item.days_overdue, item.on_time) == (status, days_overdue, on_time)


@pytest.mark.parametrize("visits,on,status,days_overdue", [
    ([date(2024, 1, 19)], date(2024, 2, 1), VisitStatus.DONE, 0),   # 7th day after discharge: on time
    ([], date(2024, 1, 19), VisitStatus.DUE, 0),
    ([], date(2024, 1, 20), VisitStatus.OVERDUE, 1),
])
def test_newborn_home_visit_within_7_days_of_discharge(visits, on, status, days_overdue):
    item = by_kind(visits_due("child", {"birth": BORN, "discharge": date(2024, 1, 12)}, visits, on))["child.newborn"]
    assert item.window_end == date(2024, 1, 19)
    assert (item.status, item.days_overdue) == (status, days_overdue)


@pytest.mark.parametrize("kind,due,start,end", [
    ("child.m12", date(2025, 3, 1), date(2025, 2, 14), date(2025, 3, 16)),
    ("child.m24", date(2026, 3, 1), date(2026, 2, 14), date(2026, 3, 16)),
    ("child.y4", date(2028, 2, 29), date(2028, 1, 29), date(2028, 3, 29)),
    ("child.y5", date(2029, 3, 1), date(2029, 1, 29), date(2029, 3, 29)),
    ("child.d28", date(2024, 3, 28), date(2024, 3, 28), date(2024, 3, 30)),
    ("child.hb.m6_8", date(2024, 8, 29), date(2024, 8, 29), date(2024, 11, 28)),   # completed months 6–8
])
def test_leap_day_birth_visit_schedule(kind, due, start, end):
    item = by_kind(visits_due("child", {"birth": date(2024, 2, 29)}, [], date(2024, 3, 1)))[kind]
    assert (item.due_date, item.window_start, item.window_end) == (due, start, end)


def test_untagged_visit_does_not_tick_tcm_or_haemoglobin():
    items = by_kind(visits_due("child", {"birth": BORN}, [date(2024, 7, 10)], date(2024, 7, 20)))
    assert items["child.m6"].status is VisitStatus.DONE
    assert items["child.tcm.m6"].status is VisitStatus.DUE
    tagged = by_kind(visits_due("child", {"birth": BORN}, [("child.tcm.m6", date(2024, 7, 10))], date(2024, 7, 20)))
    assert tagged["child.tcm.m6"].status is VisitStatus.DONE and tagged["child.m6"].status is VisitStatus.DUE


def test_horizon_drops_far_upcoming_items():
    items = visits_due("child", {"birth": BORN}, [], date(2024, 3, 1), horizon_days=60)
    assert "child.m3" in by_kind(items) and "child.m6" not in by_kind(items)


LMP = date(2025, 1, 1)


@pytest.mark.parametrize("kind,start,end", [
    ("pregnancy.w0_12", date(2025, 1, 1), date(2025, 4, 1)),     # 0+0 .. 12+6
    ("pregnancy.w16_20", date(2025, 4, 23), date(2025, 5, 27)),  # 16+0 .. 20+6
    ("pregnancy.w21_24", date(2025, 5, 28), date(2025, 6, 24)),
    ("pregnancy.w28_36", date(2025, 7, 16), date(2025, 9, 16)),
    ("pregnancy.w37_40", date(2025, 9, 17), date(2025, 10, 14)),
])
def test_pregnancy_windows_from_lmp_or_edd(kind, start, end):
    for facts in ({"lmp": LMP}, {"edd": date(2025, 10, 8)}):
        item = by_kind(visits_due("pregnancy", facts, [], date(2025, 2, 1)))[kind]
        assert (item.window_start, item.window_end) == (start, end)


def test_pregnancy_after_preterm_delivery():
    facts = {"lmp": LMP, "delivery": date(2025, 8, 20), "postpartum_discharge": date(2025, 8, 23)}
    items = by_kind(visits_due("pregnancy", facts, [date(2025, 8, 30)], date(2025, 10, 2)))
    assert "pregnancy.w37_40" not in items                     # delivered before that window opened
    w28 = items["pregnancy.w28_36"]
    assert (w28.window_end, w28.status, w28.days_overdue) == (date(2025, 8, 20), VisitStatus.OVERDUE, 43)
    home = items["pregnancy.postpartum_home"]
    assert (home.window_end, home.status, home.on_time) == (date(2025, 8, 30), VisitStatus.DONE, True)
    d42 = items["pregnancy.postpartum_42d"]
    assert (d42.due_date, d42.window_end, d42.status) == (date(2025, 10, 1), date(2025, 10, 15), VisitStatus.DUE)
    assert "pregnancy.postpartum_home" not in by_kind(visits_due("pregnancy", {"lmp": LMP}, [], date(2025, 2, 1)))


@pytest.mark.parametrize("on,visits,expected", [
    (date(2025, 5, 10), [date(2025, 3, 1)],
     {"hypertension.2025q1": (VisitStatus.DONE, 0), "hypertension.2025q2": (VisitStatus.DUE, 0),
      "hypertension.2025q3": (VisitStatus.UPCOMING, 0), "hypertension.2025q4": (VisitStatus.UPCOMING, 0)}),
    (date(2025, 7, 1), [date(2025, 3, 1)],
     {"hypertension.2025q1": (VisitStatus.DONE, 0), "hypertension.2025q2": (VisitStatus.OVERDUE, 1),
      "hypertension.2025q3": (VisitStatus.DUE, 0), "hypertension.2025q4": (VisitStatus.UPCOMING, 0)}),
    (date(2025, 7, 1), [date(2025, 3, 1), date(2025, 6, 30)],
     {"hypertension.2025q1": (VisitStatus.DONE, 0), "hypertension.2025q2": (VisitStatus.DONE, 0),
      "hypertension.2025q3": (VisitStatus.DUE, 0), "hypertension.2025q4": (VisitStatus.UPCOMING, 0)}),
])
def test_hypertension_quarterly_windows(on, visits, expected):
    items = visits_due("hypertension", {"enrolled_on": date(2025, 2, 15)}, visits, on)
    assert {i.kind: (i.status, i.days_overdue) for i in items} == expected
    assert by_kind(items)["hypertension.2025q1"].window_start == date(2025, 2, 15)   # from enrolment


def test_enrolment_late_in_year_skips_earlier_quarters():
    items = visits_due("diabetes", {"enrolled_on": date(2025, 10, 3)}, [], date(2025, 10, 3))
    assert [i.kind for i in items] == ["diabetes.2025q4"]


@pytest.mark.parametrize("visits,on,status,days_overdue", [
    ([], date(2025, 5, 15), VisitStatus.DUE, 0),
    ([], date(2025, 5, 16), VisitStatus.OVERDUE, 1),
    ([date(2025, 5, 10)], date(2025, 5, 16), VisitStatus.DONE, 0),
    ([date(2025, 5, 1)], date(2025, 5, 16), VisitStatus.OVERDUE, 1),   # the assessed visit itself does not count
])
def test_recheck_item_after_non_routine_step(visits, on, status, days_overdue):
    last = Assessment("hypertension", date(2025, 5, 1), ControlStatus.UNCONTROLLED, NextStep.ADJUST_RECHECK,
                      date(2025, 5, 15), ())
    item = by_kind(visits_due("hypertension", {"last_assessment": last}, visits, on))["hypertension.recheck"]
    assert (item.window_start, item.window_end) == (date(2025, 5, 2), date(2025, 5, 15))
    assert (item.status, item.days_overdue) == (status, days_overdue)


@pytest.mark.parametrize("birth,visits,expected", [
    (date(1960, 12, 31), [("elderly.service", date(2025, 3, 1))],
     {"elderly.service": VisitStatus.DONE, "elderly.tcm": VisitStatus.DUE}),
    (date(1960, 12, 31), [date(2025, 3, 1), ("elderly.tcm", date(2024, 12, 31))],   # last year's TCM does not count
     {"elderly.service": VisitStatus.DONE, "elderly.tcm": VisitStatus.DUE}),
    (date(1961, 1, 1), [], {}),     # turns 65 only in 2026
])
def test_elderly_annual_services(birth, visits, expected):
    items = visits_due("elderly", {"birth": birth}, visits, date(2025, 6, 1))
    assert {i.kind: i.status for i in items} == expected


@pytest.mark.parametrize("facts,on,first_status,monthly", [
    ({"notice": date(2025, 3, 3)}, date(2025, 3, 6), VisitStatus.DUE, 6),      # 72 h: notice + 3 days
    ({"notice": date(2025, 3, 3)}, date(2025, 3, 7), VisitStatus.OVERDUE, 6),
    ({"notice": date(2025, 3, 3), "treatment_months": 8}, date(2025, 3, 3), VisitStatus.DUE, 8),
])
def test_tb_first_visit_and_monthly(facts, on, first_status, monthly):
    items = visits_due("tb", facts, [], on)
    assert by_kind(items)["tb.first"].status is first_status
    assert len([i for i in items if i.kind.startswith("tb.m")]) == monthly
    assert by_kind(items)["tb.m1"].due_date == date(2025, 4, 3)


def test_missing_enrolment_fact_is_an_error():
    with pytest.raises(ValueError, match="birth"):
        visits_due("child", {}, [], date(2025, 1, 1))
    with pytest.raises(ValueError, match="immunizations_due"):
        visits_due("immunization", {}, [], date(2025, 1, 1))


# ------------------------------------------------------------------ management facts

Q = [date(2025, 2, 1), date(2025, 5, 1), date(2025, 8, 1), date(2025, 11, 1)]


@pytest.mark.parametrize("program,visits,kwargs,expected", [
    ("hypertension", Q, {}, True),
    ("hypertension", Q[:3], {}, False),
    ("diabetes", Q[:3] + [Q[2]], {}, False),                                          # same date twice
    ("diabetes", Q[:3] + [{"date": Q[3], "face_to_face": False}], {}, False),         # phone call
    ("smi", Q[:3], {"min_followups": 3}, True),
    ("hypertension", [], {}, False),
    ("elderly", [("elderly.service", Q[0]), ("elderly.tcm", Q[1])], {}, True),
    ("elderly", [("elderly.service", Q[0])], {}, False),
])
def test_managed_per_spec(program, visits, kwargs, expected):
    assert managed_per_spec(program, visits, **kwargs) is expected


def test_latest_control_status():
    visits = [{"date": date(2025, 11, 1), "control_status": "uncontrolled"},
              {"date": date(2025, 2, 1), "control_status": "controlled"},
              {"date": date(2025, 12, 1)}]                                      # no reading: skipped
    assert latest_control_status(visits) is ControlStatus.UNCONTROLLED
    assert latest_control_status(visits[1:]) is ControlStatus.CONTROLLED
    assert latest_control_status([date(2025, 1, 1)]) is None
    a = Assessment("diabetes", date(2025, 12, 20), ControlStatus.CONTROLLED, NextStep.ROUTINE, date(2026, 3, 20), ())
    assert latest_control_status(visits + [a]) is ControlStatus.CONTROLLED
