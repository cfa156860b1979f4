"""Enrolment use cases: automatic enrolment recomputed from the facts (for a few residents on write, or for
the whole county as a bulk job), manual enrolment with the user's reason, and exits.

Reconciling one resident (``rules_enrollment.desired_enrollments`` against the stored enrolments):

* an automatic enrolment the facts call for and that does not exist yet (same programme and same fact,
  ``source_ref``) is created with its schedule planned; one that was ended (by a user or by an exit) is not
  re-created from the same fact;
* an active enrolment whose end the facts now give (death, moving out, age limit, end of pregnancy,
  treatment completed) is ended on that date when the date has come;
* an active *automatic* enrolment whose fact is gone (the diagnosis was withdrawn) is ended as
  ``condition_resolved``; manual ones stay until a user or an exit ends them;
* pregnancy: a delivery recorded later adds the postpartum items;
* per person (``rules_person``): a programme the person already holds through another registration linked by
  the MPI is not enrolled again on this one, and a registration merged into another gets nothing; each such
  enrolment not made is reported (``Changes.not_enrolled``, audited) with the registration that holds it.
When the MPI merges two registrations (:func:`on_merge`), the merged one's enrolments that the person also has
on another registration end ("merged", 合并) and their open items are cancelled.
Never commits (callers use ``Database.unit_of_work``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from rhip.kit import clock
from rhip.kit.dialect import bulk_insert, insert_returning_ids, reset_sequence
from rhip.kit.errors import Conflict, FieldError, NotFound, ValidationFailed
from rhip.mpi import repository as mpi_repo
from rhip.programs import repository as repo
from rhip.programs.models import END_REASONS, PROGRAM_LABELS, PROGRAMS, Enrollment, ProgramItem
from rhip.programs.rules_enrollment import ConditionFact, Desired, PersonFacts, desired_enrollments
from rhip.programs.rules_person import HeldElsewhere, NotEnrolled, per_person
from rhip.programs.rules_plan import fresh_closing_dates, plan, schedule_version
from rhip.registry import repository as registry_repo
from rhip.registry.service import resident_in_scope
from rhip.security.service import Principal, audit

ITEM_COLUMNS = ("id", "enrollment_id", "resident_id", "program", "kind", "name_zh", "service", "due_date",
                "window_start", "window_end", "status", "done_on", "followup_id")
PLANNED_COLUMNS = ITEM_COLUMNS[1:] + ("closes_on",)  # a new plan's items, the ids left to the database
ENROLLMENT_COLUMNS = ("id", "resident_id", "program", "status", "start_date", "basis", "reason_code", "reason_text",
                      "source_ref", "anchor_date", "facts", "schedule_version", "end_date", "end_reason", "end_note",
                      "created_by", "version", "created_at", "updated_at")


def plan_through(on: date) -> date:
    """Chronic and elderly items are planned through the end of the year after ``on``."""
    return date(on.year + 1, 12, 31)


@dataclass
class Changes:
    created: list[dict] = field(default_factory=list)      # enrollment rows (dicts, ENROLLMENT_COLUMNS)
    items: list[dict] = field(default_factory=list)        # item rows for new enrolments (ITEM_COLUMNS less id)
    ended: list[tuple[int, date, str]] = field(default_factory=list)   # (enrollment id, end date, reason)
    extra_items: list[dict] = field(default_factory=list)  # items added to existing enrolments
    not_enrolled: list[tuple[int, NotEnrolled]] = field(default_factory=list)  # (resident id, why): per person

    @property
    def count(self) -> int:
        return len(self.created) + len(self.ended) + len(self.extra_items)


def _load_person(rows, conditions) -> dict[int, tuple[PersonFacts, str]]:
    conds: dict[int, list[ConditionFact]] = defaultdict(list)
    for rid, cid, code, onset, recorded, status in conditions:
        conds[rid].append(ConditionFact(cid, code, onset, recorded, status))
    return {rid: (PersonFacts(birth, status, status_date, tuple(conds.get(rid, ()))), village)
            for rid, birth, status, status_date, village in rows}


def _item_rows(e: dict, through: date, plan_from: date | None = None) -> list[dict]:
    facts = json.loads(e["facts"]) if e["facts"] else {}
    items = plan(e["program"], anchor=e["anchor_date"], facts=facts, start=e["start_date"], end=e["end_date"],
                 through=through, plan_from=plan_from)
    return [{"enrollment_id": e["id"], "resident_id": e["resident_id"], "program": e["program"], "kind": it.kind,
             "name_zh": it.name_zh, "service": it.service, "due_date": it.due_date, "window_start": it.window_start,
             "window_end": it.window_end, "status": "scheduled", "done_on": None, "followup_id": None}
            for it in items]


def reconcile(s: Session, resident_ids: list[int], on: date, *, actor: str, since: date | None = None) -> Changes:
    """What the facts of these residents change in their enrolments as of ``on`` (nothing written yet).

    ``since``: also create enrolments that already ended, if they ended on or after this date (the synthetic
    history); by default only those still active on ``on``.
    """
    people = _load_person(repo.residents_facts(s, resident_ids), repo.conditions_of(s, resident_ids))
    existing: dict[int, list[Enrollment]] = defaultdict(list)
    for e in repo.enrollments_of(s, resident_ids):
        existing[e.resident_id].append(e)
    regs = mpi_repo.registrations_of_same_person(s, list(people))
    held: dict[int, list[tuple[str, int | None]]] = defaultdict(list)  # registration → active (programme, id)
    for orid, program, eid in repo.active_programs_of(s, sorted({o for r in regs.values() for o in r.others})):
        held[orid].append((program, eid))
    now = clock.now()
    ch = Changes()
    for rid in sorted(people):  # the earlier registration of a person is enrolled first
        person = people[rid][0]
        desired = desired_enrollments(person, on)
        reg = regs.get(rid)
        skip: dict[tuple[str, str | None], NotEnrolled] = {}
        if reg is not None:
            elsewhere = [HeldElsewhere(p, o, eid) for o in reg.others for p, eid in held.get(o, ())]
            _, not_made = per_person(desired, elsewhere, replaced_by=reg.replaced_by)
            skip = {(n.program, n.source_ref): n for n in not_made}
        mine = existing.get(rid, [])
        keys = {(e.program, e.source_ref) for e in mine}
        wanted = {(d.program, d.source_ref) for d in desired}
        for d in desired:
            current = next((e for e in mine if (e.program, e.source_ref) == (d.program, d.source_ref)), None)
            if current is None:
                if (d.program, d.source_ref) in keys:
                    continue
                if d.end_date is not None and d.end_date <= on and (since is None or d.end_date < since):
                    continue
                if any(e.program == d.program and e.status == "active" for e in mine):
                    continue  # already enrolled (manually, or from another fact)
                if (d.program, d.source_ref) in skip:
                    ch.not_enrolled.append((rid, skip[(d.program, d.source_ref)]))
                    continue  # the person is enrolled through another registration
                row = _new_row(rid, d, on, actor, now)
                ch.created.append(row)
                if row["status"] == "active":
                    held[rid].append((d.program, None))  # a later registration of the person sees it
                continue
            if current.status == "active" and d.end_date is not None and d.end_date <= on:
                ch.ended.append((current.id, d.end_date, d.end_reason))
            elif current.status == "active" and d.program == "pregnancy" and d.facts.get("delivery"):
                stored = json.loads(current.facts or "{}")
                if stored.get("delivery") != d.facts["delivery"]:
                    ch.extra_items.append({"enrollment": current, "facts": dict(d.facts)})
        for e in mine:
            if e.status == "active" and e.basis == "auto" and (e.program, e.source_ref) not in wanted:
                exit_date, exit_reason = _person_exit(person)
                ch.ended.append((e.id, exit_date or on, exit_reason or "condition_resolved"))
            elif e.status == "active" and e.basis == "manual":
                exit_date, exit_reason = _person_exit(person)
                if exit_date is not None and exit_date <= on:
                    ch.ended.append((e.id, exit_date, exit_reason))
    return ch


def _person_exit(person: PersonFacts) -> tuple[date | None, str | None]:
    if person.status in ("deceased", "moved_out") and person.status_date:
        return person.status_date, "death" if person.status == "deceased" else "moved_out"
    return None, None


def _new_row(rid: int, d: Desired, on: date, actor: str, now) -> dict:
    ended = d.end_date is not None and d.end_date <= on
    return {"resident_id": rid, "program": d.program, "status": "ended" if ended else "active",
            "start_date": d.start_date, "basis": "auto", "reason_code": d.reason_code, "reason_text": d.reason_zh,
            "source_ref": d.source_ref, "anchor_date": d.anchor_date,
            "facts": json.dumps(dict(d.facts), ensure_ascii=False) if d.facts else None,
            "schedule_version": schedule_version(d.program, d.start_date if d.program != "child" else d.anchor_date),
            "end_date": d.end_date if ended else None, "end_reason": d.end_reason if ended else None,
            "end_note": None, "created_by": actor, "version": 1, "created_at": now, "updated_at": now,
            "_planned_end": d.end_date}


def apply_small(s: Session, ch: Changes, on: date) -> list[int]:
    """Write the changes of a few residents (on write of their facts): new enrolments in one INSERT … RETURNING,
    their planned items in one INSERT; ends and extra items through the ORM. Returns the new enrolments' ids."""
    through = plan_through(on)
    created: list[int] = []
    if ch.created:
        s.flush()  # (the ORM's pending changes go first: these statements bypass it)
        ends = [row.pop("_planned_end") for row in ch.created]
        created = insert_returning_ids(s, Enrollment.__table__, ch.created)
        items = []
        for row, eid, end in zip(ch.created, created, ends):
            plan_rows = _item_rows(dict(row, id=eid, end_date=end), through, date(on.year, 1, 1))
            windows = [(it["service"], it["window_start"], it["window_end"]) for it in plan_rows]
            for it, closes in zip(plan_rows, fresh_closing_dates(row["program"], windows, row["end_date"])):
                it["closes_on"] = closes  # (what refresh_closes_on would store, without the UPDATE)
            items += plan_rows
        bulk_insert(s.connection(), ProgramItem.__table__, PLANNED_COLUMNS,
                    [tuple(it[c] for c in PLANNED_COLUMNS) for it in items])
    for eid, end, reason in ch.ended:
        end_enrollment_row(s, repo.get_enrollment(s, eid), end, reason, None)
    for extra in ch.extra_items:
        _replan(s, extra["enrollment"], extra["facts"], through)
    s.flush()
    repo.refresh_closes_on(s, [extra["enrollment"].id for extra in ch.extra_items])
    return created


def _replan(s: Session, e: Enrollment, facts: dict, through: date) -> None:
    stored = json.loads(e.facts or "{}") | facts
    e.facts = json.dumps(stored, ensure_ascii=False)
    e.updated_at = clock.now()
    e.version += 1
    have = {(i.kind, i.window_start) for i in repo.items_of(s, [e.id])}
    d = {"id": e.id, "resident_id": e.resident_id, "program": e.program, "anchor_date": e.anchor_date,
         "facts": e.facts, "start_date": e.start_date, "end_date": e.end_date}
    s.add_all(ProgramItem(**r) for r in _item_rows(d, through, date(through.year - 1, 1, 1))
              if (r["kind"], r["window_start"]) not in have)


def end_enrollment_row(s: Session, e: Enrollment, end: date, reason: str, note: str | None) -> None:
    e.status, e.end_date, e.end_reason, e.end_note = "ended", end, reason, note
    e.version += 1
    e.updated_at = clock.now()
    repo.cancel_items_after(s, e.id, end)
    s.flush()
    repo.refresh_closes_on(s, [e.id])


def recompute(s: Session, who: Principal, resident_ids: list[int], on: date | None = None) -> Changes:
    """Recompute the automatic enrolments of a few residents (called when their facts are written)."""
    on = on or clock.now().date()
    ch = reconcile(s, resident_ids, on, actor=who.username)
    if ch.count or ch.not_enrolled:
        apply_small(s, ch, on)
        audit(s, who, "program.enrollment.recompute", resident_ids=resident_ids,
              detail={"created": len(ch.created), "ended": len(ch.ended),
                      "not_enrolled": [_not_enrolled_detail(rid, n) for rid, n in ch.not_enrolled]})
    return ch


def _not_enrolled_detail(rid: int, n: NotEnrolled) -> dict:
    return {"resident": rid, "program": n.program, "via": n.via_resident_id, "code": n.code, "reason": n.reason_zh}


def recompute_all(s: Session, who: Principal, on: date, *, since: date | None = None, chunk: int = 5000,
                  progress=None) -> dict:
    """The bulk job: every resident's automatic enrolments, set-based (bulk inserts with explicit ids)."""
    next_e, next_i = repo.max_id(s, Enrollment) + 1, repo.max_id(s, ProgramItem) + 1
    through = plan_through(on)
    stats = {"residents": 0, "created": 0, "ended": 0, "items": 0, "not_enrolled_same_person": 0}
    conn = s.connection()
    for ids in repo.resident_id_chunks(s, chunk):
        ch = reconcile(s, ids, on, actor=who.username, since=since)
        enr_rows, item_rows = [], []
        for row in ch.created:
            planned_end = row.pop("_planned_end")
            row["id"] = next_e
            next_e += 1
            enr_rows.append(tuple(row[c] for c in ENROLLMENT_COLUMNS))
            for it in _item_rows(dict(row, end_date=planned_end), through, since or date(on.year, 1, 1)):
                it["id"] = next_i
                next_i += 1
                item_rows.append(tuple(it[c] for c in ITEM_COLUMNS))
        bulk_insert(conn, Enrollment.__table__, ENROLLMENT_COLUMNS, enr_rows)
        bulk_insert(conn, ProgramItem.__table__, ITEM_COLUMNS, item_rows)
        for eid, end, reason in ch.ended:
            end_enrollment_row(s, repo.get_enrollment(s, eid), end, reason, None)
        for extra in ch.extra_items:
            _replan(s, extra["enrollment"], extra["facts"], through)
        s.flush()
        repo.refresh_closes_on(s, [r[0] for r in enr_rows] + [extra["enrollment"].id for extra in ch.extra_items])
        stats["residents"] += len(ids)
        stats["created"] += len(enr_rows)
        stats["ended"] += len(ch.ended)
        stats["items"] += len(item_rows)
        stats["not_enrolled_same_person"] += len(ch.not_enrolled)
        if progress:
            progress(len(ids))
    reset_sequence(conn, Enrollment.__table__)
    reset_sequence(conn, ProgramItem.__table__)
    audit(s, who, "program.enrollment.recompute_all", detail=stats | {"as_of": on.isoformat()})
    return stats


def extend_plans(s: Session, on: date) -> int:
    """Plan chronic and elderly items of active enrolments into the year after ``on`` (run each year)."""
    through = plan_through(on)
    added, touched = 0, []
    for e in s.scalars(repo.select_active_periodic()):
        have = {(i.kind, i.window_start) for i in repo.items_of(s, [e.id])}
        d = {"id": e.id, "resident_id": e.resident_id, "program": e.program, "anchor_date": e.anchor_date,
             "facts": e.facts, "start_date": e.start_date, "end_date": e.end_date}
        new = [ProgramItem(**r) for r in _item_rows(d, through, date(on.year, 1, 1)) if (r["kind"], r["window_start"]) not in have]
        s.add_all(new)
        added += len(new)
        if new:
            touched.append(e.id)
    s.flush()
    repo.refresh_closes_on(s, touched)
    return added


# ---------------------------------------------------------------- manual enrolment and exit

PROGRAM_ANCHOR = {"child": "birth", "elderly": "birth", "pregnancy": "lmp", "tb": "notice"}


def _resident(s: Session, who: Principal, resident_id: int, action: str):
    return resident_in_scope(s, who, resident_id, action)


def enroll_manually(s: Session, who: Principal, resident_id: int, program: str, start: date, reason: str,
                    anchor: date | None = None, facts: dict[str, Any] | None = None) -> Enrollment:
    """Enrol by hand, with the user's reason (e.g. a diagnosis made elsewhere, a resident who asked)."""
    who.require("program.write")
    r = _resident(s, who, resident_id, "program.enrollment.create")
    errors = []
    if program not in PROGRAMS:
        errors.append(FieldError("program", "program.unknown", f"未知的项目“{program}”",
                                 f"unknown program {program!r} (one of {', '.join(PROGRAMS)})"))
    if not (reason or "").strip():
        errors.append(FieldError("reason", "reason.required", "请填写纳入管理的原因", "give the reason for enrolling"))
    if start < r.birth_date:
        errors.append(FieldError("start_date", "date.before_birth", "开始日期早于出生日期",
                                 "the start date lies before the birth date"))
    if program == "pregnancy" and anchor is None:
        errors.append(FieldError("anchor_date", "anchor.required", "孕产妇管理须填写末次月经日期",
                                 "pregnancy care needs the last menstrual period (anchor_date)"))
    if program == "tb" and anchor is None:
        anchor = start
    if errors:
        raise ValidationFailed(errors)
    if program in ("child", "elderly"):
        anchor = r.birth_date
    if repo.active_enrollment(s, resident_id, program, start) is not None or any(
            e.program == program and e.status == "active" for e in repo.enrollments_of(s, [resident_id])):
        label = PROGRAM_LABELS[program]
        raise Conflict("enrollment.exists", f"该居民已纳入{label[0]}管理", f"the resident is already enrolled in "
                                                                           f"{label[1]}", "program")
    _check_person_level(s, resident_id, program)
    now = clock.now()
    e = Enrollment(resident_id=resident_id, program=program, status="active", start_date=start, basis="manual",
                   reason_code="manual", reason_text=reason.strip()[:200], source_ref=None, anchor_date=anchor,
                   facts=json.dumps(facts, ensure_ascii=False, default=str) if facts else None,
                   schedule_version=schedule_version(program, anchor if program == "child" else start),
                   created_by=who.username, version=1, created_at=now, updated_at=now)
    s.add(e)
    s.flush()
    d = {"id": e.id, "resident_id": resident_id, "program": program, "anchor_date": anchor, "facts": e.facts,
         "start_date": start, "end_date": None}
    today = clock.now().date()
    s.add_all(ProgramItem(**row) for row in _item_rows(d, plan_through(max(start, today)),
                                                       max(start, date(today.year - 1, 1, 1))))
    s.flush()
    repo.refresh_closes_on(s, [e.id])
    audit(s, who, "program.enrollment.create", resident_ids=[resident_id],
          detail={"id": e.id, "program": program, "basis": "manual"})
    return e


def _check_person_level(s: Session, resident_id: int, program: str) -> None:
    """Refuse a manual enrolment the person already has through another registration (or on a merged one)."""
    reg = mpi_repo.registrations_of_same_person(s, [resident_id]).get(resident_id)
    if reg is None:
        return
    held = [HeldElsewhere(p, o, eid) for o, p, eid in repo.active_programs_of(s, reg.others)]
    _, not_made = per_person([Desired(program, date.min, "manual", "", "", "")], held, replaced_by=reg.replaced_by)
    if not_made:
        n = not_made[0]
        raise Conflict(f"enrollment.{n.code}", n.reason_zh, n.reason_en, "resident_id")


def on_merge(s: Session, who: Principal, survivor_id: int, merged_id: int, on: date | None = None) -> list[int]:
    """Registration ``merged_id`` was merged into ``survivor_id`` (one person). Each active enrolment of the
    merged record in a programme the person also holds on another registration ends today ("merged", 合并) and
    its open items are cancelled; an enrolment the person has only on the merged record is kept there (ending
    it would drop the person from the programme). Returns the enrolments ended."""
    on = on or clock.now().date()
    reg = mpi_repo.registrations_of_same_person(s, [merged_id]).get(merged_id)
    others = set(reg.others if reg else ()) | {survivor_id}
    elsewhere = {p for _o, p, _e in repo.active_programs_of(s, sorted(others - {merged_id}))}
    ended = []
    for e in repo.enrollments_of(s, [merged_id]):
        if e.status != "active" or e.program not in elsewhere:
            continue
        e.status, e.end_date, e.end_reason = "ended", max(on, e.start_date), "merged"
        e.end_note = f"档案合并到{survivor_id}，由该档案继续管理"
        e.version += 1
        e.updated_at = clock.now()
        repo.cancel_open_items(s, e.id)
        ended.append(e.id)
    s.flush()
    repo.refresh_closes_on(s, ended)
    if ended:
        audit(s, who, "program.enrollment.merged", resident_ids=[survivor_id, merged_id],
              detail={"ended": ended, "survivor": survivor_id, "merged": merged_id})
    return ended


def end_enrollment(s: Session, who: Principal, enrollment_id: int, end: date, reason: str,
                   note: str | None = None) -> Enrollment:
    who.require("program.write")
    e = repo.get_enrollment(s, enrollment_id)
    if e is None:
        raise NotFound("项目管理记录", "enrollment", enrollment_id)
    _resident(s, who, e.resident_id, "program.enrollment.end")
    errors = []
    if reason not in END_REASONS:
        errors.append(FieldError("reason", "reason.unknown", f"未知的结案原因“{reason}”",
                                 f"unknown end reason {reason!r} (one of {', '.join(END_REASONS)})"))
    if e.status != "active":
        errors.append(FieldError("status", "enrollment.ended", "该管理已结案", "this enrolment has already ended"))
    if end < e.start_date:
        errors.append(FieldError("end_date", "date.before_start", "结案日期早于开始日期",
                                 "the end date lies before the start date"))
    if reason == "manual" and not (note or "").strip():
        errors.append(FieldError("note", "note.required", "人工结案须说明原因", "closing by hand needs a note"))
    if errors:
        raise ValidationFailed(errors)
    end_enrollment_row(s, e, end, reason, (note or "").strip()[:200] or None)
    s.flush()
    audit(s, who, "program.enrollment.end", resident_ids=[e.resident_id],
          detail={"id": e.id, "program": e.program, "reason": reason})
    return e


def enrollments_for(s: Session, who: Principal, resident_id: int) -> list[Enrollment]:
    """The resident's enrolments, and the active ones of the person's other registrations (MPI links): care is
    per person, so those show here too (their ``resident_id`` says which registration holds them)."""
    who.require("program.read")
    _resident(s, who, resident_id, "program.enrollment.read")
    rows = repo.enrollments_of(s, [resident_id])
    reg = mpi_repo.registrations_of_same_person(s, [resident_id]).get(resident_id)
    seen = [resident_id]
    if reg is not None and reg.others:  # only registrations the user serves (scope)
        others = [o for o in reg.others if (r := registry_repo.get_resident(s, o)) is not None
                  and who.scope.covers(r.village_code)]
        rows += [e for e in repo.enrollments_of(s, others) if e.status == "active"]
        seen += others
    audit(s, who, "program.enrollment.read", resident_ids=seen, detail={"count": len(rows)})
    return rows
