"""National immunization programme: which dose is due when (schedule data: ``schedule_immunization.json``).

* The schedule version follows the child's **birth date** (``version_selection`` in the data;
  (verify): transition rules for cohorts born before a change are local). The 2021 edition applies
  from 2021-01-01; the (verify) 2025 version (DTaP at 2/4/6/18 months and 6 years, no DT) from
  2025-01-01.
* A dose is due on the day the child reaches its age (:func:`~rhip.programs.rules_common.add_months`:
  a child born 29 February reaches 12 months / 2 years on 1 March in common years), or later if
  the previous dose of the same vaccine was given and the minimum interval has not passed.
* Status on ``on``: done; upcoming (before the due date); due (from the due date through
  due + ``grace_days``); overdue afterwards, ``days_overdue`` = days past the end of the grace.
  ``grace_days`` defaults to ``overdue_grace_days`` in the data (30, local).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from collections.abc import Iterable

from rhip.programs.rules_common import Schedule, VisitStatus, load_schedule, param


@dataclass(frozen=True)
class Due:
    vaccine: str
    dose_no: int
    code: str                  # e.g. "imm.DTaP.4"
    name_zh: str
    name_en: str
    due_date: date
    overdue_after: date        # last day still "due" (due_date + grace)
    status: VisitStatus
    days_overdue: int = 0
    given_on: date | None = None


def immunization_schedule_for(birth: date) -> Schedule:
    """The schedule version a child born on ``birth`` follows (see module docstring)."""
    sch = load_schedule("immunization", birth)
    if sch.version_selection != "birth_date":  # pragma: no cover - data says otherwise
        raise ValueError("immunization schedule data must select versions by birth_date")
    return sch


def immunizations_due(birth: date, given: Iterable[tuple[str, int, date]], on: date,
                      schedule: Schedule | None = None, *, grace_days: int | None = None) -> list[Due]:
    """Every dose of the child's schedule with its due date and status on ``on``.

    ``given``: ``(vaccine, dose_no, date)`` tuples (vaccine codes as in the data: HepB, BCG, IPV,
    bOPV, DTaP, DT, MMR, JE-L, MPSV-A, MPSV-AC, HepA-L). Doses not in the schedule are ignored.
    """
    sch = schedule or immunization_schedule_for(birth)
    grace = timedelta(days=param(sch, "overdue_grace_days", grace_days))
    given_on: dict[tuple[str, int], date] = {}
    for vaccine, dose_no, d in given:
        key = (vaccine, int(dose_no))
        given_on[key] = min(d, given_on.get(key, d))
    out = []
    for it in sch.items:
        due = it.due.apply(birth)
        prev = given_on.get((it.vaccine, it.dose_no - 1)) if it.dose_no and it.dose_no > 1 else None
        if prev is not None and it.min_interval is not None:
            due = max(due, it.min_interval.apply(prev))
        last_ok = due + grace
        done = given_on.get((it.vaccine, it.dose_no))
        if done is not None:
            status, late = VisitStatus.DONE, 0
        elif on < due:
            status, late = VisitStatus.UPCOMING, 0
        elif on <= last_ok:
            status, late = VisitStatus.DUE, 0
        else:
            status, late = VisitStatus.OVERDUE, (on - last_ok).days
        out.append(Due(it.vaccine, it.dose_no, it.code, it.name_zh, it.name_en, due, last_ok, status, late, done))
    return sorted(out, key=lambda d: (d.due_date, d.code))
