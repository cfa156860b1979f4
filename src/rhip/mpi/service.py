"""MPI use cases: matching on write, $match, golden identity and links, review decisions, merge/unmerge.

Each runs in the caller's transaction (never commits) and audits what it touches.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from rhip.kit import clock, events
from rhip.kit.errors import Conflict, FieldError, NotFound, ValidationFailed
from rhip.kit.pagination import Page, PageRequest
from rhip.mpi import repository as repo
from rhip.mpi.candidates import birth_year, compare_pair, fields_of, hashed_keys, worth_scoring
from rhip.mpi.models import REGISTRY_SYSTEM, MpiLink, MpiReview
from rhip.mpi.rules import PersonFields
from rhip.mpi.rules_input import check_count, check_query
from rhip.mpi.rules_levels import Level
from rhip.mpi.rules_score import MATCH, NO_MATCH, Score, ScoringParams, classify_pair, load_params, \
    grade_pair, score
from rhip.registry import repository as registry_repo
from rhip.registry.service import resident_in_scope
from rhip.registry.models import Resident
from rhip.security.service import Principal, audit

DECISIONS = {"link": "linked", "distinct": "distinct"}


def params() -> ScoringParams:
    """The scoring parameters in force: ``RHIP_MPI_PARAMS`` if set, else the fitted defaults."""
    from rhip.settings import get_settings

    path = getattr(get_settings(), "mpi_params", None)
    return load_params(Path(path) if path else None)


def resident_fields(r: Resident) -> PersonFields:
    return fields_of(r.name, r.id_number, r.id_number_raw, r.sex, r.birth_date, r.phone, r.phone2, r.village_code,
                     r.household_id)


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


@dataclass(slots=True)
class Candidate:
    resident_id: int
    village_code: str
    levels: dict[str, Level]
    score: Score
    outcome: str


@dataclass(slots=True)
class MatchOutcome:
    resident_id: int
    person_id: int
    result: str  # new | linked | kept
    linked_to: int | None = None  # the resident whose person it joined
    probability: float | None = None
    queued: list[int] = field(default_factory=list)  # residents proposed for review with this one


def _candidates(s: Session, p: PersonFields, P: ScoringParams, *, exclude_id: int | None,
                scope=None) -> tuple[list[Candidate], dict[int, int]]:
    """Scored candidates, best first, and the person id of each candidate that has one."""
    keys = hashed_keys(p)
    if not keys:
        return [], {}
    kinds: dict[int, set[str]] = defaultdict(set)
    rows: dict[int, tuple] = {}
    persons: dict[int, int] = {}
    for key, person_id, *row in repo.block_hits(s, keys, exclude_id, scope):
        kinds[row[0]].add(keys[key])
        rows[row[0]] = row
        if person_id is not None:
            persons[row[0]] = person_id
    return scored(p, P, kinds, rows), persons


def scored(p: PersonFields, P: ScoringParams, kinds: dict[int, set[str]], rows: dict[int, tuple]) -> list[Candidate]:
    """The candidates (rows in ``FIELD_COLUMNS`` order, with the kinds of blocking keys they share with ``p``)
    worth scoring, scored and classified, best first; at most ``MAX_CANDIDATES`` of them are looked at."""
    year = birth_year(p)
    out = []
    for rid, row in list(rows.items())[:repo.MAX_CANDIDATES]:
        other = fields_of(*row[1:])
        if not worth_scoring(kinds[rid], year, birth_year(other)):
            continue
        levels = compare_pair(p, other)
        sc = score(levels, P)
        out.append(Candidate(rid, row[8], levels, sc, classify_pair(levels, sc.probability, P)))
    out.sort(key=lambda c: (-c.score.probability, c.resident_id))
    return out


def _ensure_link(s: Session, resident_id: int, now) -> MpiLink:
    link = repo.link_of_resident(s, resident_id)
    if link is None:
        person = repo.new_person(s, now)
        link = repo.add_link(s, person_id=person.id, resident_id=resident_id, how="index", score=None, now=now)
    return link


def _levels_json(levels: dict[str, Level]) -> str:
    return json.dumps({k: v.value for k, v in levels.items()})


def on_resident_written(s: Session, who: Principal, r: Resident, *, created: bool) -> MatchOutcome:
    """Match a registration that was just created or changed (called by the registry's use cases, so the
    registry API, FHIR Patient create/update and bulk import all pass here).

    match → joins the best candidate's person (a new registration, or one that is alone in its person);
    possible → queued for review (unless that pair was decided before); no match → a person of its own.
    """
    P = params()
    now = clock.now()
    p = resident_fields(r)
    link = None if created else repo.link_of_resident(s, r.id)
    repo.replace_blocks(s, r.id, hashed_keys(p).keys(), existing=not created)
    cands, persons = _candidates(s, p, P, exclude_id=r.id)
    interesting = [c for c in cands if c.outcome != NO_MATCH]
    decided = repo.reviews_of_pairs(s, [_pair(r.id, c.resident_id) for c in interesting])
    interesting = [c for c in interesting if getattr(decided.get(_pair(r.id, c.resident_id)), "status", None)
                   != "distinct"]
    own_person = link.person_id if link else None
    alone = link is None or len([x for x in repo.links_of_person(s, own_person) if x.resident_id]) == 1
    best = next((c for c in interesting if c.outcome == MATCH), None)
    outcome_kind, linked_to, prob = "kept", None, None
    if best is not None and alone and persons.get(best.resident_id, -1) != own_person:
        if best.resident_id not in persons:
            persons[best.resident_id] = _ensure_link(s, best.resident_id, now).person_id
        target = persons[best.resident_id]
        if link is None:
            repo.add_link(s, person_id=target, resident_id=r.id, how="auto", score=best.score.probability, now=now)
        else:
            old = link.person_id
            link.person_id, link.how, link.score, link.updated_at = target, "auto", best.score.probability, now
            s.flush()
            repo.retire_if_empty(s, old)
        person_id, outcome_kind, linked_to, prob = target, "linked", best.resident_id, best.score.probability
    elif link is None:
        person_id = repo.new_person_id(s, now)
        repo.add_link(s, person_id=person_id, resident_id=r.id, how="new", score=None, now=now)
        outcome_kind = "new"
    else:
        person_id = link.person_id
    queued = queue_reviews(s, who, r, person_id, interesting, persons, decided, now, linked_to=linked_to,
                           kind=outcome_kind, candidates=len(cands), prob=prob)
    return MatchOutcome(r.id, person_id, outcome_kind, linked_to, prob, queued)


def queue_reviews(s: Session, who: Principal, r: Resident, person_id: int, interesting: list[Candidate],
                  person_of: dict[int, int], decided, now, *, linked_to: int | None, kind: str, candidates: int,
                  prob: float | None) -> list[int]:
    """Queue for review each possible match that is not already the same person or decided, and audit the
    outcome when the record was tied to other people (the write itself is audited by the registry)."""
    queued = []
    for c in interesting:
        if person_of.get(c.resident_id) == person_id or _pair(r.id, c.resident_id) in decided:
            continue
        a, b = _pair(r.id, c.resident_id)
        repo.add_review(s, resident_a=a, resident_b=b, village_a=r.village_code if a == r.id else c.village_code,
                        village_b=r.village_code if b == r.id else c.village_code, score=c.score.probability,
                        weight=c.score.weight, levels=_levels_json(c.levels), status="pending", created_at=now)
        queued.append(c.resident_id)
    if linked_to or queued:
        audit(s, who, "mpi.match", resident_ids=[r.id] + ([linked_to] if linked_to else []) + queued,
              detail={"result": kind, "candidates": candidates, "queued": len(queued),
                      **({"probability": round(prob, 6)} if prob is not None else {})})
    return queued


# ---------------------------------------------------------------- $match

@dataclass(slots=True)
class MatchResult:
    resident: Resident
    probability: float
    weight: float
    grade: str
    levels: dict[str, Level]


def match_query(s: Session, who: Principal, data: dict, *, count: int | None = None,
                only_certain: bool = False) -> list[MatchResult]:
    """Registrations in the caller's scope that may be the person described by ``data`` (name, id_number,
    sex, birth_date, phones, village_code), best first, without writing anything but the audit event."""
    who.require("resident.read")
    p, errors = check_query(data, today=clock.now().date())
    errors += check_count(count)
    if errors:
        raise ValidationFailed(errors)
    P = params()
    cands, _ = _candidates(s, p, P, exclude_id=None, scope=who.scope)
    wanted = [c for c in cands if grade_pair(c.levels, c.score.probability, P) in (
        ("certain",) if only_certain else ("certain", "probable", "possible"))][:count or 10]
    residents = {r.id: r for r in (registry_repo.get_resident(s, c.resident_id) for c in wanted) if r}
    out = [MatchResult(residents[c.resident_id], c.score.probability, c.score.weight,
                       grade_pair(c.levels, c.score.probability, P), c.levels) for c in wanted if c.resident_id in residents]
    audit(s, who, "mpi.match_query", resident_ids=[m.resident.id for m in out],
          detail={"candidates": len(cands), "returned": len(out), "only_certain": only_certain})
    return out


# ---------------------------------------------------------------- identity and links

def _resident_in_scope(s: Session, who: Principal, resident_id: int, action: str) -> Resident:
    return resident_in_scope(s, who, resident_id, action)


def patient_links(s: Session, resident_id: int) -> list[tuple[int, str]]:
    """(other resident id, FHIR link type) for Patient.link: replaced-by / replaces / seealso."""
    links = repo.links_of_same_person(s, resident_id)  # one round trip: this runs on every Patient read
    link = next((k for k in links if k.source_system == REGISTRY_SYSTEM and k.source_id == str(resident_id)),
                None)
    if link is None:
        return []
    out: list[tuple[int, str]] = []
    if link.status == "replaced" and link.replaced_by_resident_id:
        out.append((link.replaced_by_resident_id, "replaced-by"))
    for other in links:
        if other is link:
            continue
        rid = other.resident_id
        if rid is None or rid == resident_id or rid == link.replaced_by_resident_id:
            continue
        out.append((rid, "replaces" if other.status == "replaced" and other.replaced_by_resident_id == resident_id
                    else "seealso"))
    return out


def identity(s: Session, who: Principal, resident_id: int) -> dict:
    """The golden identity of a registration: master id and every linked source record."""
    who.require("resident.read")
    _resident_in_scope(s, who, resident_id, "mpi.identity")
    link = repo.link_of_resident(s, resident_id)
    if link is None:
        raise NotFound("身份索引记录", "MPI identity of resident", resident_id)
    person = repo.get_person(s, link.person_id)
    links = repo.links_of_person(s, person.id)
    audit(s, who, "mpi.identity", resident_ids=[x.resident_id for x in links if x.resident_id])
    return {"empi": person.empi, "status": person.status,
            "records": [{"source_system": x.source_system, "source_id": x.source_id, "resident_id": x.resident_id,
                         "status": x.status, "replaced_by": x.replaced_by_resident_id, "how": x.how,
                         "score": x.score} for x in links],
            "merges": [{"id": m.id, "survivor": m.survivor_resident_id, "merged": m.merged_resident_id,
                        "reason": m.reason, "by": m.merged_by, "at": m.merged_at, "undone_at": m.undone_at,
                        "undo_reason": m.undo_reason} for m in repo.merges_of(s, resident_id)]}


def link_source_record(s: Session, who: Principal, resident_id: int, system: str, source_id: str) -> MpiLink:
    """Link another system's record (e.g. a hospital's patient number) to the person of a registration."""
    now = clock.now()
    link = _ensure_link(s, resident_id, now)
    existing = repo.link_by_source(s, system, source_id)
    if existing is not None:
        if existing.person_id != link.person_id:
            raise Conflict("mpi.source_linked", f"{system}|{source_id} 已关联到另一人",
                           f"{system}|{source_id} is already linked to another person", "identifier")
        return existing
    out = repo.add_link(s, person_id=link.person_id, resident_id=None, how="manual", score=None, now=now,
                        source_system=system, source_id=source_id)
    audit(s, who, "mpi.link_source", resident_ids=[resident_id], detail={"system": system})
    return out


# ---------------------------------------------------------------- review queue

def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if len(text) < 2:
        raise ValidationFailed([FieldError("reason", "reason.required", "请填写理由（至少2个字）",
                                           "give a reason (at least 2 characters)")])
    return text[:500]


def _review_in_scope(who: Principal, rv: MpiReview | None, review_id: int, action: str) -> MpiReview:
    if rv is None:
        raise NotFound("待审核配对", "review pair", review_id)
    if not (who.scope.covers(rv.village_a) or who.scope.covers(rv.village_b)):
        raise NotFound("待审核配对", "review pair", review_id)
    return rv


def list_reviews(s: Session, who: Principal, page: PageRequest, *, status: str = "pending",
                 township: str | None = None) -> Page[tuple[MpiReview, Resident, Resident]]:
    who.require("mpi.review")
    if status not in ("pending", "linked", "distinct"):
        raise ValidationFailed([FieldError("status", "status.code", f"状态“{status}”无效",
                                           "status must be pending, linked or distinct")])
    if township and not (township.isdigit() and len(township) == 9):
        raise ValidationFailed([FieldError("township", "township.format", "乡镇区划代码应为9位数字",
                                           "township code must have 9 digits")])
    rows, total = repo.list_reviews(s, who.scope, status=status, township=township, offset=page.offset,
                                    limit=page.page_size)
    people = {r.id: r for r in (registry_repo.get_resident(s, i) for rv in rows
                                for i in (rv.resident_a, rv.resident_b)) if r}
    items = [(rv, people[rv.resident_a], people[rv.resident_b]) for rv in rows]
    audit(s, who, "mpi.review.list", resident_ids=list(people), detail={"status": status, "total": total})
    return Page(items, total, page.page, page.page_size)


def get_review(s: Session, who: Principal, review_id: int) -> tuple[MpiReview, Resident, Resident]:
    who.require("mpi.review")
    rv = _review_in_scope(who, repo.get_review(s, review_id), review_id, "mpi.review.read")
    a, b = registry_repo.get_resident(s, rv.resident_a), registry_repo.get_resident(s, rv.resident_b)
    audit(s, who, "mpi.review.read", resident_ids=[a.id, b.id], detail={"review": rv.id})
    return rv, a, b


def _join_persons(s: Session, keep_resident: int, other_resident: int, now) -> None:
    la, lb = _ensure_link(s, keep_resident, now), _ensure_link(s, other_resident, now)
    if la.person_id != lb.person_id:
        old = lb.person_id
        repo.move_person_links(s, old, la.person_id, now)
        repo.retire_if_empty(s, old)


def decide_review(s: Session, who: Principal, review_id: int, decision: str, reason: str | None) -> MpiReview:
    """link: the two registrations are the same person (their identities are joined); distinct: they are
    not. Either way the decision is kept, so the pair is not proposed again."""
    who.require("mpi.review")
    if decision not in DECISIONS:
        raise ValidationFailed([FieldError("decision", "decision.code", f"决定“{decision}”无效，应为 link 或 distinct",
                                           "decision must be link or distinct")])
    text = _reason(reason)
    rv = _review_in_scope(who, repo.get_review(s, review_id), review_id, "mpi.review.decide")
    if rv.status != "pending":
        raise Conflict("review.decided", f"该配对已处理（{rv.status}）", f"this pair was already decided ({rv.status})")
    now = clock.now()
    if decision == "link":
        _join_persons(s, rv.resident_a, rv.resident_b, now)
        lb = repo.link_of_resident(s, rv.resident_b)
        lb.how, lb.score, lb.updated_at = "review", rv.score, now
    rv.status, rv.reason, rv.decided_by, rv.decided_at = DECISIONS[decision], text, who.username, now
    s.flush()
    audit(s, who, "mpi.review.decide", resident_ids=[rv.resident_a, rv.resident_b],
          detail={"review": rv.id, "decision": decision, "reason": text})
    return rv


def pending_counts(s: Session, who: Principal) -> list[tuple[str, str, int]]:
    who.require("mpi.review")
    return repo.pending_by_township(s, who.scope)


def summary(s: Session) -> dict[str, int]:
    """County-wide counts (no personal data): for the console home."""
    return repo.counts(s)


# ---------------------------------------------------------------- merge and unmerge

def merge(s: Session, who: Principal, survivor_id: int, merged_id: int, reason: str | None):
    """Merge registration ``merged_id`` into ``survivor_id``: the merged record keeps its row, its link says
    replaced-by the survivor, and both belong to one person. Undo with :func:`unmerge`."""
    who.require("mpi.review")
    text = _reason(reason)
    if survivor_id == merged_id:
        raise ValidationFailed([FieldError("merged", "merge.same", "不能把档案合并到自身",
                                           "a record cannot be merged into itself")])
    _resident_in_scope(s, who, survivor_id, "mpi.merge")
    _resident_in_scope(s, who, merged_id, "mpi.merge")
    now = clock.now()
    ls, lm = _ensure_link(s, survivor_id, now), _ensure_link(s, merged_id, now)
    if lm.status == "replaced":
        raise Conflict("merge.already", f"档案{merged_id}已被合并到{lm.replaced_by_resident_id}",
                       f"record {merged_id} is already merged into {lm.replaced_by_resident_id}")
    if ls.status == "replaced":
        raise Conflict("merge.survivor_replaced", f"档案{survivor_id}本身已被合并到{ls.replaced_by_resident_id}",
                       f"record {survivor_id} is itself merged into {ls.replaced_by_resident_id}; merge into that")
    previous = lm.person_id
    lm.person_id, lm.status, lm.replaced_by_resident_id, lm.how, lm.updated_at = \
        ls.person_id, "replaced", survivor_id, "manual", now
    s.flush()
    if previous != ls.person_id:
        repo.retire_if_empty(s, previous)
    m = repo.add_merge(s, survivor_resident_id=survivor_id, merged_resident_id=merged_id,
                       previous_person_id=previous, reason=text, merged_by=who.username, merged_at=now)
    audit(s, who, "mpi.merge", resident_ids=[survivor_id, merged_id], detail={"merge": m.id, "reason": text})
    # programmes and contracts act per person: the merged record's duplicate enrolments and contract end
    events.publish(s, who, events.REGISTRATIONS_MERGED, survivor_id=survivor_id, merged_id=merged_id)
    return m


def unmerge(s: Session, who: Principal, merge_id: int, reason: str | None):
    """Undo a merge: the merged record is active again and back with the person it had before; the pair is
    remembered as not the same person when that person was another one."""
    who.require("mpi.review")
    text = _reason(reason)
    m = repo.get_merge(s, merge_id)
    if m is None:
        raise NotFound("合并记录", "merge", merge_id)
    _resident_in_scope(s, who, m.survivor_resident_id, "mpi.unmerge")
    merged = _resident_in_scope(s, who, m.merged_resident_id, "mpi.unmerge")
    if m.undone_at is not None:
        raise Conflict("merge.undone", "该合并已撤销", "this merge was already undone")
    now = clock.now()
    lm = repo.link_of_resident(s, m.merged_resident_id)
    current = lm.person_id
    lm.status, lm.replaced_by_resident_id, lm.how, lm.updated_at = "active", None, "manual", now
    if current != m.previous_person_id:
        repo.reactivate(s, m.previous_person_id)
        lm.person_id = m.previous_person_id
        s.flush()
        repo.retire_if_empty(s, current)
        survivor = registry_repo.get_resident(s, m.survivor_resident_id)
        a, b = _pair(m.survivor_resident_id, m.merged_resident_id)
        repo.decide_pairs_distinct(s, [(a, b)], {survivor.id: survivor.village_code,
                                                 merged.id: merged.village_code},
                                   by=who.username, reason=f"撤销合并 unmerge: {text}", now=now)
    m.undone_at, m.undone_by, m.undo_reason = now, who.username, text
    s.flush()
    audit(s, who, "mpi.unmerge", resident_ids=[m.survivor_resident_id, m.merged_resident_id],
          detail={"merge": m.id, "reason": text})
    return m


def today() -> date:
    return clock.now().date()
