"""An enrolment's schedule as concrete dated items (the CarePlan's activities), from the versioned schedule
data through :func:`rules_visits.visits_due` — the same rules the due lists use, materialised so that
worklists are one set-based query.

Chronic programmes and the elderly have calendar-period items per year: they are planned year by year
through ``through`` (the bulk job extends the plan into a new year). Children, pregnancy and tuberculosis have
a finite schedule, planned whole at enrolment (pregnancy's postpartum items once the delivery is known).
Items whose window opens after the enrolment's end are not planned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from rhip.programs.rules_common import NextStep, load_schedule, schedule_versions
from rhip.programs.rules_visits import CHRONIC, visits_due

SERVICE_OF = {"hb": "hb", "tcm": "tcm"}


@dataclass(frozen=True)
class PlannedItem:
    kind: str
    name_zh: str
    service: str          # visit | hb | tcm | recheck
    due_date: date
    window_start: date
    window_end: date


def _service(program: str, kind: str) -> str:
    if program == "child":
        part = kind.split(".")[1]
        return SERVICE_OF.get(part, "visit")
    if program == "elderly":
        return "tcm" if kind == "elderly.tcm" else "visit"
    return "visit"


def schedule_version(program: str, on: date) -> str:
    """The version in force on ``on``; before the first version took effect, the first (history predating it)."""
    first = schedule_versions(program)[0]
    return load_schedule(program, max(on, first.effective_from)).version


def _facts_for(program: str, anchor: date | None, facts: Mapping[str, Any], start: date,
               end: date | None) -> dict[str, Any]:
    f: dict[str, Any] = {k: date.fromisoformat(v) if isinstance(v, str) else v for k, v in facts.items()}
    if program in ("child", "elderly"):
        f.setdefault("birth", anchor)
    elif program == "pregnancy":
        f.setdefault("lmp", anchor)
    elif program == "tb":
        f.setdefault("notice", anchor)
    else:
        f["enrolled_on"], f["exited_on"] = start, end
    return f


def plan(program: str, *, anchor: date | None, facts: Mapping[str, Any], start: date, end: date | None,
         through: date, plan_from: date | None = None) -> list[PlannedItem]:
    """The items of one enrolment. Chronic/elderly items are planned for the calendar years from
    ``plan_from``'s (default: the start's) through ``through``'s, never before the first schedule version took
    effect; items of any programme whose window closed before ``plan_from`` are not planned (the platform
    manages from then on). Sorted by window start."""
    f = _facts_for(program, anchor, facts, start, end)
    out: list[PlannedItem] = []
    if program in CHRONIC or program == "elderly":
        last_year = min(through.year, end.year) if end else through.year
        first_year = max(start.year, plan_from.year if plan_from else start.year,
                         schedule_versions(program)[0].effective_from.year)
        for year in range(first_year, last_year + 1):
            on = date(year, 12, 31) if program == "elderly" else date(year, 1, 1)
            for v in visits_due(program, f, [], on):
                out.append(PlannedItem(v.kind, v.name_zh, _service(program, v.kind), v.due_date, v.window_start,
                                       v.window_end))
    else:
        on = start if program != "child" else f["birth"]
        on = max(on, schedule_versions(program)[0].effective_from)
        for v in visits_due(program, f, [], on):
            out.append(PlannedItem(v.kind, v.name_zh, _service(program, v.kind), v.due_date, v.window_start,
                                   v.window_end))
    if program == "elderly":
        out = [i for i in out if i.window_end >= start]
    if plan_from is not None:  # the platform manages from then: visits that closed before are not planned
        out = [i for i in out if i.window_end >= plan_from]
    if end is not None:
        out = [i for i in out if i.window_start <= end]
    return sorted(out, key=lambda i: (i.window_start, i.kind))


def recheck_item(program: str, visit_date: date, next_step: str, next_visit_due: date) -> PlannedItem | None:
    """The revisit a non-routine next step asks for (adjust → within 2 weeks; refer → check back)."""
    if NextStep(next_step) is NextStep.ROUTINE:
        return None
    label = "复诊（调整用药后）" if NextStep(next_step) is NextStep.ADJUST_RECHECK else "转诊后随访"
    return PlannedItem(f"{program}.recheck", label, "recheck", next_visit_due, visit_date + timedelta(days=1),
                       next_visit_due)


def match_item(items: list[Any], visit_date: date, kind: str | None) -> list[Any]:
    """The open items a visit on ``visit_date`` fulfils (objects with kind, service, window_start, window_end):

    * ``kind`` given: the open item of that kind whose window is nearest the visit (late or early visits of a
      point item still count, as in ``visits_due``), plus any open recheck started before the visit;
    * otherwise — or when the named item is a calendar period (or a recheck) that does not contain the date —
      the open main visit whose window contains the date, plus any open recheck started before it.
    Calendar-period items (chronic quarters, elderly years) only count inside their window.
    """
    rechecks = [i for i in items if i.service == "recheck" and i.window_start <= visit_date]
    main = [i for i in items if i.service != "recheck"]
    chosen = None
    if kind and not kind.endswith(".recheck"):
        same = [i for i in main if i.kind == kind]
        period = [i for i in same if i.window_start <= visit_date <= i.window_end]
        if period:
            chosen = period[0]
        elif same and not _period_kind(kind):
            chosen = min(same, key=lambda i: abs((i.window_start - visit_date).days))
    if chosen is None and not (kind and not _period_kind(kind) and not kind.endswith(".recheck")):
        inside = [i for i in main if i.service == "visit" and i.window_start <= visit_date <= i.window_end]
        chosen = min(inside, key=lambda i: i.window_start) if inside else None
    return ([chosen] if chosen else []) + rechecks


def _period_kind(kind: str) -> bool:
    program = kind.split(".")[0]
    return program in CHRONIC or program == "elderly"


STILL_OPEN = date(9999, 12, 31)  # closes_on of an item nothing has closed yet
CANCELLED_CLOSES = date(1, 1, 1)  # closes_on of a cancelled item: never work


def fresh_closing_dates(program: str, windows: list[tuple[str, date, date]], ended_on: date | None) -> list[date]:
    """``closes_on`` of the items of a plan just made — (service, window start, window end) each, none done or
    cancelled — for an enrolment that ended on ``ended_on`` (or None). The rule of decision 0010
    (``repository.closes_on_expression``, which the database applies to items as they are done and changed),
    for items nothing has happened to yet: an item stops being work the day after its enrolment ends, or once a
    later item of the same service (opening after this one's window) has opened and closed — the day after that
    one's window, or for the elderly's annual service the day it opens."""
    ended = ended_on + timedelta(days=1) if ended_on is not None else STILL_OPEN
    out = []
    for service, _, window_end in windows:
        closes = ended
        for other, later_start, later_end in windows:
            if other == service and later_start > window_end:
                closes = min(closes, later_start if program == "elderly"
                             else max(later_start, later_end + timedelta(days=1)))
        out.append(closes)
    return out
