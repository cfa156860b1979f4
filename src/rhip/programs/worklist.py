"""Worklists: what is due, overdue (days overdue) and coming up, as of a date, for a village doctor, a team or a
township — one set-based query over the planned items (``program_item``).

``org`` (API ``?org=``, CLI ``--org``) is either
* a division code: a 12-digit village code, a township (9 digits, or 12 ending in 000) or the county
  (6 digits, or 12 ending in 000000) — everyone registered there; or
* ``team:<id>`` — the villages a family-doctor team serves (``CareTeam/<id>`` in FHIR).
Without ``org`` the list covers the user's whole scope. The user's scope always applies on top.

A row is one open scheduled visit of one enrolment. Status as of the date: *overdue* (window closed; the
latest missed visit of each kind only — an older one is history once a later one was done or has also
closed — for the elderly's annual service, once this year's is open; windows closed more than
``lookback_days`` ago are left out), *due* (window open), *upcoming*
(window opens within ``horizon_days``). Order: overdue (longest first), due (closing soonest; rechecks after
an adjustment or referral first), upcoming.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from rhip.kit.errors import FieldError, ValidationFailed
from rhip.kit.masking import mask_phone
from rhip.kit.pagination import Page, PageRequest
from rhip.programs import repository as repo
from rhip.programs.models import PROGRAMS
from rhip.registry.rules import age_on
from rhip.security.rules import division_prefix
from rhip.security.service import Principal, audit

STATUSES = ("overdue", "due", "upcoming")
CSV_COLUMNS = ("resident_id", "name", "village_code", "program", "visit_kind", "visit_name", "status", "due_date",
               "window_start", "window_end", "days_overdue", "days_left")


@dataclass(frozen=True)
class Target:
    villages: list[str] | None
    prefix: str | None
    label: str


def resolve_org(s: Session, org: str | None) -> Target:
    if org is None or not org.strip():
        return Target(None, None, "scope")
    org = org.strip()
    if org.startswith("team:"):
        tid = org[5:]
        if not tid.isdigit() or not repo.team_exists(s, int(tid)):
            raise ValidationFailed([FieldError("org", "org.unknown_team", f"家庭医生团队“{tid}”不存在",
                                               f"family-doctor team {tid!r} does not exist")])
        return Target(repo.team_villages(s, int(tid)), None, org)
    try:
        prefix = division_prefix(org)
    except ValueError:
        prefix = None
    if prefix is None or not repo.division_exists(s, prefix.ljust(12, "0")):
        raise ValidationFailed([FieldError("org", "org.unknown", f"“{org}”不是已登记的区划代码或 team:<团队ID>",
                                           f"{org!r} is neither a registered division code nor team:<team id>")])
    return Target(None, prefix, org)


def build_query(s: Session, *, org: str | None, as_of: date, programs: list[str] | None = None,
                statuses: list[str] | None = None, horizon_days: int = 30, lookback_days: int = 365
                ) -> repo.WorklistQuery:
    errors = []
    bad = [p for p in programs or [] if p not in PROGRAMS]
    if bad:
        errors.append(FieldError("program", "program.unknown", f"未知的项目：{', '.join(bad)}",
                                 f"unknown program(s): {', '.join(bad)} (known: {', '.join(PROGRAMS)})"))
    bad = [x for x in statuses or [] if x not in STATUSES]
    if bad:
        errors.append(FieldError("status", "status.unknown", f"未知的状态：{', '.join(bad)}",
                                 f"unknown status(es): {', '.join(bad)} (known: {', '.join(STATUSES)})"))
    if not 0 <= horizon_days <= 366:
        errors.append(FieldError("horizon", "range", "提前天数应为0～366", "horizon must be 0-366 days"))
    if errors:
        raise ValidationFailed(errors)
    target = resolve_org(s, org)
    return repo.WorklistQuery(as_of=as_of, villages=target.villages, prefix=target.prefix, programs=programs or None,
                              statuses=statuses or None, horizon_days=horizon_days, lookback_days=lookback_days)


def row_out(row: Any, as_of: date, *, mask: bool = True) -> dict:
    (item_id, rid, eid, program, kind, name_zh, service, due, ws, we, name, sex, birth, village, phone) = row
    if we < as_of:
        status, overdue, left = "overdue", (as_of - we).days, 0
    elif ws <= as_of:
        status, overdue, left = "due", 0, (we - as_of).days
    else:
        status, overdue, left = "upcoming", 0, (we - as_of).days
    return {"item_id": item_id, "resident_id": rid, "enrollment_id": eid, "name": name, "sex": sex,
            "age": age_on(birth, as_of), "village_code": village, "phone": mask_phone(phone) if mask else phone,
            "program": program, "visit_kind": kind, "visit_name": name_zh, "service": service, "status": status,
            "due_date": due.isoformat(), "window_start": ws.isoformat(), "window_end": we.isoformat(),
            "days_overdue": overdue, "days_left": left}


def page(s: Session, who: Principal, q: repo.WorklistQuery, req: PageRequest) -> Page[dict]:
    """One page of a worklist (masked phones), audited with the residents shown."""
    who.require("program.read")
    rows, total = repo.worklist(s, q, who.scope, offset=req.offset, limit=req.page_size)
    out = [row_out(r, q.as_of) for r in rows]
    audit(s, who, "worklist.read", resident_ids=[r["resident_id"] for r in out],
          detail={"as_of": q.as_of.isoformat(), "prefix": q.prefix, "villages": len(q.villages or []),
                  "count": len(out), "total": total})
    return Page(out, total, req.page, req.page_size)


def export(s: Session, who: Principal, q: repo.WorklistQuery, *, batch: int = 20000):
    """Every row in urgency order (for the CLI), in batches; audited once with every resident listed."""
    who.require("program.read")
    residents: set[int] = set()
    for chunk in repo.worklist_stream(s, q, who.scope, batch):
        out = [row_out(r, q.as_of, mask=False) for r in chunk]
        residents.update(r["resident_id"] for r in out)
        yield out
    audit(s, who, "worklist.export", resident_ids=sorted(residents),
          detail={"as_of": q.as_of.isoformat(), "prefix": q.prefix, "villages": len(q.villages or []),
                  "residents": len(residents)})
