"""FHIR R4 read and search of the programmes: EpisodeOfCare (an enrolment) and CarePlan (its schedule, one
activity per planned visit with its window and status). Follow-up results are the Encounter and Observations
of ``records`` (searchable there by patient and date). Framework-free, like ``fhir.service``.

Ids: EpisodeOfCare/<enrolment id>, CarePlan/<enrolment id>. Teams: ``CareTeam/<team id>`` — the registry's
family-doctor teams serving the resident's village (the contracts part maps CareTeam itself).
Security: permission ``program.read``; residents outside the user's scope are not found; every read and
search is audited with the residents returned.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from rhip.fhir.errors import FhirError, Issue, not_found
from rhip.fhir.mappers import common
from rhip.fhir.search import count_and_page, date_range, searchset, token
from rhip.kit import clock
from rhip.kit.errors import OutOfScope
from rhip.programs.models import END_REASONS, PROGRAM_LABELS, PROGRAMS, Enrollment, FollowUp, ProgramItem
from rhip.registry.models import Resident, TeamVillage
from rhip.registry.repository import scope_filter
from rhip.security.service import Principal, audit

PROGRAM_SYSTEM = "urn:rhip:cs:program"
VISIT_SYSTEM = "urn:rhip:cs:program-visit"
EXT = "urn:rhip:sd"
CONTROL = {"_count", "_page", "_format"}
SEARCH = {
    "EpisodeOfCare": {"_id": "token", "patient": "reference", "status": "token", "type": "token", "date": "date",
                      "care-team": "reference"},
    "CarePlan": {"_id": "token", "patient": "reference", "subject": "reference", "status": "token",
                 "category": "token", "date": "date", "activity-date": "date", "care-team": "reference"},
}
CAPABILITY: list[dict] = [
    {"type": rtype, "interaction": [{"code": "read"}, {"code": "search-type"}],
     "searchParam": [{"name": n, "type": t} for n, t in params.items()]}
    for rtype, params in SEARCH.items()
]
COMPLETED_REASONS = {"pregnancy_ended", "age_limit", "treatment_completed"}


def _teams(s: Session, villages: set[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    if villages:
        for tid, code in s.execute(select(TeamVillage.team_id, TeamVillage.division_code)
                                   .where(TeamVillage.division_code.in_(villages)).order_by(TeamVillage.team_id)):
            out.setdefault(code, []).append(tid)
    return out


def _ext(name: str, kind: str, value) -> dict:
    return {"url": f"{EXT}:{name}", kind: value}


def episode(e: Enrollment, teams: list[int]) -> dict:
    zh, en = PROGRAM_LABELS[e.program]
    r = {"resourceType": "EpisodeOfCare", "id": str(e.id), "meta": common.meta(e),
         "extension": [_ext("enrollment-basis", "valueCode", e.basis),
                       _ext("enrollment-reason", "valueString", e.reason_text),
                       _ext("schedule-version", "valueString", e.schedule_version)],
         "status": "active" if e.status == "active" else "finished",
         "type": [{"coding": [{"system": PROGRAM_SYSTEM, "code": e.program, "display": zh}], "text": en}],
         "patient": {"reference": f"Patient/{e.resident_id}"},
         "period": {"start": e.start_date.isoformat()}}
    if e.end_date:
        r["period"]["end"] = e.end_date.isoformat()
        zh_end, en_end = END_REASONS.get(e.end_reason, (e.end_reason, e.end_reason))
        r["extension"].append(_ext("end-reason", "valueCoding", {"system": f"{EXT}:end-reason",
                                                                 "code": e.end_reason, "display": zh_end}))
    if e.source_ref and e.source_ref.startswith("Condition/"):
        r["diagnosis"] = [{"condition": {"reference": e.source_ref}}]
    if teams:
        r["team"] = [{"reference": f"CareTeam/{t}"} for t in teams]
    return r


def _activity_status(i: ProgramItem, today: date) -> tuple[str, int]:
    if i.status == "cancelled":
        return "cancelled", 0
    if i.done_on is not None:
        return "completed", 0
    if i.window_start > today:
        return "scheduled", 0
    return "not-started", max(0, (today - i.window_end).days)


def care_plan(e: Enrollment, items: list[ProgramItem], encounters: dict[int, int], teams: list[int],
              today: date) -> dict:
    zh, en = PROGRAM_LABELS[e.program]
    status = "active" if e.status == "active" else ("completed" if e.end_reason in COMPLETED_REASONS else "revoked")
    r = {"resourceType": "CarePlan", "id": str(e.id), "meta": common.meta(e), "status": status, "intent": "plan",
         "category": [{"coding": [{"system": PROGRAM_SYSTEM, "code": e.program, "display": zh}]}],
         "title": f"{zh}健康管理", "description": f"{en}: schedule version {e.schedule_version} "
                                                  f"(国家基本公共卫生服务规范)",
         "subject": {"reference": f"Patient/{e.resident_id}"}, "period": {"start": e.start_date.isoformat()},
         "activity": []}
    if e.end_date:
        r["period"]["end"] = e.end_date.isoformat()
    if teams:
        r["careTeam"] = [{"reference": f"CareTeam/{t}"} for t in teams]
    if e.source_ref and e.source_ref.startswith("Condition/"):
        r["addresses"] = [{"reference": e.source_ref}]
    for i in items:
        st, late = _activity_status(i, today)
        detail = {"code": {"coding": [{"system": VISIT_SYSTEM, "code": i.kind, "display": i.name_zh}]},
                  "status": st, "scheduledPeriod": {"start": i.window_start.isoformat(),
                                                    "end": i.window_end.isoformat()},
                  "description": i.name_zh}
        if late:
            detail["extension"] = [_ext("days-overdue", "valueInteger", late)]
        act = {"detail": detail}
        if i.followup_id and encounters.get(i.followup_id):
            act["outcomeReference"] = [{"reference": f"Encounter/{encounters[i.followup_id]}"}]
        r["activity"].append(act)
    return r


def _ids(name: str, value: str, rtype: str) -> list[int]:
    out = []
    for v in value.split(","):
        rid = v.rstrip("/").rpartition("/")[2]
        kind = v.rstrip("/").rpartition("/")[0]
        if not rid.isdigit() or (kind and not kind.endswith(rtype)):
            raise FhirError(400, [Issue("value", f"{name}={v!r} is not a reference to a {rtype}", name)])
        out.append(int(rid))
    return out


def _conditions(s: Session, rtype: str, params: dict[str, list[str]]) -> list:
    supported = SEARCH[rtype]
    unknown = sorted(k for k in params if k not in supported and k not in CONTROL)
    if unknown:
        raise FhirError(400, [Issue("not-supported", f"search parameter {k!r} is not supported for {rtype} "
                                                     f"(supported: {', '.join(supported)})", k) for k in unknown])
    c = []
    for name, values in params.items():
        for value in values:
            if name == "_id":
                c.append(Enrollment.id.in_(_ids(name, value, rtype)))
            elif name in ("patient", "subject"):
                c.append(Enrollment.resident_id.in_(_ids(name, value, "Patient")))
            elif name in ("type", "category"):
                codes = []
                for part in value.split(","):
                    system, code = token(part)
                    if system not in (None, "", PROGRAM_SYSTEM) or code not in PROGRAMS:
                        raise FhirError(400, [Issue("code-invalid", f"{name}={part!r}: one of {PROGRAM_SYSTEM}|"
                                                                    f"{', '.join(PROGRAMS)}", name)])
                    codes.append(code)
                c.append(Enrollment.program.in_(codes))
            elif name == "status":
                mapping = ({"active": ["active"], "finished": ["ended"]} if rtype == "EpisodeOfCare"
                           else {"active": ["active"], "completed": ["ended"], "revoked": ["ended"]})
                code = token(value)[1]
                if code not in mapping:
                    raise FhirError(400, [Issue("code-invalid", f"status={code!r}: one of {', '.join(mapping)}",
                                                name)])
                c.append(Enrollment.status.in_(mapping[code]))
                if rtype == "CarePlan" and code in ("completed", "revoked"):
                    done = Enrollment.end_reason.in_(COMPLETED_REASONS)
                    c.append(done if code == "completed" else ~done)
            elif name == "date":
                lo, hi = date_range(name, value)
                if hi:
                    c.append(Enrollment.start_date <= hi)
                if lo:
                    c.append(or_(Enrollment.end_date.is_(None), Enrollment.end_date >= lo))
            elif name == "activity-date":
                lo, hi = date_range(name, value)
                item = select(ProgramItem.id).where(ProgramItem.enrollment_id == Enrollment.id)
                if hi:
                    item = item.where(ProgramItem.window_start <= hi)
                if lo:
                    item = item.where(ProgramItem.window_end >= lo)
                c.append(item.exists())
            elif name == "care-team":
                teams = _ids(name, value, "CareTeam")
                c.append(Resident.village_code.in_(select(TeamVillage.division_code)
                                                   .where(TeamVillage.team_id.in_(teams))))
    return c


def _scoped(who: Principal) -> list:
    sf = scope_filter(who.scope)
    return [sf] if sf is not None else []


def _render(s: Session, rtype: str, rows: list[tuple[Enrollment, str]]) -> list[dict]:
    teams = _teams(s, {v for _, v in rows})
    if rtype == "EpisodeOfCare":
        return [episode(e, teams.get(v, [])) for e, v in rows]
    ids = [e.id for e, _ in rows]
    items: dict[int, list[ProgramItem]] = {}
    for i in s.scalars(select(ProgramItem).where(ProgramItem.enrollment_id.in_(ids))
                       .order_by(ProgramItem.window_start, ProgramItem.kind)) if ids else []:
        items.setdefault(i.enrollment_id, []).append(i)
    fids = [i.followup_id for lst in items.values() for i in lst if i.followup_id]
    encounters: dict[int, int] = {}
    if fids:
        encounters = {fid: enc for fid, enc in s.execute(select(FollowUp.id, FollowUp.encounter_id)
                                                         .where(FollowUp.id.in_(fids))).all()}
    today = clock.now().date()
    return [care_plan(e, items.get(e.id, []), encounters, teams.get(v, []), today) for e, v in rows]


def read(s: Session, who: Principal, rtype: str, rid: str) -> dict:
    who.require("program.read")
    row = s.execute(select(Enrollment, Resident.village_code).join(Resident, Resident.id == Enrollment.resident_id)
                    .where(Enrollment.id == int(rid))).first() if rid.isdigit() else None
    if row is None:
        raise not_found(rtype, rid)
    if not who.scope.covers(row[1]):
        raise OutOfScope(rid, action=f"{rtype.lower()}.read", resident_ids=[row[0].resident_id])
    audit(s, who, f"{rtype.lower()}.read", resident_ids=[row[0].resident_id], detail={"id": int(rid)})
    return _render(s, rtype, [tuple(row)])[0]


def search(s: Session, who: Principal, rtype: str, params: dict[str, list[str]], base: str) -> dict:
    who.require("program.read")
    c = _conditions(s, rtype, params) + _scoped(who)
    count, page = count_and_page(params)
    q = select(Enrollment, Resident.village_code).join(Resident, Resident.id == Enrollment.resident_id).where(*c)
    total = s.scalar(select(func.count()).select_from(Enrollment).join(Resident, Resident.id == Enrollment.resident_id)
                     .where(*c))
    rows = [tuple(r) for r in s.execute(q.order_by(Enrollment.start_date.desc(), Enrollment.id.desc())
                                        .offset((page - 1) * count).limit(count))]
    audit(s, who, f"{rtype.lower()}.search", resident_ids=[e.resident_id for e, _ in rows],
          detail={"count": len(rows), "total": total})
    return searchset(rtype, params, base, _render(s, rtype, rows), total, count, page)


