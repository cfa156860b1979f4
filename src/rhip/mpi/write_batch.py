"""Matching on write for several new registrations at once (e.g. the Patients of one FHIR transaction).

The outcome is the one ``service.on_resident_written(created=True)`` gives when called for each registration
in turn — a later one can match an earlier one of the same batch, and the review queue gets the same pairs —
but the database work is done together: one blocking-key query for all of them, the scoring in memory (the
rules are pure functions), the new persons, links and keys each in one multi-row INSERT, and the audit events
collected (inside ``batched_audit``, one per action).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.orm import Session

from rhip.kit import clock
from rhip.mpi import repository as repo
from rhip.mpi.candidates import hashed_keys
from rhip.mpi.rules_score import MATCH, NO_MATCH
from rhip.mpi.service import (
    MatchOutcome, _ensure_link, _pair, params, queue_reviews, resident_fields, scored,
)
from rhip.registry.models import Resident
from rhip.security.service import Principal


def _row(r: Resident) -> tuple:
    """A new registration as ``repository.FIELD_COLUMNS`` would read it back."""
    return (r.id, r.name, r.id_number, r.id_number_raw, r.sex, r.birth_date, r.phone, r.phone2, r.village_code,
            r.household_id)


def on_residents_created(s: Session, who: Principal, residents: list[Resident]) -> list[MatchOutcome]:
    """``on_resident_written(s, who, r, created=True)`` for each of ``residents`` in order (already flushed,
    so they have ids), with the database work batched."""
    if not residents:
        return []
    P = params()
    now = clock.now()
    people = [resident_fields(r) for r in residents]
    keys = [hashed_keys(p) for p in people]
    every_key = {k for ks in keys for k in ks}
    # Registrations from before this batch that share a key with any of it (the cap grows with the batch).
    batch_ids = {r.id for r in residents}
    hits: dict[int, list[tuple]] = defaultdict(list)
    person_of: dict[int, int] = {}  # resident id → person id (negative: a new person, not inserted yet)
    if every_key:
        for key, person_id, *row in repo.block_hits(s, every_key, None, limit=repo.MAX_CANDIDATES * 3 * len(residents)):
            if row[0] in batch_ids:
                continue
            hits[key].append(tuple(row))
            if person_id is not None:
                person_of[row[0]] = person_id
    repo.insert_blocks(s, [(r.id, k) for r, ks in zip(residents, keys) for k in ks])
    earlier: dict[int, list[tuple]] = defaultdict(list)  # key → rows of this batch's earlier registrations
    new_persons = 0
    links: list[dict] = []
    outcomes: list[MatchOutcome] = []
    for r, p, ks in zip(residents, people, keys):
        kinds: dict[int, set[str]] = defaultdict(set)
        rows: dict[int, tuple] = {}
        for key, kind in ks.items():
            for row in hits.get(key, []) + earlier.get(key, []):
                kinds[row[0]].add(kind)
                rows[row[0]] = row
        cands = scored(p, P, kinds, rows)
        interesting = [c for c in cands if c.outcome != NO_MATCH]
        decided = repo.reviews_of_pairs(s, [_pair(r.id, c.resident_id) for c in interesting])
        interesting = [c for c in interesting if getattr(decided.get(_pair(r.id, c.resident_id)), "status", None)
                       != "distinct"]
        best = next((c for c in interesting if c.outcome == MATCH), None)
        if best is not None:
            if best.resident_id not in person_of:
                person_of[best.resident_id] = _ensure_link(s, best.resident_id, now).person_id
            person_id, kind, linked_to, prob = person_of[best.resident_id], "linked", best.resident_id, \
                best.score.probability
            links.append({"resident_id": r.id, "person_id": person_id, "how": "auto", "score": prob,
                          "updated_at": now})
        else:
            new_persons += 1
            person_id, kind, linked_to, prob = -new_persons, "new", None, None
            links.append({"resident_id": r.id, "person_id": person_id, "how": "new", "score": None,
                          "updated_at": now})
        person_of[r.id] = person_id
        queued = queue_reviews(s, who, r, person_id, interesting, person_of, decided, now, linked_to=linked_to,
                               kind=kind, candidates=len(cands), prob=prob)
        outcomes.append(MatchOutcome(r.id, person_id, kind, linked_to, prob, queued))
        row = _row(r)
        for key in ks:
            earlier[key].append(row)
    real = repo.new_person_ids(s, new_persons, now)
    for link in links:
        if link["person_id"] < 0:
            link["person_id"] = real[-link["person_id"] - 1]
    for o in outcomes:
        if o.person_id < 0:
            o.person_id = real[-o.person_id - 1]
    repo.insert_registry_links(s, links)
    return outcomes
