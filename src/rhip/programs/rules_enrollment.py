"""Automatic enrolment and exit, from a person's recorded facts (pure; data in ``data/enrollment.json``).

Facts: birth date, registry status (deceased / moved out, with the date) and conditions (ICD-10 code, onset,
recorded date, clinical status). For each programme the rules say whether the person should be enrolled,
from when, why (a stable reason code with Chinese and English text, and the fact it rests on) and — when the
facts say so — until when and why it ends:

* hypertension / type 2 diabetes: an active I10–I15 / E11 condition and age ≥ 35 (start: the later of the
  diagnosis and the 35th birthday);
* elderly: 65 by 31 December of the year (the elderly schedule's ``age_reference``) — start 1 January of that
  year;
* children 0–6: from birth to the 7th birthday (age limit);
* pregnancy: a registered pregnancy (Z33/Z34, onset = last menstrual period); ends 56 days after a delivery
  (O80–O84) — after the 42-day check window — or 44 weeks after the LMP without one;
* severe mental illness: one of the six diseases;
* tuberculosis: a CDC notice (A15–A19; recorded date = notice date), ends after the treatment months.
Death or moving out ends every enrolment on that date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any

from rhip.programs.rules_common import add_months, load_json, load_schedule, param

ACTIVE_CONDITION = (None, "", "active", "recurrence", "relapse")


@dataclass(frozen=True)
class ConditionFact:
    id: int
    code: str
    onset: date | None
    recorded: date | None
    clinical_status: str | None = "active"

    @property
    def when(self) -> date | None:
        return self.onset or self.recorded


@dataclass(frozen=True)
class PersonFacts:
    birth_date: date
    status: str = "alive"
    status_date: date | None = None
    conditions: tuple[ConditionFact, ...] = ()


@dataclass(frozen=True)
class Desired:
    """An enrolment the facts call for."""

    program: str
    start_date: date
    reason_code: str
    reason_zh: str
    reason_en: str
    source_ref: str
    anchor_date: date | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
    end_date: date | None = None
    end_reason: str | None = None


@cache
def enrollment_rules(on: date) -> Mapping[str, Any]:
    """The rules in force on ``on`` (cached per date; treat as read-only)."""
    doc = load_json("enrollment.json")
    versions = sorted(doc["versions"], key=lambda v: v["effective_from"])
    chosen = [v for v in versions if date.fromisoformat(v["effective_from"]) <= on] or versions[:1]
    return chosen[-1]["programs"]


def _years_later(d: date, years: int) -> date:
    return add_months(d, 12 * years)


def _matches(code: str, prefixes: Iterable[str]) -> bool:
    return code.replace(".", "").upper().startswith(_normalised(tuple(prefixes)))


@cache
def _normalised(prefixes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(p.replace(".", "").upper() for p in prefixes)


def _exit(person: PersonFacts) -> tuple[date | None, str | None]:
    if person.status == "deceased" and person.status_date:
        return person.status_date, "death"
    if person.status == "moved_out" and person.status_date:
        return person.status_date, "moved_out"
    return None, None


def _earliest(a: tuple[date | None, str | None], b: tuple[date | None, str | None]) -> tuple[date | None, str | None]:
    if a[0] is None:
        return b
    if b[0] is None:
        return a
    return a if a[0] <= b[0] else b


def desired_enrollments(person: PersonFacts, on: date) -> list[Desired]:
    """The enrolments ``person``'s facts call for as of ``on`` (started on or before ``on``), with their end
    when the facts already give one (which may lie after ``on``: a child's 7th birthday)."""
    rules = enrollment_rules(on)
    birth = person.birth_date
    death = _exit(person)
    out: list[Desired] = []

    def add(d: Desired, end: tuple[date | None, str | None] = (None, None)) -> None:
        if d.start_date > on:
            return
        end_date, end_reason = _earliest(end, death)
        if end_date is not None and end_date < d.start_date:
            return  # left before it would have started
        out.append(Desired(**{**d.__dict__, "end_date": end_date, "end_reason": end_reason}))

    live = [c for c in person.conditions if (c.clinical_status or None) in ACTIVE_CONDITION and c.when]
    chronic = (("hypertension", "高血压", "hypertension"), ("diabetes", "2型糖尿病", "type 2 diabetes"),
               ("smi", "严重精神障碍", "severe mental illness"))
    for program, zh, en in chronic if live else ():  # most people have no condition: skip the sorting
        rule = rules[program]
        found = sorted((c for c in live if _matches(c.code, rule["condition_prefixes"])), key=lambda c: c.when)
        if not found:
            continue
        c = found[0]
        min_age = rule.get("min_age", 0)
        start = max(c.when, _years_later(birth, min_age))
        add(Desired(program, start, "condition",
                    f"诊断{zh}（{c.code}）" + (f"，年龄≥{min_age}岁" if min_age else ""),
                    f"{en} diagnosed ({c.code})" + (f", aged {min_age}+" if min_age else ""),
                    f"Condition/{c.id}", anchor_date=c.when))
    # elderly 65+
    eld = load_schedule("elderly", on)
    age = param(eld, "eligible_age")
    turns = _years_later(birth, age)
    start = date(turns.year, 1, 1) if param(eld, "age_reference") == "year_end" else turns
    add(Desired("elderly", max(start, birth), "age", f"年满{age}岁（{turns.year}年）", f"aged {age} in {turns.year}",
                "Patient#birthDate", anchor_date=birth))
    # children 0-6
    limit = rules["child"]["age_limit_years"]
    add(Desired("child", birth, "birth", "出生，纳入0～6岁儿童健康管理", "born: children 0-6 health management",
                "Patient#birthDate", anchor_date=birth), (_years_later(birth, limit), "age_limit"))
    # pregnancy: each registered pregnancy is its own enrolment
    rule = rules["pregnancy"]
    conditions = person.conditions
    deliveries = sorted(c.when for c in conditions if c.when and _matches(c.code, rule["delivery_prefixes"])) \
        if conditions else []
    pregnancies = sorted((c for c in conditions if c.when and _matches(c.code, rule["condition_prefixes"])),
                         key=lambda c: c.when) if conditions else []
    for c in pregnancies:
        lmp = c.when
        delivery = next((d for d in deliveries if lmp < d <= lmp + timedelta(weeks=rule["end_weeks_without_delivery"])),
                        None)
        end = (delivery + timedelta(days=rule["end_days_after_delivery"]) if delivery
               else lmp + timedelta(weeks=rule["end_weeks_without_delivery"]))
        facts = {"lmp": lmp.isoformat()} | ({"delivery": delivery.isoformat()} if delivery else {})
        add(Desired("pregnancy", c.recorded or lmp, "pregnancy", f"孕产妇建册（末次月经 {lmp.isoformat()}）",
                    f"pregnancy registered (LMP {lmp.isoformat()})", f"Condition/{c.id}", anchor_date=lmp,
                    facts=facts), (end, "pregnancy_ended"))
    # tuberculosis: the CDC notice
    if not live:
        return out  # (as the loop below would)
    rule = rules["tb"]
    tb = load_schedule("tb", on)
    for c in sorted((c for c in live if _matches(c.code, rule["condition_prefixes"])), key=lambda c: c.when)[:1]:
        notice = c.recorded or c.when
        months = param(tb, "treatment_months") + rule["end_months_after_treatment"]
        add(Desired("tb", notice, "tb_notice", f"疾控中心肺结核患者通知（{c.code}）",
                    f"CDC tuberculosis notice ({c.code})", f"Condition/{c.id}", anchor_date=notice,
                    facts={"notice": notice.isoformat()}), (add_months(notice, months), "treatment_completed"))
    return out
