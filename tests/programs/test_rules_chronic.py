"""Hypertension, diabetes, severe mental illness and TB decisions, table-driven from DOMAIN.md."""

from datetime import date, timedelta

import pytest

from rhip.programs.rules import (
    ControlStatus, DiabetesFollowUp, HypertensionFollowUp, NextStep, assess_smi, classify_diabetes,
    classify_hypertension, tb_regular_intake,
)

V = date(2025, 3, 10)
C, U = ControlStatus.CONTROLLED, ControlStatus.UNCONTROLLED
ROUTINE, ADJUST, REFER, EMERG = (NextStep.ROUTINE, NextStep.ADJUST_RECHECK, NextStep.REFER,
                                 NextStep.EMERGENCY_REFERRAL)
IN_3_MONTHS, IN_2_WEEKS = date(2025, 6, 10), V + timedelta(days=14)
HEADACHE = ("severe_headache_dizziness",)


@pytest.mark.parametrize("age,sbp,dbp,extra,status,step,due,reason", [
    (50, 139, 89, {}, C, ROUTINE, IN_3_MONTHS, "routine"),
    (50, 140, 90, {}, U, ADJUST, IN_2_WEEKS, "first_uncontrolled"),      # controlled means strictly below
    (50, 140, 89, {}, U, ADJUST, IN_2_WEEKS, "first_uncontrolled"),
    (50, 139, 90, {}, U, ADJUST, IN_2_WEEKS, "first_uncontrolled"),
    (65, 149, 89, {}, C, ROUTINE, IN_3_MONTHS, "routine"),                # (verify) 65+: <150/90
    (65, 150, 89, {}, U, ADJUST, IN_2_WEEKS, "first_uncontrolled"),
    (64, 149, 89, {}, U, ADJUST, IN_2_WEEKS, "first_uncontrolled"),       # 64: <140/90 applies
    (50, 150, 95, {"previous_control": "controlled"}, U, ADJUST, IN_2_WEEKS, "first_uncontrolled"),
    (50, 150, 95, {"previous_control": U}, U, REFER, IN_2_WEEKS, "uncontrolled_twice"),
    (50, 130, 80, {"previous_control": U}, C, ROUTINE, IN_3_MONTHS, "routine"),
    (50, 130, 80, {"adverse_reaction": True}, C, ADJUST, IN_2_WEEKS, "adverse_reaction"),
    (50, 130, 80, {"new_complication": True}, C, REFER, IN_2_WEEKS, "new_complication"),
    (50, 150, 95, {"adverse_reaction": True, "previous_control": U}, U, REFER, IN_2_WEEKS, "uncontrolled_twice"),
    (50, 180, 100, {"danger_signs": HEADACHE}, U, EMERG, IN_2_WEEKS, "emergency_referral"),
    (50, 150, 110, {"danger_signs": HEADACHE}, U, EMERG, IN_2_WEEKS, "emergency_referral"),
    (50, 179, 109, {"danger_signs": HEADACHE}, U, ADJUST, IN_2_WEEKS, "first_uncontrolled"),   # below thresholds
    (50, 180, 100, {}, U, ADJUST, IN_2_WEEKS, "bp_emergency_level_no_sign"),   # no danger sign: not emergency
    (50, 150, 110, {"previous_control": U}, U, REFER, IN_2_WEEKS, "bp_emergency_level_no_sign"),
    (50, 185, 115, {"danger_signs": ("意识改变", "视力模糊")}, U, EMERG, IN_2_WEEKS, "danger_signs"),  # Chinese labels
])
def test_hypertension(age, sbp, dbp, extra, status, step, due, reason):
    a = classify_hypertension(HypertensionFollowUp(V, sbp, dbp, age, **extra))
    assert (a.control_status, a.next_step, a.next_visit_due) == (status, step, due)
    assert reason in [r.code for r in a.reasons]
    assert all(r.zh and r.en for r in a.reasons)
    assert a.emergency is (step is EMERG)


def test_hypertension_elderly_threshold_parameter_flipped():
    fu = HypertensionFollowUp(V, 149, 89, 65)
    assert classify_hypertension(fu).control_status is C
    flipped = classify_hypertension(fu, elderly_threshold=False)
    assert (flipped.control_status, flipped.next_step) == (U, ADJUST)


@pytest.mark.parametrize("sbp,dbp,signs,rule,emergency", [
    (180, 100, (), "threshold_and_sign", False),
    (180, 100, (), "any", True),                  # the spec's "any one of"
    (130, 80, HEADACHE, "threshold_and_sign", False),
    (130, 80, HEADACHE, "any", True),
    (130, 80, (), "any", False),
])
def test_hypertension_emergency_rule_parameter(sbp, dbp, signs, rule, emergency):
    a = classify_hypertension(HypertensionFollowUp(V, sbp, dbp, 50, danger_signs=signs), emergency_rule=rule)
    assert a.emergency is emergency


def test_hypertension_danger_signs_are_normalised_and_checked():
    a = classify_hypertension({"visit_date": V, "sbp": 190, "dbp": 100, "age": 70,
                               "danger_signs": ["剧烈头痛或头晕", "severe_headache_dizziness", "eye_pain"]})
    assert a.danger_signs == ("severe_headache_dizziness", "eye_pain")
    assert "剧烈头痛或头晕" in next(r.zh for r in a.reasons if r.code == "danger_signs")
    with pytest.raises(ValueError, match="danger sign"):
        classify_hypertension(HypertensionFollowUp(V, 190, 100, 70, danger_signs=("headache!",)))
    with pytest.raises(ValueError, match="emergency_rule"):
        classify_hypertension(HypertensionFollowUp(V, 130, 80, 70), emergency_rule="sometimes")


@pytest.mark.parametrize("fpg,extra,status,step", [
    (6.9, {}, C, ROUTINE),
    (7.0, {}, U, ADJUST),                              # controlled means strictly below 7.0
    (7.5, {"previous_control": U}, U, REFER),
    (6.0, {"adverse_reaction": True}, C, ADJUST),
    (6.0, {"new_complication": True}, C, REFER),
    (16.6, {}, U, ADJUST),
    (16.7, {}, U, EMERG),                              # ≥ 16.7
    (4.0, {}, C, ROUTINE),
    (3.9, {}, C, EMERG),                               # ≤ 3.9 (status still by the <7.0 rule)
    (6.0, {"sbp": 180, "dbp": 90}, C, EMERG),
    (6.0, {"sbp": 150, "dbp": 110}, C, EMERG),
    (6.0, {"sbp": 179, "dbp": 109}, C, ROUTINE),
    (6.0, {"danger_signs": ("acetone_breath",)}, C, EMERG),
])
def test_diabetes(fpg, extra, status, step):
    a = classify_diabetes(DiabetesFollowUp(V, fpg, **extra))
    assert (a.control_status, a.next_step) == (status, step)
    assert a.next_visit_due == (IN_3_MONTHS if step is ROUTINE else IN_2_WEEKS)
    assert all(r.zh and r.en for r in a.reasons)


@pytest.mark.parametrize("fpg,signs,emergency", [
    (16.7, (), False), (3.9, (), False), (16.7, ("acetone_breath",), True),
])
def test_diabetes_emergency_rule_parameter(fpg, signs, emergency):
    a = classify_diabetes(DiabetesFollowUp(V, fpg, danger_signs=signs), emergency_rule="threshold_and_sign")
    assert a.emergency is emergency


SMI_DAY = date(2025, 1, 15)


@pytest.mark.parametrize("grade,stability,step,due,then_every", [
    (0, "stable", ROUTINE, date(2025, 4, 15), 3),
    (1, "basically_stable", ADJUST, date(2025, 1, 29), 2),
    (2, "basically_stable", ADJUST, date(2025, 1, 29), 2),
    (3, "unstable", REFER, date(2025, 1, 29), None),
    (4, "unstable", REFER, date(2025, 1, 29), None),
    (5, "unstable", REFER, date(2025, 1, 29), None),
])
def test_smi_every_grade(grade, stability, step, due, then_every):
    a = assess_smi(SMI_DAY, grade)
    assert (a.stability, a.next_step, a.next_visit_due, a.then_every_months) == (stability, step, due, then_every)
    assert str(grade) in a.reasons[0].zh and str(grade) in a.reasons[0].en


def test_smi_flags_raise_stability_class():
    assert assess_smi(SMI_DAY, 0, symptoms_or_insight_poor=True).stability == "basically_stable"
    assert assess_smi(SMI_DAY, 1, severe_adverse_reaction_or_somatic=True).stability == "unstable"


@pytest.mark.parametrize("grade", [6, -1, True, 2.0, "2"])
def test_smi_rejects_bad_grades(grade):
    with pytest.raises(ValueError):
        assess_smi(SMI_DAY, grade)


@pytest.mark.parametrize("taken,planned,kwargs,regular", [
    (54, 60, {}, True),      # exactly 90 %
    (53, 60, {}, False),
    (60, 60, {}, True),
    (48, 60, {"ratio": 0.8}, True),
    (47, 60, {"ratio": 0.8}, False),
])
def test_tb_regular_intake(taken, planned, kwargs, regular):
    assert tb_regular_intake(taken, planned, **kwargs) is regular
