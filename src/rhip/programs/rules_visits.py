"""Visit due lists (worklists) and the management facts indicators count.

Visits done are plain data: a ``date``; a ``(kind, date)`` tuple; a mapping with ``date`` (or
``visit_date``) and optionally ``kind``, ``face_to_face`` and ``control_status``; or any object
with those attributes (e.g. an :class:`~rhip.programs.rules_chronic.Assessment`).

Matching a visit to a schedule item:

* a visit whose ``kind`` is the item's code matches it, even outside the window (then it is done
  but ``on_time`` is False) — except for calendar-period items (chronic quarters, elderly years),
  where the date must fall in the period;
* a visit without a kind (or with the programme name as kind) matches the first main-service item
  (``service == "visit"``) whose window contains its date; haemoglobin, TCM and vaccine items need
  their exact code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from collections.abc import Iterable, Mapping
from typing import Any

from rhip.programs.rules_common import (
    ControlStatus, NextStep, Schedule, ScheduleItem, VisitStatus, age_on, load_schedule, param,
)

CHRONIC = ("hypertension", "diabetes", "smi")


@dataclass(frozen=True)
class DueVisit:
    kind: str                  # stable code, e.g. "child.m3", "pregnancy.w16_20", "hypertension.2025q2"
    name_zh: str
    name_en: str
    due_date: date             # nominal date (point visits) or first day of the window (period visits)
    window_start: date
    window_end: date           # inclusive: a visit on this day is on time
    status: VisitStatus
    days_overdue: int = 0      # days past window_end when status is overdue, else 0
    done_on: date | None = None
    on_time: bool | None = None


@dataclass(frozen=True)
class _Visit:
    date: date
    kind: str | None = None
    face_to_face: bool = True
    control_status: Any = None


Visit = _Visit  # a visit as the rules read it: pass these (see ``as_visit``) to skip the conversion per call


def as_visit(v: Any) -> _Visit:
    """Any accepted form of a visit (see the module docstring) as a :data:`Visit`."""
    return _visit(v)


def _visit(v: Any) -> _Visit:
    if isinstance(v, _Visit):
        return v
    if isinstance(v, date):
        return _Visit(v)
    if isinstance(v, tuple) and len(v) == 2:
        kind, d = v
        return _Visit(d, kind)
    get = v.get if isinstance(v, Mapping) else (lambda k, default=None: getattr(v, k, default))
    d = get("date") or get("visit_date")
    if not isinstance(d, date):
        raise TypeError(f"visit without a date: {v!r}")
    f2f = get("face_to_face")
    return _Visit(d, get("kind"), True if f2f is None else bool(f2f), get("control_status"))


@dataclass(frozen=True)
class _Slot:
    code: str
    name_zh: str
    name_en: str
    due: date
    start: date
    end: date
    service: str = "visit"
    strict: bool = False       # calendar-period item: a kind-tagged visit must also fall in the window
    after: date | None = None  # recheck item: any visit after this date counts


def _slot(item: ScheduleItem, anchor: date) -> _Slot:
    return _Slot(item.code, item.name_zh, item.name_en, item.due.apply(anchor), item.window_start.apply(anchor),
                 item.window_end.apply(anchor), item.service)


def _require(facts: Mapping[str, Any], key: str, program: str) -> date:
    value = facts.get(key)
    if not isinstance(value, date):
        raise ValueError(f"{program}: enrolment fact {key!r} (a date) is required")
    return value


def _periods(program: str, year: int, months: int) -> list[tuple[str, date, date]]:
    out = []
    for i, m in enumerate(range(1, 13, months), start=1):
        start = date(year, m, 1)
        end_m = m + months
        end = (date(year + 1, 1, 1) if end_m > 12 else date(year, end_m, 1)) - timedelta(days=1)
        out.append((f"{program}.{year}{'q' if months == 3 else 'p'}{i}", start, end))
    return out


def _slots(program: str, sch: Schedule, facts: Mapping[str, Any], on: date) -> list[_Slot]:
    if program == "child":
        birth = _require(facts, "birth", program)
        anchors = {"birth": birth, "discharge": facts.get("discharge") or birth}
        return [_slot(it, anchors[it.anchor]) for it in sch.items]
    if program == "pregnancy":
        lmp = facts.get("lmp") or (_require(facts, "edd", program) - timedelta(days=280))
        delivery = facts.get("delivery")
        anchors = {"lmp": lmp, "delivery": delivery,
                   "postpartum_discharge": facts.get("postpartum_discharge") or delivery}
        out = []
        for it in sch.items:
            if anchors[it.anchor] is None:
                continue  # postpartum items wait for the delivery date
            s = _slot(it, anchors[it.anchor])
            if it.anchor == "lmp" and delivery is not None:
                if s.start > delivery:
                    continue  # delivered before this antenatal window opened
                if s.end > delivery:  # an antenatal window closes at delivery
                    s = _Slot(s.code, s.name_zh, s.name_en, s.due, s.start, delivery, s.service)
            out.append(s)
        return out
    if program == "tb":
        notice = _require(facts, "notice", program)
        start = facts.get("treatment_start") or notice
        months = facts.get("treatment_months") or param(sch, "treatment_months")
        anchors = {"notice": notice, "treatment_start": start}
        return [_slot(it, anchors[it.anchor]) for it in sch.items
                if not (it.code.startswith("tb.m") and int(it.code[4:]) > months)]
    year_start, year_end = date(on.year, 1, 1), date(on.year, 12, 31)
    if program == "elderly":
        birth = _require(facts, "birth", program)
        ref = year_end if param(sch, "age_reference") == "year_end" else on
        if age_on(birth, ref) < param(sch, "eligible_age"):
            return []
        return [_Slot(f"elderly.{s['code']}", s["name_zh"], s["name_en"], year_start, year_start, year_end,
                      "visit" if s["code"] == "service" else s["code"], strict=True)
                for s in param(sch, "annual_services")]
    if program in CHRONIC:
        enrolled, exited = facts.get("enrolled_on"), facts.get("exited_on")
        out = []
        for code, start, end in _periods(program, on.year, param(sch, "period_months")):
            if (enrolled and end < enrolled) or (exited and start > exited):
                continue
            start = max(start, enrolled) if enrolled else start
            out.append(_Slot(code, f"{start.isoformat()}至{end.isoformat()}面对面随访",
                             f"face-to-face follow-up {start.isoformat()} to {end.isoformat()}", start, start, end,
                             strict=True))
        last = facts.get("last_assessment")
        if last is not None and NextStep(last.next_step) is not NextStep.ROUTINE:
            vd, due = last.visit_date, last.next_visit_due
            out.append(_Slot(f"{program}.recheck", "复诊/转诊后随访", "recheck after adjustment or referral",
                             due, vd + timedelta(days=1), due, after=vd))
        return out
    raise ValueError(f"visits_due does not handle program {program!r} (immunization: use immunizations_due)")


def _matches(slot: _Slot, v: _Visit, program: str) -> bool:
    if slot.after is not None:
        return v.date > slot.after and v.kind in (None, program, slot.code)
    in_window = slot.start <= v.date <= slot.end
    if v.kind == slot.code:
        return in_window or not slot.strict
    return v.kind in (None, program) and slot.service == "visit" and in_window


def visits_due(program: str, facts: Mapping[str, Any], visits_done: Iterable[Any], on: date, *,
               schedule: Schedule | None = None, horizon_days: int | None = None) -> list[DueVisit]:
    """The schedule items of ``program`` for one person, each with its status on ``on``.

    ``facts`` (enrolment facts) by programme: child ``birth`` (+ ``discharge``); pregnancy ``lmp``
    or ``edd`` (+ ``delivery``, ``postpartum_discharge``; once delivered, antenatal windows close at
    delivery and those not yet open are dropped); elderly ``birth``; hypertension / diabetes /
    smi optional ``enrolled_on``, ``exited_on``, ``last_assessment`` (an Assessment or SmiAssessment:
    a non-routine next step adds a ``<program>.recheck`` item); tb ``notice`` (+ ``treatment_start``,
    ``treatment_months``). Chronic programmes and elderly use the calendar periods of ``on``'s year.

    Status: done (a matching visit), upcoming (before the window), due (inside the window, inclusive),
    overdue (after the window; ``days_overdue`` = days past ``window_end``). ``horizon_days`` drops
    upcoming items whose window opens more than that many days after ``on``. The schedule version is
    the one in force on ``on`` unless given. Sorted by window start.
    """
    sch = schedule or load_schedule(program, on)
    visits = sorted((_visit(v) for v in visits_done), key=lambda v: v.date)
    used: set[int] = set()
    out = []
    for slot in _slots(program, sch, facts, on):
        shared = slot.after is not None  # a recheck visit also counts for its calendar period
        match = next((i for i, v in enumerate(visits)
                      if (shared or i not in used) and _matches(slot, v, program)), None)
        if match is not None:
            if not shared:
                used.add(match)
            d = visits[match].date
            out.append(DueVisit(slot.code, slot.name_zh, slot.name_en, slot.due, slot.start, slot.end,
                                VisitStatus.DONE, 0, d, slot.start <= d <= slot.end))
            continue
        if on < slot.start:
            if horizon_days is not None and (slot.start - on).days > horizon_days:
                continue
            status, late = VisitStatus.UPCOMING, 0
        elif on <= slot.end:
            status, late = VisitStatus.DUE, 0
        else:
            status, late = VisitStatus.OVERDUE, (on - slot.end).days
        out.append(DueVisit(slot.code, slot.name_zh, slot.name_en, slot.due, slot.start, slot.end, status, late))
    return sorted(out, key=lambda v: (v.window_start, v.kind))


def managed_per_spec(program: str, visits_in_year: Iterable[Any], *, min_followups: int | None = None,
                     on: date | None = None) -> bool:
    """Whether one patient's visits in a year meet the spec (规范管理).

    hypertension / diabetes / smi: at least ``min_followups`` (default ``min_followups_per_year`` = 4
    from the schedule in force on ``on``, or on the latest visit) face-to-face follow-ups on distinct
    dates; visits with ``face_to_face`` False do not count. elderly: both an ``elderly.service`` and an
    ``elderly.tcm`` visit (kinds required).
    """
    visits = [_visit(v) for v in visits_in_year]
    if not visits:
        return program in CHRONIC and min_followups == 0
    ref = on or max(v.date for v in visits)
    if program in CHRONIC:
        need = param(load_schedule(program, ref), "min_followups_per_year", min_followups)
        return len({v.date for v in visits if v.face_to_face}) >= need
    if program == "elderly":
        kinds = {v.kind for v in visits}
        return {"elderly.service", "elderly.tcm"} <= kinds
    raise ValueError(f"managed_per_spec does not handle program {program!r}")


def latest_control_status(visits_in_year: Iterable[Any]) -> ControlStatus | None:
    """Control status recorded at the latest visit that has one (for 控制率); None if none has one."""
    rated = [v for v in (_visit(x) for x in visits_in_year) if v.control_status is not None]
    if not rated:
        return None
    return ControlStatus(max(rated, key=lambda v: v.date).control_status)
