"""Facts for indicators (``program_fact``): per resident, programme and year —

* ``managed``: enrolled at some time in the year (the denominator of 规范管理率 and 控制率);
* ``followups``: follow-ups recorded in the year;
* ``managed_per_spec``: hypertension / diabetes / severe mental illness — ``rules_visits.managed_per_spec``
  (≥ 4 face-to-face follow-ups on distinct dates, from the schedule in force); elderly — both the annual
  service and the TCM assessment done; children, pregnancy, tuberculosis — every scheduled visit whose
  window closed in the year (by ``until``) was done;
* ``latest_control_status``: ``rules_visits.latest_control_status`` of the year's follow-ups.
The indicator layer counts these columns; it does not re-derive the rules. Refreshed for one resident when a
follow-up is written, and for a whole year by the bulk job (``rhip programs refresh``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy.orm import Session

from rhip.kit import clock
from rhip.kit.dialect import bulk_insert
from rhip.programs import repository as repo
from rhip.programs.models import ProgramFact
from rhip.programs.rules_visits import CHRONIC, as_visit, latest_control_status, managed_per_spec

COLUMNS = ("resident_id", "program", "year", "enrollment_id", "village_code", "managed", "followups",
           "managed_per_spec", "latest_control_status", "latest_visit_date", "refreshed_at")
CHUNK = 20000


def _rows(s: Session, year: int, until: date, enrollments: list[tuple]) -> list[tuple]:
    ids = [e[0] for e in enrollments]
    visits: dict[int, list[dict]] = defaultdict(list)
    for eid, d, kind, f2f, control in repo.followups_in_year(s, year, ids):
        visits[eid].append({"date": d, "kind": kind, "face_to_face": f2f, "control_status": control})
    due: dict[int, list[bool]] = defaultdict(list)
    for eid, done in repo.items_due_in_year(s, year, until, ids):
        due[eid].append(bool(done))
    return fact_rows(year, until, enrollments, visits, due, clock.now())


def fact_rows(year: int, until: date, enrollments: list[tuple], visits: dict[int, list[dict]],
              due: dict[int, list[bool]], now) -> list[tuple]:
    """The fact rows (``COLUMNS``) of ``enrollments`` (id, resident, programme, village — those active in
    ``year``) from their follow-ups in the year (``visits``: dicts with date, kind, face_to_face,
    control_status; or ``rules_visits.Visit``) and whether each main item whose window closed in the year by ``until`` was done (``due``).
    Pure: the bulk job above and the synthetic county's workers (``synth.programs``) share it."""
    ref = min(until, date(year, 12, 31))
    best: dict[tuple[int, str], tuple] = {}
    for eid, rid, program, village in enrollments:
        vs = [as_visit(v) for v in visits.get(eid, ())]  # converted once for the rules below
        if program in CHRONIC:
            per_spec = managed_per_spec(program, vs, on=ref)
        elif program == "elderly":
            per_spec = managed_per_spec(program, vs) if vs else False
        else:
            per_spec = bool(due.get(eid)) and all(due[eid])
        control = latest_control_status(vs)
        row = (rid, program, year, eid, village, True, len(vs), per_spec, control.value if control else None,
               max((v.date for v in vs), default=None), now)
        key = (rid, program)
        # two enrolments of one programme in a year (two pregnancies): keep the one with more follow-ups
        if key not in best or (row[6], row[3]) > (best[key][6], best[key][3]):
            best[key] = row
    return list(best.values())


def refresh(s: Session, year: int, resident_ids: list[int] | None = None, *, until: date | None = None) -> int:
    """Recompute the facts of ``year`` (for these residents, or everyone). Returns the rows written."""
    until = until or clock.now().date()
    repo.delete_facts(s, year, resident_ids)
    enrollments = repo.enrollments_in_year(s, year, resident_ids)
    written = 0
    conn = s.connection()
    i = 0
    while i < len(enrollments):
        j = min(i + CHUNK, len(enrollments))
        while j < len(enrollments) and enrollments[j][1] == enrollments[j - 1][1]:
            j += 1  # never split one resident's enrolments across chunks
        written += bulk_insert(conn, ProgramFact.__table__, COLUMNS, _rows(s, year, until, enrollments[i:j]))
        i = j
    return written
