"""Shared pieces of the programme rules: calendar arithmetic, enums, versioned schedule data.

Date rules (one rule everywhere, consistent with ``rhip.registry.rules.age_on``):

* An age of *n* months is reached on the same day-of-month *n* months later; when that day does
  not exist in the target month (31st, 30th, 29 February) it is reached on the **1st of the
  following month**. This is the registry's "a person born on 29 February ages on 1 March in common
  years", generalised to months: a child born 2024-02-29 is 12 months old on 2025-03-01, a child
  born 2024-01-31 is 1 month old on 2024-03-01.
* Windows are inclusive at both ends: a visit on the last day of its window is on time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from rhip.kit.versioned import dated_versions
from rhip.registry.rules import age_on  # noqa: F401 - re-exported: completed years, 29 Feb ages on 1 Mar

DATA_PACKAGE = "rhip.programs.data"


# ---------------------------------------------------------------- calendar arithmetic

def add_months(d: date, months: int) -> date:
    """The date on which an age of ``months`` completed months is reached, counted from ``d``.

    Same day-of-month; if that day does not exist in the target month, the 1st of the next month
    (29 Feb + 12 months → 1 March in a common year). Negative ``months`` go back with the same rule.
    """
    total = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(total, 12)
    try:
        return date(year, month0 + 1, d.day)
    except ValueError:
        ny, nm0 = divmod(total + 1, 12)
        return date(ny, nm0 + 1, 1)


def age_in_months(birth: date, on: date) -> int:
    """Completed months on ``on`` (consistent with :func:`add_months`)."""
    months = (on.year - birth.year) * 12 + (on.month - birth.month)
    if months > 0 and add_months(birth, months) > on:
        months -= 1
    return months


@dataclass(frozen=True)
class Offset:
    """A calendar offset: years and months first (with :func:`add_months`), then weeks and days."""

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0

    @classmethod
    def parse(cls, raw: Mapping[str, int] | None) -> Offset | None:
        if raw is None:
            return None
        unknown = set(raw) - {"years", "months", "weeks", "days"}
        if unknown:
            raise ValueError(f"unknown offset unit(s): {sorted(unknown)}")
        return cls(**{k: int(v) for k, v in raw.items()})

    def apply(self, anchor: date) -> date:
        d = add_months(anchor, self.years * 12 + self.months) if (self.years or self.months) else anchor
        return d + timedelta(weeks=self.weeks, days=self.days)


# ---------------------------------------------------------------- enums and small records

class VisitStatus(StrEnum):
    DONE = "done"
    DUE = "due"
    OVERDUE = "overdue"
    UPCOMING = "upcoming"


class ControlStatus(StrEnum):
    CONTROLLED = "controlled"
    UNCONTROLLED = "uncontrolled"


class NextStep(StrEnum):
    ROUTINE = "routine"                        # next routine visit (next quarter by default)
    ADJUST_RECHECK = "adjust_recheck"          # adjust treatment, revisit within 2 weeks
    REFER = "refer"                            # refer, check back within 2 weeks
    EMERGENCY_REFERRAL = "emergency_referral"  # handle, then refer at once; check back within 2 weeks


@dataclass(frozen=True)
class Reason:
    """Why a rule fired: a stable code plus Chinese and English text."""

    code: str
    zh: str
    en: str


# ---------------------------------------------------------------- versioned schedules

@dataclass(frozen=True)
class ScheduleItem:
    """One visit or vaccine dose of a schedule. Offsets are relative to ``anchor``.

    ``anchor`` names an enrolment fact: ``birth``, ``discharge`` (child: hospital discharge after
    birth), ``lmp`` (last menstrual period), ``delivery``, ``postpartum_discharge``, ``notice`` (TB
    notice from the CDC), ``treatment_start``.
    """

    code: str
    name_zh: str
    name_en: str
    anchor: str
    due: Offset
    window_start: Offset
    window_end: Offset
    service: str = "visit"
    vaccine: str | None = None
    dose_no: int | None = None
    min_interval: Offset | None = None
    notes: str = ""


@dataclass(frozen=True, eq=False)
class Schedule:
    """One version of a programme's schedule, in force from ``effective_from`` to ``effective_to``."""

    program: str
    version: str
    effective_from: date
    effective_to: date | None
    status: str                 # "national", "local" or "verify"
    source: str
    notes: str
    items: tuple[ScheduleItem, ...]
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    version_selection: str = "on_date"   # immunization: "birth_date" (see schedule_immunization.json)

    @property
    def verify(self) -> bool:
        return self.status == "verify"

    def item(self, code: str) -> ScheduleItem:
        for it in self.items:
            if it.code == code:
                return it
        raise KeyError(code)


PROGRAMS = ("child", "pregnancy", "elderly", "hypertension", "diabetes", "smi", "tb", "immunization")


@cache
def load_json(name: str) -> Any:
    """Parse a packaged data file (``src/rhip/programs/data/<name>``). Cached; treat as read-only."""
    with resources.files(DATA_PACKAGE).joinpath(name).open("r", encoding="utf-8") as fh:
        return json.load(fh)


def _item(raw: Mapping[str, Any]) -> ScheduleItem:
    due = Offset.parse(raw["due"])
    return ScheduleItem(
        code=raw["code"], name_zh=raw["name_zh"], name_en=raw["name_en"], anchor=raw.get("anchor", "birth"),
        due=due, window_start=Offset.parse(raw.get("window_start")) or due,
        window_end=Offset.parse(raw.get("window_end")) or due, service=raw.get("service", "visit"),
        vaccine=raw.get("vaccine"), dose_no=raw.get("dose_no"),
        min_interval=Offset.parse(raw.get("min_interval_from_previous")), notes=raw.get("notes", ""))


@cache
def schedule_versions(program: str) -> tuple[Schedule, ...]:
    """All versions of a programme's schedule, oldest first (from ``data/schedule_<program>.json``)."""
    if program not in PROGRAMS:
        raise ValueError(f"unknown program {program!r}; known: {', '.join(PROGRAMS)}")
    doc = load_json(f"schedule_{program}.json")
    out = []
    for raw, eff_from, eff_to in dated_versions(doc["versions"]):
        out.append(Schedule(
            program=program, version=raw["version"], effective_from=eff_from,
            effective_to=eff_to, status=raw.get("status", "national"),
            source=raw.get("source", doc.get("source", "")), notes=raw.get("notes", ""),
            items=tuple(_item(r) for r in raw.get("items", [])),
            params=MappingProxyType(dict(raw.get("params", {}))),
            version_selection=doc.get("version_selection", "on_date")))
    return tuple(out)


def load_schedule(program: str, on: date) -> Schedule:
    """The version of ``program``'s schedule in force on ``on`` (latest ``effective_from`` ≤ ``on``).

    Raises ``LookupError`` if no version is in force on that date.
    """
    for sched in reversed(schedule_versions(program)):
        if sched.effective_from <= on and (sched.effective_to is None or on <= sched.effective_to):
            return sched
    raise LookupError(f"no {program} schedule in force on {on.isoformat()}")


def param(schedule: Schedule, name: str, override: Any = None) -> Any:
    """A schedule parameter, unless the caller passes an explicit ``override`` (not None)."""
    if override is not None:
        return override
    try:
        return schedule.params[name]
    except KeyError:
        raise KeyError(f"{schedule.program} schedule {schedule.version} lacks parameter {name!r}") from None
