"""All programme queries (enrolments, schedule items, follow-ups, facts, worklists)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Date, and_, bindparam, case, func, literal, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from rhip.programs.models import Enrollment, FollowUp, ProgramFact, ProgramItem
from rhip.programs.rules_plan import CANCELLED_CLOSES, STILL_OPEN
from rhip.records.models import Condition
from rhip.registry.models import Division, Resident, Team, TeamVillage
from rhip.registry.repository import _prefix_range, scope_filter
from rhip.security.rules import Scope


# ---------------------------------------------------------------- facts for enrolment

# The queries that run on every write of a resident's facts, built once (building a statement costs more than
# running it on a few ids); ``:ids`` is an expanding IN list.
_IDS = bindparam("ids", expanding=True)
_RESIDENTS_FACTS = select(Resident.id, Resident.birth_date, Resident.status, Resident.status_date,
                          Resident.village_code).where(Resident.id.in_(_IDS))
_CONDITIONS_OF = select(Condition.resident_id, Condition.id, Condition.code, Condition.onset_date,
                        Condition.recorded_date, Condition.clinical_status).where(Condition.resident_id.in_(_IDS))
_ENROLLMENTS_OF = (select(Enrollment).where(Enrollment.resident_id.in_(_IDS))
                   .order_by(Enrollment.resident_id, Enrollment.program, Enrollment.start_date))
_ACTIVE_PROGRAMS_OF = (select(Enrollment.resident_id, Enrollment.program, Enrollment.id)
                       .where(Enrollment.resident_id.in_(_IDS), Enrollment.status == "active")
                       .order_by(Enrollment.resident_id, Enrollment.id))


def residents_facts(s: Session, resident_ids: list[int]) -> list[tuple]:
    """(id, birth date, status, status date, village code) of these residents."""
    return list(s.execute(_RESIDENTS_FACTS, {"ids": list(resident_ids)}))


def resident_id_chunks(s: Session, size: int, after: int = 0) -> Iterator[list[int]]:
    last = after
    while True:
        ids = list(s.scalars(select(Resident.id).where(Resident.id > last).order_by(Resident.id).limit(size)))
        if not ids:
            return
        yield ids
        last = ids[-1]


def conditions_of(s: Session, resident_ids: list[int]) -> list[tuple]:
    """(resident id, condition id, code, onset, recorded, clinical status) of these residents."""
    return list(s.execute(_CONDITIONS_OF, {"ids": list(resident_ids)}))


def enrollments_of(s: Session, resident_ids: list[int]) -> list[Enrollment]:
    return list(s.scalars(_ENROLLMENTS_OF, {"ids": list(resident_ids)}))


def get_enrollment(s: Session, eid: int) -> Enrollment | None:
    return s.get(Enrollment, eid)


def active_enrollment(s: Session, resident_id: int, program: str, on: date) -> Enrollment | None:
    """The enrolment of the resident in the programme that covers ``on`` (the latest started)."""
    return s.scalar(select(Enrollment).where(
        Enrollment.resident_id == resident_id, Enrollment.program == program, Enrollment.start_date <= on,
        or_(Enrollment.end_date.is_(None), Enrollment.end_date >= on)).order_by(Enrollment.start_date.desc()).limit(1))


def items_of(s: Session, enrollment_ids: Iterable[int]) -> list[ProgramItem]:
    ids = list(enrollment_ids)
    if not ids:
        return []
    return list(s.scalars(select(ProgramItem).where(ProgramItem.enrollment_id.in_(ids))
                          .order_by(ProgramItem.enrollment_id, ProgramItem.window_start, ProgramItem.kind)))


# ---------------------------------------------------------------- when an item stops being work

def _least(dialect: str, *args):
    return func.min(*args) if dialect == "sqlite" else func.least(*args)


def _greatest(dialect: str, *args):
    return func.max(*args) if dialect == "sqlite" else func.greatest(*args)


def _next_day(dialect: str, col):
    return func.date(col, "+1 day") if dialect == "sqlite" else col + 1


def closes_on_expression(dialect: str) -> ColumnElement:
    """``closes_on`` of the outer ``program_item`` row, in SQL: the first date D on which the worklist's rules
    no longer show the item as of D. It is the earliest of
    * its done date (an item done on D is not work as of D);
    * the day after its enrolment ended;
    * the first D on which a later item of the same enrolment and service (window opening after this one's
      closed) has opened and has itself been done or closed — for the elderly's annual service, as soon as the
      later one opens: the doctor sees the latest missed visit, not every missed quarter.
    Cancelled items get CANCELLED_CLOSES. The rules are monotone in D, so one stored date answers every as-of
    date (decision 0010)."""
    i, later = ProgramItem.__table__, ProgramItem.__table__.alias("later")
    sentinel = literal(STILL_OPEN, Date)
    threshold = case((later.c.program == "elderly", later.c.window_start),
                     else_=_greatest(dialect, later.c.window_start,
                                     _least(dialect, func.coalesce(later.c.done_on, sentinel),
                                            _next_day(dialect, later.c.window_end))))
    superseded = (select(func.min(threshold))
                  .where(later.c.enrollment_id == i.c.enrollment_id, later.c.service == i.c.service,
                         later.c.window_start > i.c.window_end).scalar_subquery())
    ended = (select(_next_day(dialect, Enrollment.end_date)).where(Enrollment.id == i.c.enrollment_id)
             .scalar_subquery())
    return case((i.c.status == "cancelled", literal(CANCELLED_CLOSES, Date)),
                else_=_least(dialect, func.coalesce(i.c.done_on, sentinel), func.coalesce(superseded, sentinel),
                             func.coalesce(ended, sentinel)))


@functools.cache
def _refresh_statements(dialect: str) -> tuple:
    """(every item, the items of some enrolments): built once per dialect, the expression is large."""
    i = ProgramItem.__table__
    stmt = update(i).values(closes_on=closes_on_expression(dialect))
    return stmt, stmt.where(i.c.enrollment_id.in_(bindparam("enrollment_ids", expanding=True)))


def refresh_closes_on(s: Session, enrollment_ids: Iterable[int] | None = None, *, chunk: int = 500) -> None:
    """Recompute ``program_item.closes_on`` for the items of these enrolments (None: every item). Called by every
    write that plans, completes, cancels or ends (service, enrolment jobs, the synthetic county)."""
    every, some = _refresh_statements(s.get_bind().dialect.name)
    if enrollment_ids is None:
        s.execute(every)
        return
    ids = sorted(set(enrollment_ids))
    for k in range(0, len(ids), chunk):
        s.execute(some, {"enrollment_ids": ids[k:k + chunk]})


def open_items(s: Session, enrollment_id: int) -> list[ProgramItem]:
    return list(s.scalars(select(ProgramItem).where(ProgramItem.enrollment_id == enrollment_id,
                                                   ProgramItem.status == "scheduled")
                          .order_by(ProgramItem.window_start)))


def max_id(s: Session, model) -> int:
    return s.scalar(select(func.coalesce(func.max(model.id), 0)))


def followups_of(s: Session, *, resident_id: int | None = None, enrollment_ids: list[int] | None = None,
                 year: int | None = None, limit: int | None = None) -> list[FollowUp]:
    c = []
    if resident_id is not None:
        c.append(FollowUp.resident_id == resident_id)
    if enrollment_ids is not None:
        c.append(FollowUp.enrollment_id.in_(enrollment_ids))
    if year is not None:
        c += [FollowUp.visit_date >= date(year, 1, 1), FollowUp.visit_date <= date(year, 12, 31)]
    q = select(FollowUp).where(*c).order_by(FollowUp.visit_date.desc(), FollowUp.id.desc())
    return list(s.scalars(q.limit(limit) if limit else q))


def previous_followup(s: Session, enrollment_id: int, before: date) -> FollowUp | None:
    return s.scalar(select(FollowUp).where(FollowUp.enrollment_id == enrollment_id, FollowUp.visit_date <= before)
                    .order_by(FollowUp.visit_date.desc(), FollowUp.id.desc()).limit(1))


# ---------------------------------------------------------------- facts (indicators)

def enrollments_in_year(s: Session, year: int, resident_ids: list[int] | None = None) -> list[tuple]:
    """(enrollment id, resident id, program, village code) of enrolments active at some time in ``year``."""
    c = [Enrollment.start_date <= date(year, 12, 31),
         or_(Enrollment.end_date.is_(None), Enrollment.end_date >= date(year, 1, 1))]
    if resident_ids is not None:
        c.append(Enrollment.resident_id.in_(resident_ids))
    return list(s.execute(select(Enrollment.id, Enrollment.resident_id, Enrollment.program, Resident.village_code)
                          .join(Resident, Resident.id == Enrollment.resident_id).where(*c)
                          .order_by(Enrollment.resident_id, Enrollment.id)))


def followups_in_year(s: Session, year: int, enrollment_ids: list[int]) -> list[tuple]:
    """(enrollment id, visit date, item kind, face to face, control status) in ``year``."""
    return list(s.execute(select(FollowUp.enrollment_id, FollowUp.visit_date, FollowUp.item_kind,
                                 FollowUp.face_to_face, FollowUp.control_status)
                          .where(FollowUp.enrollment_id.in_(enrollment_ids), FollowUp.visit_date >= date(year, 1, 1),
                                 FollowUp.visit_date <= date(year, 12, 31))))


def items_due_in_year(s: Session, year: int, until: date, enrollment_ids: list[int]) -> list[tuple]:
    """(enrollment id, done?) of main items whose window closed in ``year`` by ``until``."""
    return list(s.execute(select(ProgramItem.enrollment_id, ProgramItem.done_on.is_not(None))
                          .where(ProgramItem.enrollment_id.in_(enrollment_ids), ProgramItem.service == "visit",
                                 ProgramItem.window_end >= date(year, 1, 1),
                                 ProgramItem.window_end <= min(until, date(year, 12, 31)))))


def delete_facts(s: Session, year: int, resident_ids: list[int] | None) -> None:
    q = ProgramFact.__table__.delete().where(ProgramFact.year == year)
    if resident_ids is not None:
        q = q.where(ProgramFact.resident_id.in_(resident_ids))
    s.execute(q)


def facts(s: Session, scope: Scope, *, year: int, program: str | None, resident_id: int | None = None,
          offset: int = 0, limit: int = 100) -> tuple[list[ProgramFact], int]:
    c = [ProgramFact.year == year]
    sf = scope_filter(scope, ProgramFact.village_code)
    if sf is not None:
        c.append(sf)
    if program:
        c.append(ProgramFact.program == program)
    if resident_id is not None:
        c.append(ProgramFact.resident_id == resident_id)
    total = s.scalar(select(func.count()).select_from(ProgramFact).where(*c))
    rows = s.scalars(select(ProgramFact).where(*c).order_by(ProgramFact.resident_id, ProgramFact.program)
                     .offset(offset).limit(limit))
    return list(rows), total


def fact_summary(s: Session, scope: Scope, year: int) -> list[tuple]:
    """(program, managed, managed per spec, controlled) counts in scope."""
    c = [ProgramFact.year == year]
    sf = scope_filter(scope, ProgramFact.village_code)
    if sf is not None:
        c.append(sf)
    return list(s.execute(select(ProgramFact.program, func.count(),
                                 func.sum(case((ProgramFact.managed_per_spec, 1), else_=0)),
                                 func.sum(case((ProgramFact.latest_control_status == "controlled", 1), else_=0)))
                          .where(*c).group_by(ProgramFact.program).order_by(ProgramFact.program)))


# ---------------------------------------------------------------- worklists

def team_villages(s: Session, team_id: int) -> list[str]:
    return list(s.scalars(select(TeamVillage.division_code).where(TeamVillage.team_id == team_id)))


def team_exists(s: Session, team_id: int) -> bool:
    return s.get(Team, team_id) is not None


def division_exists(s: Session, code: str) -> bool:
    return s.scalar(select(Division.code).where(Division.code == code)) is not None


@dataclass(slots=True)
class WorklistQuery:
    as_of: date
    villages: list[str] | None = None      # whole village codes (a team's villages)
    prefix: str | None = None              # a division-code prefix (county 6, township 9, village 12 digits)
    programs: list[str] | None = None
    horizon_days: int = 30                 # "coming up": windows opening within this many days
    lookback_days: int = 365               # overdue items older than this are history, not work
    statuses: list[str] | None = None      # overdue | due | upcoming


def _villages_only(q: WorklistQuery, scope: Scope) -> bool:
    """A worklist of a few villages (a village doctor, a team) rather than a township or the county."""
    if q.villages is not None or (q.prefix is not None and len(q.prefix) == 12):
        return True
    return not scope.everything and bool(scope.prefixes) and all(len(p) == 12 for p in scope.prefixes)


def _worklist_conditions(q: WorklistQuery, scope: Scope) -> list[ColumnElement[bool]]:
    i = ProgramItem
    horizon = q.as_of + timedelta(days=q.horizon_days)
    # Open as of the date: not done by then, not superseded by a later item of the same service, enrolment not
    # ended, not cancelled — all folded into the stored closes_on (see closes_on_expression).
    if _villages_only(q, scope):
        # from the village's residents, each one's open items: (resident_id, closes_on) range
        still_open = and_(i.closes_on > q.as_of, i.window_start <= horizon)
    else:
        # township or county: two ranges over (closes_on, window_start) — items nothing has closed yet, and
        # items closed only after the date (a worklist as of a past date)
        still_open = or_(and_(i.closes_on == STILL_OPEN, i.window_start <= horizon),
                         and_(i.closes_on > q.as_of, i.closes_on < STILL_OPEN, i.window_start <= horizon))
    c: list[ColumnElement[bool]] = [
        still_open,
        i.window_end >= q.as_of - timedelta(days=q.lookback_days),
        Enrollment.start_date <= q.as_of,
        or_(Enrollment.end_date.is_(None), Enrollment.end_date >= q.as_of),
    ]
    sf = scope_filter(scope)
    if sf is not None:
        c.append(sf)
    if q.villages is not None:
        c.append(Resident.village_code.in_(q.villages))
    if q.prefix:
        c.append(Resident.village_code == q.prefix if len(q.prefix) == 12 else _prefix_range(Resident.village_code,
                                                                                             q.prefix))
    if q.programs:
        c.append(i.program.in_(q.programs))
    if q.statuses:
        parts = []
        if "overdue" in q.statuses:
            parts.append(i.window_end < q.as_of)
        if "due" in q.statuses:
            parts.append(and_(i.window_start <= q.as_of, i.window_end >= q.as_of))
        if "upcoming" in q.statuses:
            parts.append(i.window_start > q.as_of)
        c.append(or_(*parts))
    return c


WORKLIST_COLUMNS = (ProgramItem.id, ProgramItem.resident_id, ProgramItem.enrollment_id, ProgramItem.program,
                    ProgramItem.kind, ProgramItem.name_zh, ProgramItem.service, ProgramItem.due_date,
                    ProgramItem.window_start, ProgramItem.window_end, Resident.name, Resident.sex,
                    Resident.birth_date, Resident.village_code, Resident.phone)


def _worklist_select(q: WorklistQuery, scope: Scope, columns):
    return (select(*columns).select_from(ProgramItem)
            .join(Enrollment, Enrollment.id == ProgramItem.enrollment_id)
            .join(Resident, Resident.id == ProgramItem.resident_id)
            .where(*_worklist_conditions(q, scope)))


def worklist_order(q: WorklistQuery):
    """Urgency: overdue (longest overdue first), then due (window closing soonest first; rechecks after a
    referral or an adjustment before routine visits), then coming up (opening soonest first)."""
    i = ProgramItem
    bucket = case((i.window_end < q.as_of, 0), (i.window_start <= q.as_of, 1), else_=2)
    when = case((i.window_start > q.as_of, i.window_start), else_=i.window_end)
    recheck_first = case((i.service == "recheck", 0), else_=1)
    return bucket, when, recheck_first, i.resident_id, i.kind


def worklist(s: Session, q: WorklistQuery, scope: Scope, *, offset: int = 0, limit: int | None = None
             ) -> tuple[list[tuple], int]:
    """One page of worklist rows (see WORKLIST_COLUMNS) and the total."""
    # the total rides along as a window function: one pass instead of a second counting query
    rows_q = (_worklist_select(q, scope, WORKLIST_COLUMNS + (func.count().over().label("total"),))
              .order_by(*worklist_order(q)).offset(offset))
    if limit is not None:
        rows_q = rows_q.limit(limit)
    rows = list(s.execute(rows_q))
    if rows:
        return [r[:-1] for r in rows], rows[0][-1]
    if offset == 0:
        return [], 0
    total = s.scalar(select(func.count()).select_from(_worklist_select(q, scope, (ProgramItem.id,)).subquery()))
    return [], total


def worklist_stream(s: Session, q: WorklistQuery, scope: Scope, batch: int = 10000) -> Iterator[list[tuple]]:
    """Every worklist row in urgency order, in batches (for exports of a whole county)."""
    result = s.execute(_worklist_select(q, scope, WORKLIST_COLUMNS).order_by(*worklist_order(q))
                       .execution_options(yield_per=batch))
    while chunk := result.fetchmany(batch):
        yield chunk


def mark_done(s: Session, item_ids: list[int], done_on: date, followup_id: int) -> None:
    if item_ids:
        s.execute(update(ProgramItem).where(ProgramItem.id.in_(item_ids))
                  .values(status="done", done_on=done_on, followup_id=followup_id))


def cancel_items_after(s: Session, enrollment_id: int, end: date) -> None:
    s.execute(update(ProgramItem).where(ProgramItem.enrollment_id == enrollment_id, ProgramItem.status == "scheduled",
                                        ProgramItem.window_start > end).values(status="cancelled"))


def cancel_open_items(s: Session, enrollment_id: int) -> int:
    """Cancel every item still scheduled (a merged duplicate's enrolment: the person's other one carries on)."""
    return s.execute(update(ProgramItem).where(ProgramItem.enrollment_id == enrollment_id,
                                               ProgramItem.status == "scheduled")
                     .values(status="cancelled")).rowcount


def active_programs_of(s: Session, resident_ids: Iterable[int]) -> list[tuple[int, str, int]]:
    """(resident id, programme, enrolment id) of the active enrolments of these residents."""
    ids = list(resident_ids)
    if not ids:
        return []
    return list(s.execute(_ACTIVE_PROGRAMS_OF, {"ids": ids}))


def select_active_periodic():
    return select(Enrollment).where(Enrollment.status == "active",
                                    Enrollment.program.in_(("hypertension", "diabetes", "smi", "elderly")))
