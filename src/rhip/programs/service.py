"""Follow-up use case: record one programme follow-up in one transaction.

1. permission ``program.write`` and ``resident.write``; the resident must be in the user's scope;
2. the form is checked (required fields per programme — ``forms.FORMS`` — and measurement plausibility by
   ``rules_validation.validate_followup``: an SBP of 400 or an SBP not above the DBP is refused), and the
   resident must be enrolled in the programme on the visit date;
3. the rules classify it (hypertension/diabetes control and next step with the previous follow-up's control
   status; severe mental illness by risk grade; pregnancy five-colour risk);
4. it is stored as an Encounter (public-health follow-up, or home visit) with its Observations in records,
   plus a ``program_followup`` row; the scheduled visit(s) it fulfils are marked done; a non-routine next step
   adds a recheck item; the resident's facts for that year are refreshed;
5. audited (``program.followup.create``; records audits the encounter and observations too).
Never commits.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from rhip.kit import clock
from rhip.kit.errors import FieldError, NotFound, OutOfScope, ValidationFailed
from rhip.programs import facts as facts_service
from rhip.programs import repository as repo
from rhip.programs.forms import ADHERENCE, PAEDIATRIC_RANGES, WAYS, fields_of
from rhip.programs.models import PROGRAM_LABELS, PROGRAMS, FollowUp, ProgramItem
from rhip.programs.rules_chronic import assess_smi, classify_diabetes, classify_hypertension, danger_sign_codes
from rhip.programs.rules_common import Reason, load_schedule
from rhip.programs.rules_maternal import assess_pregnancy_risk
from rhip.programs.rules_plan import match_item, recheck_item
from rhip.programs.rules_validation import MEASUREMENT_RANGES, Range, validate_followup
from rhip.records import service as records
from rhip.registry import repository as registry_repo
from rhip.registry.rules import age_on
from rhip.security.service import Principal, audit

LOINC = "http://loinc.org"
PROGRAM_OBS = "urn:rhip:cs:program-observation"
SOURCE = "rhip"
REASON_TEXT = {"hypertension": "高血压患者随访", "diabetes": "2型糖尿病患者随访", "smi": "严重精神障碍患者随访",
               "pregnancy": "孕产妇健康管理", "child": "0～6岁儿童健康检查", "elderly": "老年人健康管理",
               "tb": "肺结核患者随访"}


def _bool(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes", "on", "是")
    return bool(v)


def _check_form(program: str, form: dict[str, Any], resident_birth: date, visit_date: date,
                today: date) -> list[FieldError]:
    errors: list[FieldError] = []
    for name, kind, zh, en, required, choices in fields_of(program):
        v = form.get(name)
        empty = v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, (list, tuple)) and not v)
        if required and empty:
            errors.append(FieldError(name, "required", f"请填写{zh}", f"{en} is required"))
            continue
        if empty:
            continue
        if kind == "choice" and isinstance(choices, tuple) and v not in {c for c, _ in choices}:
            errors.append(FieldError(name, "choice", f"{zh}的取值“{v}”无效", f"{en}: {v!r} is not a valid choice"))
        if kind == "int" and name not in MEASUREMENT_RANGES:
            try:
                if int(str(v)) < 0:
                    raise ValueError
            except ValueError:
                errors.append(FieldError(name, "not_an_integer", f"{zh}应为非负整数", f"{en} must be a whole number ≥ 0"))
    if form.get("danger_signs") and program in ("hypertension", "diabetes"):
        try:
            danger_sign_codes(load_schedule(program, visit_date), form["danger_signs"])
        except ValueError:
            errors.append(FieldError("danger_signs", "choice", "危急情况的取值无效", "unknown danger sign"))
    ranges = None
    if program == "child":
        ranges = {k: Range(lo, hi, unit, MEASUREMENT_RANGES[k].zh, MEASUREMENT_RANGES[k].en)
                  for (k, (lo, hi)), unit in zip(PAEDIATRIC_RANGES.items(), ("kg", "cm"))}
    errors += [FieldError(i.field, i.code, i.message_zh, i.message_en) for i in validate_followup(form, ranges=ranges)]
    if visit_date > today:
        errors.append(FieldError("visit_date", "date.future", "随访日期不能晚于今天", "the visit date lies in the future"))
    if visit_date < resident_birth:
        errors.append(FieldError("visit_date", "date.before_birth", "随访日期早于出生日期",
                                 "the visit date lies before the birth date"))
    return errors


def _num(form: dict, name: str, cast=float):
    v = form.get(name)
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    return cast(float(v)) if cast is int else cast(v)


def _classify(s: Session, program: str, enrollment_id: int, form: dict, visit_date: date, age: int) -> dict:
    """Control status, next step, due date and reasons from the rules (plus risk grade/colour)."""
    prev = repo.previous_followup(s, enrollment_id, visit_date)
    previous_control = prev.control_status if prev else None
    signs = tuple(form.get("danger_signs") or ())
    out: dict[str, Any] = {"control_status": None, "next_step": None, "next_visit_due": None, "reasons": [],
                           "risk_grade": None, "risk_colour": None}
    if program == "hypertension":
        a = classify_hypertension({"visit_date": visit_date, "sbp": _num(form, "sbp", int), "dbp": _num(form, "dbp", int),
                                   "age": age, "adverse_reaction": _bool(form.get("adverse_reaction")),
                                   "new_complication": _bool(form.get("new_complication")), "danger_signs": signs,
                                   "previous_control": previous_control})
    elif program == "diabetes":
        a = classify_diabetes({"visit_date": visit_date, "fasting_glucose": _num(form, "fasting_glucose"),
                               "sbp": _num(form, "sbp", int), "dbp": _num(form, "dbp", int),
                               "adverse_reaction": _bool(form.get("adverse_reaction")),
                               "new_complication": _bool(form.get("new_complication")), "danger_signs": signs,
                               "previous_control": previous_control})
    elif program == "smi":
        a = assess_smi(visit_date, _num(form, "risk_grade", int),
                       symptoms_or_insight_poor=_bool(form.get("symptoms_or_insight_poor")),
                       severe_adverse_reaction_or_somatic=_bool(form.get("severe_adverse_reaction_or_somatic")))
        out.update(risk_grade=a.risk_grade, next_step=a.next_step.value, next_visit_due=a.next_visit_due,
                   reasons=[r.__dict__ for r in a.reasons],
                   control_status="controlled" if a.stability == "stable" else "uncontrolled")
        return out
    elif program == "pregnancy":
        r = assess_pregnancy_risk(form.get("risk_factors") or (), age=age)
        out.update(risk_colour=r.colour, reasons=[{"code": f"colour_{c}", "zh": r.recommendation_zh,
                                                   "en": r.recommendation_en} for c in r.colours[:1]])
        return out
    else:
        return out
    out.update(control_status=a.control_status.value, next_step=a.next_step.value, next_visit_due=a.next_visit_due,
               reasons=[r.__dict__ for r in a.reasons])
    return out


def _observations(program: str, form: dict) -> list[tuple[dict, list[dict] | None]]:
    """(fields, components) of the Observations the form carries."""
    out: list[tuple[dict, list[dict] | None]] = []
    sbp, dbp = _num(form, "sbp"), _num(form, "dbp")
    if sbp is not None and dbp is not None:
        out.append(({"category": "vital-signs", "code_system": LOINC, "code": "85354-9", "display": "血压"},
                    [{"code_system": LOINC, "code": "8480-6", "display": "收缩压", "value": sbp, "unit": "mm[Hg]"},
                     {"code_system": LOINC, "code": "8462-4", "display": "舒张压", "value": dbp, "unit": "mm[Hg]"}]))
    for name, code, display, unit, category in (
            ("weight", "29463-7", "体重", "kg", "vital-signs"), ("height", "8302-2", "身高", "cm", "vital-signs"),
            ("heart_rate", "8867-4", "心率", "/min", "vital-signs"),
            ("fasting_glucose", "1558-6", "空腹血糖", "mmol/L", "laboratory"),
            ("haemoglobin", "718-7", "血红蛋白", "g/L", "laboratory")):
        v = _num(form, name)
        if v is not None:
            out.append(({"category": category, "code_system": LOINC, "code": code, "display": display, "value": v,
                         "unit": unit}, None))
    if program == "smi" and _num(form, "risk_grade") is not None:
        out.append(({"category": "survey", "code_system": PROGRAM_OBS, "code": "smi-risk-grade",
                     "display": "严重精神障碍危险性评估", "value": _num(form, "risk_grade")}, None))
    return out


def record_followup(s: Session, who: Principal, resident_id: int, program: str, visit_date: date,
                    form: dict[str, Any], *, kind: str | None = None, org_id: int | None = None,
                    practitioner_id: int | None = None) -> tuple[FollowUp, dict]:
    """Record one follow-up; returns the row and the decision (control status, next step, reasons)."""
    who.require("program.write")
    who.require("resident.write")
    r = registry_repo.get_resident(s, resident_id)
    if r is None:
        raise NotFound("居民", "resident", resident_id)
    if not who.scope.covers(r.village_code):
        raise OutOfScope(resident_id, action="program.followup.create", resident_ids=[resident_id])
    if program not in PROGRAMS:
        raise ValidationFailed([FieldError("program", "program.unknown", f"未知的项目“{program}”",
                                           f"unknown program {program!r} (one of {', '.join(PROGRAMS)})")])
    today = clock.now().date()
    errors = _check_form(program, form, r.birth_date, visit_date, today)
    enrollment = repo.active_enrollment(s, resident_id, program, visit_date)
    if enrollment is None:
        label = PROGRAM_LABELS[program]
        errors.append(FieldError("program", "enrollment.none", f"该居民在{visit_date.isoformat()}未纳入{label[0]}管理，"
                                                               "请先登记纳入管理",
                                 f"the resident is not enrolled in {label[1]} on {visit_date.isoformat()}: "
                                 f"enrol first"))
    if errors:
        raise ValidationFailed(errors)
    if program == "pregnancy" and form.get("delivery_date"):
        from rhip.programs.enrollment import _replan, plan_through

        delivery = date.fromisoformat(str(form["delivery_date"]))
        if delivery > visit_date or delivery < enrollment.anchor_date:
            raise ValidationFailed([FieldError("delivery_date", "date.order", "分娩日期应在末次月经之后、随访日期之前",
                                               "the delivery date must lie after the LMP and not after the visit")])
        _replan(s, enrollment, {"delivery": delivery.isoformat()}, plan_through(today))
        s.flush()
    decision = _classify(s, program, enrollment.id, form, visit_date, age_on(r.birth_date, visit_date))

    start = datetime.combine(visit_date, time(9, 0))
    enc_kind = "home_visit" if form.get("way") == "home" else "followup"
    ref = uuid.uuid4().hex
    encounter, _ = records.upsert(s, who, "Encounter", {
        "resident_id": resident_id, "org_id": org_id, "practitioner_id": practitioner_id, "source_system": SOURCE,
        "source_id": f"program-followup-{ref}", "kind": enc_kind, "status": "finished", "period_start": start,
        "period_end": start + timedelta(minutes=20), "reason": REASON_TEXT[program]})
    for i, (fields, comps) in enumerate(_observations(program, form)):
        records.upsert(s, who, "Observation", {
            "resident_id": resident_id, "org_id": org_id, "practitioner_id": practitioner_id, "source_system": SOURCE,
            "source_id": f"program-followup-{ref}-{i}", "encounter_id": encounter.id, "status": "final",
            "effective_at": start, "value": None, "unit": None, **fields}, comps)

    items = [i for i in repo.open_items(s, enrollment.id)]
    chosen = match_item(items, visit_date, kind)
    now = clock.now()
    stored_form = {k: v for k, v in form.items() if v not in (None, "", [], ())}
    row = FollowUp(enrollment_id=enrollment.id, resident_id=resident_id, program=program, encounter_id=encounter.id,
                   visit_date=visit_date, item_kind=chosen[0].kind if chosen else None,
                   face_to_face=form.get("way") != "phone", control_status=decision["control_status"],
                   next_step=decision["next_step"], next_visit_due=decision["next_visit_due"],
                   risk_grade=decision["risk_grade"], risk_colour=decision["risk_colour"],
                   reasons=json.dumps(decision["reasons"], ensure_ascii=False),
                   form=json.dumps(stored_form, ensure_ascii=False, default=str), org_id=org_id,
                   practitioner_id=practitioner_id, created_by=who.username, created_at=now)
    s.add(row)
    s.flush()
    repo.mark_done(s, [i.id for i in chosen], visit_date, row.id)
    if decision["next_step"]:
        extra = recheck_item(program, visit_date, decision["next_step"], decision["next_visit_due"])
        same = [i for i in items if extra is not None and i.kind == extra.kind and i.window_start == extra.window_start]
        if same:  # a second follow-up the same day: its decision replaces the first one's
            same[0].due_date, same[0].window_end, same[0].status, same[0].done_on = (
                extra.due_date, extra.window_end, "scheduled", None)
        elif extra is not None:
            s.add(ProgramItem(enrollment_id=enrollment.id, resident_id=resident_id, program=program, kind=extra.kind,
                              name_zh=extra.name_zh, service=extra.service, due_date=extra.due_date,
                              window_start=extra.window_start, window_end=extra.window_end, status="scheduled"))
    s.flush()
    repo.refresh_closes_on(s, [enrollment.id])
    facts_service.refresh(s, visit_date.year, [resident_id], until=today)
    audit(s, who, "program.followup.create", resident_ids=[resident_id],
          detail={"id": row.id, "program": program, "encounter": encounter.id, "next_step": decision["next_step"]})
    return row, decision


def followups_for(s: Session, who: Principal, resident_id: int, limit: int = 50) -> list[FollowUp]:
    who.require("program.read")
    r = registry_repo.get_resident(s, resident_id)
    if r is None:
        raise NotFound("居民", "resident", resident_id)
    if not who.scope.covers(r.village_code):
        raise OutOfScope(resident_id, action="program.followup.read", resident_ids=[resident_id])
    rows = repo.followups_of(s, resident_id=resident_id, limit=limit)
    audit(s, who, "program.followup.read", resident_ids=[resident_id], detail={"count": len(rows)})
    return rows


def reasons_of(row: FollowUp) -> list[Reason]:
    return [Reason(**r) for r in json.loads(row.reasons or "[]")]


def labels(table: tuple, code: str | None) -> str:
    return dict(table).get(code, code or "")


__all__ = ["ADHERENCE", "WAYS", "followups_for", "labels", "reasons_of", "record_followup"]
