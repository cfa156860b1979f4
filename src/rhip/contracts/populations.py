"""Key-population classification (重点人群) over the registry and the record.

``classify_resident`` is always fresh (computed on read from the current facts); ``store`` keeps the
result in ``key_population`` for lists, filters and indicators; ``refresh`` is the job that recomputes
everyone ("full") or only residents whose facts changed since the last run plus those who crossed an age
boundary ("changed"). The rules themselves are pure: ``contracts.rules.classify``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy.orm import Session

from rhip.contracts import repository as repo
from rhip.contracts import rules
from rhip.kit import clock
from rhip.registry.models import Resident
from rhip.security.service import Principal, audit

CHUNK = 5000


def _facts(birth, sex, status, disability, poor, fp, conds: list[tuple]) -> rules.ResidentFacts:
    return rules.ResidentFacts(
        birth_date=birth, sex=sex, status=status, disability=disability, poverty_registered=bool(poor),
        fp_special_family=bool(fp),
        conditions=tuple(rules.ConditionFact(code, onset or recorded, clinical, verification)
                         for code, onset, recorded, clinical, verification in conds))


def facts_of(s: Session, r: Resident) -> rules.ResidentFacts:
    conds = repo.conditions_of(s, [r.id]).get(r.id, [])
    return _facts(r.birth_date, r.sex, r.status, r.disability, r.poverty_registered, r.fp_special_family, conds)


def classify_resident(s: Session, r: Resident, on: date) -> list[rules.Membership]:
    return rules.classify(facts_of(s, r), on)


def _rows(resident_id: int, members: list[rules.Membership], on: date, now) -> list[dict]:
    return [{"resident_id": resident_id, "population": m.population, "since": m.since, "reason_zh": m.reason_zh[:120],
             "reason_en": m.reason_en[:160], "as_of": on, "computed_at": now} for m in members]


def store(s: Session, resident_ids: list[int], on: date) -> int:
    """Classify these residents as of ``on`` and store the result. Returns the memberships written."""
    now = clock.now()
    written = 0
    for i in range(0, len(resident_ids), CHUNK):
        ids = resident_ids[i:i + CHUNK]
        rows = _classify_chunk(s, ids, on, now)
        repo.replace_key_populations(s, ids, rows)
        written += len(rows)
    return written


def _classify_chunk(s: Session, ids: list[int], on: date, now, tuples: list[tuple] | None = None) -> list[dict]:
    if tuples is None:
        tuples = repo.resident_fact_tuples(s, ids)
    conds = repo.conditions_of(s, [t[0] for t in tuples])
    rows: list[dict] = []
    for rid, birth, sex, status, disability, poor, fp in tuples:
        rows += _rows(rid, rules.classify(_facts(birth, sex, status, disability, poor, fp, conds.get(rid, [])), on),
                      on, now)
    return rows


def refresh(s: Session, who: Principal, *, on: date | None = None, mode: str = "changed",
            progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Recompute stored key populations. ``mode="full"``: every resident; ``"changed"``: residents whose
    registry entry or conditions changed since the last run started, and residents who turned 65 or 7
    since the last run's date (the first run is always full)."""
    who.require("contract.write")
    on = on or clock.now().date()
    started = clock.now()
    last = repo.last_run_started(s)
    if last is None:
        mode = "full"
    only: set[int] | None = None
    if mode == "changed":
        only = repo.residents_changed_since(s, last) | repo.residents_with_age_boundary(s, on, last.date())
    residents = memberships = 0
    for chunk in repo.resident_fact_chunks(s, CHUNK, only=only):
        if not chunk:
            continue
        ids = [t[0] for t in chunk]
        rows = _classify_chunk(s, ids, on, started, tuples=chunk)
        repo.replace_key_populations(s, ids, rows)
        residents += len(chunk)
        memberships += len(rows)
        if progress:
            progress(len(chunk))
    repo.record_run(s, started, on, mode, residents)
    audit(s, who, "key_population.refresh", detail={"mode": mode, "as_of": on, "residents": residents,
                                                     "memberships": memberships})
    return {"mode": mode, "residents": residents, "memberships": memberships}


def of_resident(s: Session, who: Principal, resident_id: int, *, on: date | None = None
                ) -> tuple[Resident, list[rules.Membership]]:
    """A resident's key populations as of ``on`` (fresh), audited as a read of the resident."""
    from rhip.contracts.service import _resident

    who.require("contract.read")
    r = _resident(s, who, resident_id, "key_population.read")
    on = on or clock.now().date()
    members = classify_resident(s, r, on)
    audit(s, who, "key_population.read", resident_ids=[r.id], detail={"as_of": on})
    return r, members
