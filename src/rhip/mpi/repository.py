"""All MPI queries. Services call these; nothing else writes SQL for the MPI."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from rhip.kit.dialect import insert_returning_ids
from rhip.mpi.models import REGISTRY_SYSTEM, MpiBlock, MpiLink, MpiMerge, MpiPerson, MpiReview
from rhip.registry.models import Division, Resident
from rhip.registry.repository import scope_filter
from rhip.security.rules import Scope

#: The columns a comparison needs, in ``candidates.fields_of`` order after the id.
FIELD_COLUMNS = (Resident.id, Resident.name, Resident.id_number, Resident.id_number_raw, Resident.sex,
                 Resident.birth_date, Resident.phone, Resident.phone2, Resident.village_code, Resident.household_id)
#: Most candidates scored for one registration (the blocks of a large village are capped, never unbounded).
MAX_CANDIDATES = 200


def new_empi() -> str:
    return uuid.uuid4().hex


# ---------------------------------------------------------------- blocking keys

def replace_blocks(s: Session, resident_id: int, hashes: Iterable[int], *, existing: bool) -> None:
    if existing:
        s.execute(delete(MpiBlock).where(MpiBlock.resident_id == resident_id))
    rows = [{"key": h, "resident_id": resident_id} for h in sorted(set(hashes))]
    if rows:
        s.execute(MpiBlock.__table__.insert(), rows)


def insert_blocks(s: Session, rows: list[tuple[int, int]]) -> None:
    """The blocking keys of several new registrations: (resident id, key hash) pairs, one multi-row INSERT."""
    if rows:
        s.execute(MpiBlock.__table__.insert(), [{"key": h, "resident_id": rid} for rid, h in sorted(set(rows))])


def new_person_ids(s: Session, count: int, now: datetime) -> list[int]:
    """``count`` new persons in one statement; their ids in order."""
    if count <= 0:
        return []
    rows = [{"empi": new_empi(), "status": "active", "created_at": now} for _ in range(count)]
    return insert_returning_ids(s, MpiPerson.__table__, rows)


def insert_registry_links(s: Session, rows: list[dict]) -> None:
    """Links of new registrations (``person_id``, ``resident_id``, ``how``, ``score``, ``updated_at``), one
    multi-row INSERT."""
    if rows:
        s.execute(MpiLink.__table__.insert(), [{"source_system": REGISTRY_SYSTEM, "source_id": str(r["resident_id"]),
                                                "status": "active", "replaced_by_resident_id": None, **r}
                                               for r in rows])


def block_hits(s: Session, hashes: Iterable[int], exclude_id: int | None, scope: Scope | None = None,
               limit: int = MAX_CANDIDATES * 3) -> list[tuple]:
    """One query: (key hash, person id or None, *FIELD_COLUMNS) of other registrations sharing a key with
    ``hashes`` (within ``scope`` if given), at most a few hundred rows — a huge block is cut, never scanned."""
    q = (select(MpiBlock.key, MpiLink.person_id, *FIELD_COLUMNS)
         .join(Resident, Resident.id == MpiBlock.resident_id)
         .outerjoin(MpiLink, MpiLink.resident_id == MpiBlock.resident_id)
         .where(MpiBlock.key.in_(list(hashes))))
    if exclude_id is not None:
        q = q.where(MpiBlock.resident_id != exclude_id)
    if scope is not None:
        sf = scope_filter(scope)
        if sf is not None:
            q = q.where(sf)
    return [tuple(r) for r in s.execute(q.limit(limit))]


def new_person_id(s: Session, now: datetime) -> int:
    """A new person in one statement (no ORM object: this runs on every registration)."""
    return s.execute(MpiPerson.__table__.insert().values(empi=new_empi(), status="active", created_at=now)
                     .returning(MpiPerson.id)).scalar_one()


def field_rows(s: Session, resident_ids: Iterable[int], scope: Scope | None = None) -> list[tuple]:
    ids = list(resident_ids)
    if not ids:
        return []
    q = select(*FIELD_COLUMNS).where(Resident.id.in_(ids))
    if scope is not None:
        sf = scope_filter(scope)
        if sf is not None:
            q = q.where(sf)
    return [tuple(r) for r in s.execute(q)]


# ---------------------------------------------------------------- persons and links

def new_person(s: Session, now: datetime) -> MpiPerson:
    p = MpiPerson(empi=new_empi(), status="active", created_at=now)
    s.add(p)
    s.flush()
    return p


def link_of_resident(s: Session, resident_id: int) -> MpiLink | None:
    return s.scalar(select(MpiLink).where(MpiLink.source_system == REGISTRY_SYSTEM,
                                          MpiLink.source_id == str(resident_id)))


def links_of_residents(s: Session, resident_ids: Iterable[int]) -> dict[int, MpiLink]:
    ids = list(resident_ids)
    if not ids:
        return {}
    rows = s.scalars(select(MpiLink).where(MpiLink.resident_id.in_(ids)))
    return {r.resident_id: r for r in rows}


@dataclass
class Registration:
    """A registration's place in the MPI: the person's other registrations; ``replaced_by`` if merged."""

    resident_id: int
    replaced_by: int | None
    others: list[int]


def _same_person_statement():
    mine, other = MpiLink.__table__.alias("mine"), MpiLink.__table__.alias("other")
    return (select(mine.c.resident_id, mine.c.replaced_by_resident_id, other.c.resident_id)
            .outerjoin(other, (other.c.person_id == mine.c.person_id) & (other.c.resident_id != mine.c.resident_id)
                       & other.c.resident_id.is_not(None))
            .where(mine.c.resident_id.in_(bindparam("ids", expanding=True)))
            .order_by(mine.c.resident_id, other.c.resident_id))


#: Built once: constructing the aliased join costs more than running it (it runs on every record write).
_SAME_PERSON = _same_person_statement()


def registrations_of_same_person(s: Session, resident_ids: Iterable[int]) -> dict[int, Registration]:
    """For each of these registrations that the MPI knows: its person's *other* registrations (resident ids,
    ascending) and, if it was merged into another, which. Used by programmes and contracts to act per person."""
    ids = list(resident_ids)
    if not ids:
        return {}
    out: dict[int, Registration] = {}
    for rid, replaced_by, other_id in s.execute(_SAME_PERSON, {"ids": ids}):
        reg = out.setdefault(rid, Registration(rid, replaced_by, []))
        if other_id is not None:
            reg.others.append(other_id)
    return out


def links_of_same_person(s: Session, resident_id: int) -> list[MpiLink]:
    """Every link of the person this registration belongs to (its own link included), in one query."""
    person = (select(MpiLink.person_id).where(MpiLink.source_system == REGISTRY_SYSTEM,
                                             MpiLink.source_id == str(resident_id)).scalar_subquery())
    return list(s.scalars(select(MpiLink).where(MpiLink.person_id == person).order_by(MpiLink.id)))


def links_of_person(s: Session, person_id: int) -> list[MpiLink]:
    return list(s.scalars(select(MpiLink).where(MpiLink.person_id == person_id).order_by(MpiLink.id)))


def add_link(s: Session, *, person_id: int, resident_id: int | None, how: str, score: float | None, now: datetime,
             source_system: str = REGISTRY_SYSTEM, source_id: str | None = None) -> MpiLink:
    link = MpiLink(source_system=source_system, source_id=source_id or str(resident_id), person_id=person_id,
                   resident_id=resident_id, status="active", how=how, score=score, updated_at=now)
    s.add(link)
    s.flush()
    return link


def link_by_source(s: Session, system: str, source_id: str) -> MpiLink | None:
    return s.scalar(select(MpiLink).where(MpiLink.source_system == system, MpiLink.source_id == source_id))


def move_person_links(s: Session, from_person: int, to_person: int, now: datetime) -> list[int]:
    """Every link of ``from_person`` to ``to_person``; returns the resident ids moved."""
    moved = list(s.scalars(select(MpiLink.resident_id).where(MpiLink.person_id == from_person)))
    s.execute(update(MpiLink).where(MpiLink.person_id == from_person).values(person_id=to_person, updated_at=now))
    return [r for r in moved if r is not None]


def retire_if_empty(s: Session, person_id: int) -> bool:
    left = s.scalar(select(func.count()).select_from(MpiLink).where(MpiLink.person_id == person_id))
    if left == 0:
        s.execute(update(MpiPerson).where(MpiPerson.id == person_id).values(status="retired"))
        return True
    return False


def reactivate(s: Session, person_id: int) -> None:
    s.execute(update(MpiPerson).where(MpiPerson.id == person_id).values(status="active"))


def get_person(s: Session, person_id: int) -> MpiPerson | None:
    return s.get(MpiPerson, person_id)


def person_by_empi(s: Session, empi: str) -> MpiPerson | None:
    return s.scalar(select(MpiPerson).where(MpiPerson.empi == empi))


# ---------------------------------------------------------------- review queue

def reviews_of_pairs(s: Session, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], MpiReview]:
    pairs = list(pairs)
    if not pairs:
        return {}
    firsts = sorted({a for a, _ in pairs} | {b for _, b in pairs})
    rows = s.scalars(select(MpiReview).where(MpiReview.resident_a.in_(firsts), MpiReview.resident_b.in_(firsts)))
    wanted = set(pairs)
    return {(r.resident_a, r.resident_b): r for r in rows if (r.resident_a, r.resident_b) in wanted}


def add_review(s: Session, **values) -> MpiReview:
    r = MpiReview(**values)
    s.add(r)
    s.flush()
    return r


def get_review(s: Session, review_id: int) -> MpiReview | None:
    return s.get(MpiReview, review_id)


def _still_open():
    """A pending pair whose two records have meanwhile become one person (another decision, a merge, a
    later automatic link) needs no review any more."""
    la, lb = aliased(MpiLink), aliased(MpiLink)
    return ~exists().where(la.resident_id == MpiReview.resident_a, lb.resident_id == MpiReview.resident_b,
                           la.person_id == lb.person_id)


def _review_scope(scope: Scope):
    a, b = scope_filter(scope, MpiReview.village_a), scope_filter(scope, MpiReview.village_b)
    return None if a is None else or_(a, b)


def list_reviews(s: Session, scope: Scope, *, status: str, township: str | None, offset: int, limit: int
                 ) -> tuple[list[MpiReview], int]:
    cond = [MpiReview.status == status] + ([_still_open()] if status == "pending" else [])
    sf = _review_scope(scope)
    if sf is not None:
        cond.append(sf)
    if township:
        cond.append(or_(func.substr(MpiReview.village_a, 1, 9) == township,
                        func.substr(MpiReview.village_b, 1, 9) == township))
    total = s.scalar(select(func.count()).select_from(MpiReview).where(*cond))
    order = [MpiReview.score.desc(), MpiReview.id] if status == "pending" else [MpiReview.decided_at.desc(),
                                                                                 MpiReview.id.desc()]
    rows = list(s.scalars(select(MpiReview).where(*cond).order_by(*order).offset(offset).limit(limit)))
    return rows, total


def pending_by_township(s: Session, scope: Scope) -> list[tuple[str, str, int]]:
    """(township code, name, pending pairs) by the township of the newer registration of each pair."""
    town = func.substr(MpiReview.village_b, 1, 9)
    cond = [MpiReview.status == "pending", _still_open()]
    sf = _review_scope(scope)
    if sf is not None:
        cond.append(sf)
    rows = s.execute(select(town, func.count()).where(*cond).group_by(town).order_by(town)).all()
    names = dict(s.execute(select(Division.code, Division.name).where(
        Division.code.in_([t + "000" for t, _ in rows]))).all()) if rows else {}
    return [(t, names.get(t + "000", t), n) for t, n in rows]


def decide_pairs_distinct(s: Session, pairs: list[tuple[int, int]], villages: dict[int, str], *, by: str,
                          reason: str, now: datetime) -> None:
    """Remember "not the same person" for these pairs (insert or overwrite the decision)."""
    found = reviews_of_pairs(s, pairs)
    for a, b in pairs:
        r = found.get((a, b))
        if r is None:
            add_review(s, resident_a=a, resident_b=b, village_a=villages[a], village_b=villages[b], score=0.0,
                       weight=0.0, levels="{}", status="distinct", reason=reason, decided_by=by, decided_at=now,
                       created_at=now)
        else:
            r.status, r.reason, r.decided_by, r.decided_at = "distinct", reason, by, now


def counts(s: Session) -> dict[str, int]:
    """Whole-county counts for the console home: persons, records linked to another, merged, pending."""
    persons = s.scalar(select(func.count()).select_from(MpiPerson).where(MpiPerson.status == "active"))
    links = s.scalar(select(func.count()).select_from(MpiLink).where(MpiLink.resident_id.is_not(None)))
    replaced = s.scalar(select(func.count()).select_from(MpiLink).where(MpiLink.status == "replaced"))
    by_status = dict(s.execute(select(MpiReview.status, func.count()).group_by(MpiReview.status)).all())
    by_status["pending"] = s.scalar(select(func.count()).select_from(MpiReview).where(
        MpiReview.status == "pending", _still_open())) or 0
    return {"persons": persons or 0, "records": links or 0, "linked_duplicates": (links or 0) - (persons or 0),
            "replaced": replaced or 0, "pending": by_status.get("pending", 0),
            "decided_linked": by_status.get("linked", 0), "decided_distinct": by_status.get("distinct", 0)}


# ---------------------------------------------------------------- merges

def add_merge(s: Session, **values) -> MpiMerge:
    m = MpiMerge(**values)
    s.add(m)
    s.flush()
    return m


def get_merge(s: Session, merge_id: int) -> MpiMerge | None:
    return s.get(MpiMerge, merge_id)


def merges_of(s: Session, resident_id: int) -> list[MpiMerge]:
    return list(s.scalars(select(MpiMerge).where(or_(MpiMerge.merged_resident_id == resident_id,
                                                     MpiMerge.survivor_resident_id == resident_id))
                          .order_by(MpiMerge.id)))


# ---------------------------------------------------------------- bulk (index of a whole registry)

def iter_field_rows(conn: Connection, chunk: int = 50_000) -> Iterator[list[tuple]]:
    """Every registration's comparison fields, in id order, in chunks (keyset paging)."""
    last = None
    while True:
        q = select(*FIELD_COLUMNS).order_by(Resident.id).limit(chunk)
        if last is not None:
            q = q.where(Resident.id > last)
        rows = [tuple(r) for r in conn.execute(q)]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def indexed_resident_ids(conn: Connection) -> set[int]:
    return set(conn.scalars(select(MpiLink.resident_id).where(MpiLink.resident_id.is_not(None))))


def max_id(conn: Connection, model) -> int:
    return conn.scalar(select(func.max(model.id))) or 0
