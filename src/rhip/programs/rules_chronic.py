"""Follow-up decisions for hypertension, type 2 diabetes, severe mental illness and tuberculosis.

Thresholds, intervals and danger-sign lists are parameters of the versioned schedule data
(``data/schedule_<program>.json``), picked by the visit date. Marked (verify) there:

* hypertension ``elderly_threshold_enabled`` — "<150/90 is controlled for 65+"; default **on**
  (DOMAIN.md wording); pass ``elderly_threshold=False`` to use <140/90 for everyone;
* ``emergency_rule`` — ``"threshold_and_sign"`` (BP/glucose threshold reached **and** a danger
  sign; hypertension default, DOMAIN.md wording) or ``"any"`` (any threshold or any danger sign;
  diabetes default, the 2017 spec's "any one of").

"Controlled" always means strictly below the threshold: 140/90 is uncontrolled.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta
from fractions import Fraction
from collections.abc import Iterable, Mapping
from typing import Any

from rhip.programs.rules_common import (
    ControlStatus, NextStep, Reason, Schedule, add_months, load_schedule, param, schedule_versions,
)

_SEVERITY = {NextStep.ROUTINE: 0, NextStep.ADJUST_RECHECK: 1, NextStep.REFER: 2, NextStep.EMERGENCY_REFERRAL: 3}
EMERGENCY_RULES = ("threshold_and_sign", "any")


@dataclass(frozen=True)
class HypertensionFollowUp:
    visit_date: date
    sbp: int
    dbp: int
    age: int
    adverse_reaction: bool = False
    new_complication: bool = False          # new or worsened complication
    danger_signs: tuple[str, ...] = ()       # codes (or Chinese labels) from the schedule's danger_signs
    previous_control: ControlStatus | str | None = None   # control status of the previous follow-up


@dataclass(frozen=True)
class DiabetesFollowUp:
    visit_date: date
    fasting_glucose: float                   # mmol/L
    sbp: int | None = None
    dbp: int | None = None
    adverse_reaction: bool = False
    new_complication: bool = False
    danger_signs: tuple[str, ...] = ()
    previous_control: ControlStatus | str | None = None


@dataclass(frozen=True)
class Assessment:
    """The outcome of one follow-up: what to record and what to do next."""

    program: str
    visit_date: date
    control_status: ControlStatus
    next_step: NextStep
    next_visit_due: date
    reasons: tuple[Reason, ...]
    danger_signs: tuple[str, ...] = ()       # recognised danger-sign codes

    @property
    def emergency(self) -> bool:
        return self.next_step is NextStep.EMERGENCY_REFERRAL


def _coerce(record: Any, cls: type) -> Any:
    if isinstance(record, cls):
        return record
    if isinstance(record, Mapping):
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in record.items() if k in names})
    raise TypeError(f"expected {cls.__name__} or a mapping, got {type(record).__name__}")


def danger_sign_codes(schedule: Schedule, signs: Iterable[str]) -> tuple[str, ...]:
    """Normalise danger signs (codes or Chinese labels) to codes; unknown signs raise ``ValueError``."""
    if not signs:
        return ()
    table = schedule.params.get("danger_signs", [])
    by_key = {s["code"]: s["code"] for s in table} | {s["zh"]: s["code"] for s in table}
    out = []
    for s in signs or ():
        key = str(s).strip()
        if key not in by_key:
            raise ValueError(f"unknown {schedule.program} danger sign {s!r}")
        if by_key[key] not in out:
            out.append(by_key[key])
    return tuple(out)


def _sign_text(schedule: Schedule, codes: tuple[str, ...]) -> tuple[str, str]:
    table = {s["code"]: s for s in schedule.params["danger_signs"]}
    return "、".join(table[c]["zh"] for c in codes), ", ".join(table[c]["en"] for c in codes)


def _emergency(rule: str, threshold_hit: bool, signs: tuple[str, ...]) -> bool:
    if rule not in EMERGENCY_RULES:
        raise ValueError(f"emergency_rule must be one of {EMERGENCY_RULES}, got {rule!r}")
    return (threshold_hit and bool(signs)) if rule == "threshold_and_sign" else (threshold_hit or bool(signs))


def _decide(program: str, schedule: Schedule, visit_date: date, controlled: bool, previous: Any,
            adverse: bool, complication: bool, emergency: bool, emergency_reasons: list[Reason],
            control_reason: Reason, signs: tuple[str, ...]) -> Assessment:
    candidates: list[tuple[NextStep, Reason]] = []
    if emergency:
        candidates += [(NextStep.EMERGENCY_REFERRAL, r) for r in emergency_reasons]
    if complication:
        candidates.append((NextStep.REFER, Reason("new_complication", "出现新的并发症或原有并发症加重，转诊",
                                                  "new or worsened complication: refer")))
    previous = ControlStatus(previous) if previous is not None else None
    if not controlled and previous is ControlStatus.UNCONTROLLED:
        candidates.append((NextStep.REFER, Reason("uncontrolled_twice", "连续两次控制不满意，转诊",
                                                  "uncontrolled at two consecutive follow-ups: refer")))
    elif not controlled:
        candidates.append((NextStep.ADJUST_RECHECK, Reason(
            "first_uncontrolled", "首次控制不满意，调整用药，2周内随访",
            "first uncontrolled reading: adjust, revisit within 2 weeks")))
    if adverse:
        candidates.append((NextStep.ADJUST_RECHECK, Reason("adverse_reaction", "出现药物不良反应，调整用药，2周内随访",
                                                           "adverse drug reaction: adjust, revisit within 2 weeks")))
    step = max((c[0] for c in candidates), key=_SEVERITY.__getitem__, default=NextStep.ROUTINE)
    reasons = [control_reason] + [r for _, r in sorted(candidates, key=lambda c: -_SEVERITY[c[0]])]
    if step is NextStep.ROUTINE:
        months = param(schedule, "routine_interval_months")
        due = add_months(visit_date, months)
        reasons.append(Reason("routine", f"控制满意，无药物不良反应、无新发并发症，{months}个月后常规随访",
                              f"controlled, no adverse reaction or new complication: routine visit in {months} months"))
    elif step is NextStep.ADJUST_RECHECK:
        due = visit_date + timedelta(days=param(schedule, "recheck_days"))
    else:
        due = visit_date + timedelta(days=param(schedule, "referral_checkback_days"))
    return Assessment(program, visit_date, ControlStatus.CONTROLLED if controlled else ControlStatus.UNCONTROLLED,
                      step, due, tuple(reasons), signs)


def classify_hypertension(record: HypertensionFollowUp | Mapping[str, Any], *, schedule: Schedule | None = None,
                          elderly_threshold: bool | None = None, emergency_rule: str | None = None) -> Assessment:
    """Control status and next step of a hypertension follow-up (国家基本公卫规范 2017).

    * controlled: SBP < 140 and DBP < 90 (strictly); for age ≥ 65, < 150/90 when
      ``elderly_threshold`` is on — (verify), default from the schedule data (on, DOMAIN.md wording);
    * controlled, no adverse reaction, no new complication → routine visit in 3 months;
    * first uncontrolled reading or adverse reaction → adjust, revisit within 14 days;
    * uncontrolled twice in a row (``previous_control`` uncontrolled) or new/worse complication →
      refer, check back within 14 days;
    * SBP ≥ 180 or DBP ≥ 110 with a danger sign → emergency referral (``emergency_rule``, (verify):
      ``"threshold_and_sign"`` by default, ``"any"`` for the spec's "any one of").
    The most severe applicable step wins; every applicable reason is returned.
    """
    fu = _coerce(record, HypertensionFollowUp)
    sch = schedule or load_schedule("hypertension", fu.visit_date)
    elderly = param(sch, "elderly_threshold_enabled", elderly_threshold)
    if elderly and fu.age >= param(sch, "elderly_age"):
        s_thr, d_thr = param(sch, "elderly_controlled_sbp_below"), param(sch, "elderly_controlled_dbp_below")
    else:
        s_thr, d_thr = param(sch, "controlled_sbp_below"), param(sch, "controlled_dbp_below")
    controlled = fu.sbp < s_thr and fu.dbp < d_thr
    control_reason = (Reason("controlled", f"血压 {fu.sbp}/{fu.dbp} mmHg，低于 {s_thr}/{d_thr}，控制满意",
                             f"BP {fu.sbp}/{fu.dbp} mmHg is below {s_thr}/{d_thr}: controlled") if controlled else
                      Reason("uncontrolled", f"血压 {fu.sbp}/{fu.dbp} mmHg，未低于 {s_thr}/{d_thr}，控制不满意",
                             f"BP {fu.sbp}/{fu.dbp} mmHg is not below {s_thr}/{d_thr}: uncontrolled"))
    signs = danger_sign_codes(sch, fu.danger_signs)
    e_sbp, e_dbp = param(sch, "emergency_sbp_at_least"), param(sch, "emergency_dbp_at_least")
    bp_hit = fu.sbp >= e_sbp or fu.dbp >= e_dbp
    rule = param(sch, "emergency_rule", emergency_rule)
    emergency = _emergency(rule, bp_hit, signs)
    e_reasons = []
    if bp_hit:
        e_reasons.append(Reason("bp_emergency_level", f"收缩压≥{e_sbp}和/或舒张压≥{e_dbp} mmHg",
                                f"SBP ≥ {e_sbp} and/or DBP ≥ {e_dbp} mmHg"))
    if signs:
        zh, en = _sign_text(sch, signs)
        e_reasons.append(Reason("danger_signs", f"危急情况：{zh}", f"danger signs: {en}"))
    if emergency:
        e_reasons.append(Reason("emergency_referral", "紧急处理后紧急转诊，2周内随访转诊情况",
                                "give first aid and refer urgently; check back within 2 weeks"))
    result = _decide("hypertension", sch, fu.visit_date, controlled, fu.previous_control, fu.adverse_reaction,
                     fu.new_complication, emergency, e_reasons, control_reason, signs)
    if not emergency and bp_hit:  # threshold reached but the rule needs a danger sign: say so
        result = _with_reason(result, Reason("bp_emergency_level_no_sign",
                                             f"血压达到紧急转诊水平（≥{e_sbp}/{e_dbp}）但无危急症状，请评估",
                                             f"BP at emergency level (≥{e_sbp}/{e_dbp}) without danger signs: assess"))
    return result


def _with_reason(a: Assessment, r: Reason) -> Assessment:
    return Assessment(a.program, a.visit_date, a.control_status, a.next_step, a.next_visit_due,
                      a.reasons + (r,), a.danger_signs)


def classify_diabetes(record: DiabetesFollowUp | Mapping[str, Any], *, schedule: Schedule | None = None,
                      emergency_rule: str | None = None) -> Assessment:
    """Control status and next step of a type 2 diabetes follow-up (same pattern as hypertension).

    Controlled: fasting glucose < 7.0 mmol/L (strictly). Emergency thresholds: glucose ≥ 16.7 or
    ≤ 3.9 mmol/L, SBP ≥ 180 or DBP ≥ 110 mmHg; ``emergency_rule`` (verify) defaults to ``"any"``
    (any threshold or any danger sign), from the schedule data.
    """
    fu = _coerce(record, DiabetesFollowUp)
    sch = schedule or load_schedule("diabetes", fu.visit_date)
    thr = param(sch, "controlled_fpg_below")
    g = fu.fasting_glucose
    controlled = g < thr
    control_reason = (Reason("controlled", f"空腹血糖 {g} mmol/L，低于 {thr}，控制满意",
                             f"fasting glucose {g} mmol/L is below {thr}: controlled") if controlled else
                      Reason("uncontrolled", f"空腹血糖 {g} mmol/L，未低于 {thr}，控制不满意",
                             f"fasting glucose {g} mmol/L is not below {thr}: uncontrolled"))
    hi, lo = param(sch, "emergency_fpg_at_least"), param(sch, "emergency_fpg_at_most")
    e_sbp, e_dbp = param(sch, "emergency_sbp_at_least"), param(sch, "emergency_dbp_at_least")
    e_reasons = []
    if g >= hi:
        e_reasons.append(Reason("glucose_high_emergency", f"血糖≥{hi} mmol/L", f"glucose ≥ {hi} mmol/L"))
    if g <= lo:
        e_reasons.append(Reason("glucose_low_emergency", f"血糖≤{lo} mmol/L", f"glucose ≤ {lo} mmol/L"))
    if (fu.sbp is not None and fu.sbp >= e_sbp) or (fu.dbp is not None and fu.dbp >= e_dbp):
        e_reasons.append(Reason("bp_emergency_level", f"收缩压≥{e_sbp}和/或舒张压≥{e_dbp} mmHg",
                                f"SBP ≥ {e_sbp} and/or DBP ≥ {e_dbp} mmHg"))
    threshold_hit = bool(e_reasons)
    signs = danger_sign_codes(sch, fu.danger_signs)
    if signs:
        zh, en = _sign_text(sch, signs)
        e_reasons.append(Reason("danger_signs", f"危急情况：{zh}", f"danger signs: {en}"))
    emergency = _emergency(param(sch, "emergency_rule", emergency_rule), threshold_hit, signs)
    if emergency:
        e_reasons.append(Reason("emergency_referral", "紧急处理后紧急转诊，2周内随访转诊情况",
                                "give first aid and refer urgently; check back within 2 weeks"))
    return _decide("diabetes", sch, fu.visit_date, controlled, fu.previous_control, fu.adverse_reaction,
                   fu.new_complication, emergency, e_reasons, control_reason, signs)


# ---------------------------------------------------------------- severe mental illness

@dataclass(frozen=True)
class SmiAssessment:
    visit_date: date
    risk_grade: int
    stability: str                 # "stable", "basically_stable", "unstable"
    next_step: NextStep
    next_visit_due: date
    then_every_months: int | None  # regular interval after the recheck (None: decided at the recheck)
    reasons: tuple[Reason, ...]


def assess_smi(visit_date: date, risk_grade: int, *, symptoms_or_insight_poor: bool = False,
               severe_adverse_reaction_or_somatic: bool = False, schedule: Schedule | None = None) -> SmiAssessment:
    """Severe mental illness follow-up by risk grade 0–5 (grade sets from the schedule data).

    stable (0) → routine, every 3 months; basically stable (1–2, or grade 0 with poor symptoms,
    insight or social function) → adjust, recheck in 14 days, then every 2 months; unstable (3–5, or
    a severe adverse drug reaction / severe somatic disease) → refer at once, recheck within 14 days.
    """
    if isinstance(risk_grade, bool) or not isinstance(risk_grade, int) or not 0 <= risk_grade <= 5:
        raise ValueError(f"risk grade must be an integer 0–5, got {risk_grade!r}")
    sch = schedule or load_schedule("smi", visit_date)
    recheck = timedelta(days=param(sch, "recheck_days"))
    if risk_grade in param(sch, "unstable_grades") or severe_adverse_reaction_or_somatic:
        return SmiAssessment(visit_date, risk_grade, "unstable", NextStep.REFER, visit_date + recheck, None, (
            Reason("smi_unstable", f"危险性{risk_grade}级，病情不稳定：立即转诊，2周内随访",
                   f"risk grade {risk_grade}, unstable: refer at once, recheck within 2 weeks"),))
    if risk_grade in param(sch, "basically_stable_grades") or symptoms_or_insight_poor:
        every = param(sch, "basically_stable_interval_months")
        return SmiAssessment(visit_date, risk_grade, "basically_stable", NextStep.ADJUST_RECHECK,
                             visit_date + recheck, every, (
            Reason("smi_basically_stable",
                   f"危险性{risk_grade}级，病情基本稳定：调整治疗，2周后随访，之后每{every}个月随访",
                   f"risk grade {risk_grade}, basically stable: adjust, recheck in 2 weeks, "
                   f"then every {every} months"),))
    every = param(sch, "stable_interval_months")
    return SmiAssessment(visit_date, risk_grade, "stable", NextStep.ROUTINE, add_months(visit_date, every), every, (
        Reason("smi_stable", f"危险性{risk_grade}级，病情稳定：每{every}个月随访",
               f"risk grade {risk_grade}, stable: follow up every {every} months"),))


# ---------------------------------------------------------------- tuberculosis

def tb_regular_intake(doses_taken: int, doses_planned: int, *, ratio: float | None = None,
                      on: date | None = None) -> bool:
    """Regular intake: at least ``ratio`` of the planned doses taken.

    ``ratio`` defaults to ``regular_intake_ratio`` (0.9) of the TB schedule in force on ``on``
    (the newest version when ``on`` is not given).
    """
    if doses_planned <= 0:
        raise ValueError("doses_planned must be positive")
    if ratio is None:
        sch = load_schedule("tb", on) if on else schedule_versions("tb")[-1]
        ratio = sch.params["regular_intake_ratio"]
    return Fraction(doses_taken) >= Fraction(str(ratio)) * doses_planned
