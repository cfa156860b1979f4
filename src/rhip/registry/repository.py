"""All registry queries. Services call these; nothing else writes SQL for the registry."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from datetime import date, datetime
from types import SimpleNamespace

from sqlalchemy import and_, bindparam, false, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from rhip.kit.dialect import insert_if_absent, insert_returning_ids
from rhip.registry.models import (
    Division, Household, MedicalCommunity, Organization, Practitioner, PractitionerOrg, Resident,
    Team, TeamMember, TeamVillage, VillageCounter,
)
from rhip.security.rules import Scope

SORTABLE = {
    "name": Resident.name, "birth_date": Resident.birth_date, "record_no": Resident.record_no,
    "created_at": Resident.created_at, "updated_at": Resident.updated_at, "id": Resident.id,
}


def _prefix_range(col, prefix: str) -> ColumnElement[bool]:
    """``col`` starts with ``prefix`` as an index-friendly range (codes and names alike)."""
    return and_(col >= prefix, col < prefix + "\U0010ffff")


def scope_filter(scope: Scope, col=Resident.village_code) -> ColumnElement[bool] | None:
    if scope.everything:
        return None
    villages, prefixes = scope.villages_and_prefixes()
    parts: list[ColumnElement[bool]] = []
    if villages:
        parts.append(col.in_(villages))
    parts.extend(_prefix_range(col, p) for p in prefixes)
    if not parts:
        return false()  # an empty scope matches nothing
    return or_(*parts) if len(parts) > 1 else parts[0]


@dataclass(slots=True)
class ResidentFilter:
    name: str | None = None
    name_prefix: bool = False
    id_number: str | None = None  # a valid number, normalised (legacy 15-digit numbers are stored upgraded)
    id_number_raw: str | None = None  # an invalid number as keyed, found among registrations that carry it
    phone: str | None = None
    household_id: int | None = None
    village_code: str | None = None
    status: str | None = None
    sex: str | None = None
    birth_from: date | None = None
    birth_to: date | None = None
    disabled: bool | None = None
    poverty_registered: bool | None = None
    fp_special_family: bool | None = None
    record_no: str | None = None
    resident_id: int | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None  # exclusive


def _resident_conditions(f: ResidentFilter, scope: Scope) -> list[ColumnElement[bool]]:
    c: list[ColumnElement[bool]] = []
    sf = scope_filter(scope)
    if sf is not None:
        c.append(sf)
    if f.id_number:
        c.append(Resident.id_number == f.id_number)
    if f.id_number_raw:
        c.append(Resident.id_number_raw == f.id_number_raw)
    if f.name:
        c.append(_prefix_range(Resident.name, f.name) if f.name_prefix else Resident.name == f.name)
    if f.phone:
        c.append(or_(Resident.phone == f.phone, Resident.phone2 == f.phone))
    if f.household_id is not None:
        c.append(Resident.household_id == f.household_id)
    if f.resident_id is not None:
        c.append(Resident.id == f.resident_id)
    if f.updated_from is not None:
        c.append(Resident.updated_at >= f.updated_from)
    if f.updated_to is not None:
        c.append(Resident.updated_at < f.updated_to)
    if f.record_no:
        c.append(Resident.record_no == f.record_no)
    if f.village_code:
        c.append(Resident.village_code == f.village_code if len(f.village_code) == 12
                 else _prefix_range(Resident.village_code, f.village_code))
    if f.status:
        c.append(Resident.status == f.status)
    if f.sex:
        c.append(Resident.sex == f.sex)
    if f.birth_from:
        c.append(Resident.birth_date >= f.birth_from)
    if f.birth_to:
        c.append(Resident.birth_date <= f.birth_to)
    if f.disabled is not None:
        c.append(Resident.disability.is_not(None) if f.disabled else Resident.disability.is_(None))
    if f.poverty_registered is not None:
        c.append(Resident.poverty_registered == f.poverty_registered)
    if f.fp_special_family is not None:
        c.append(Resident.fp_special_family == f.fp_special_family)
    return c


def search_residents(s: Session, f: ResidentFilter, scope: Scope, *, sort: str, descending: bool, offset: int,
                     limit: int, after: tuple | None = None, before: tuple | None = None) -> tuple[list[Resident], int]:
    """Rows and the total. ``after``/``before`` = (sort value, id) of a row: keyset paging, stable while rows
    are added (``offset`` is then ignored; rows come back in the requested order either way)."""
    cond = _resident_conditions(f, scope)
    if limit == 0:  # a count only
        return [], s.scalar(select(func.count()).select_from(Resident).where(*cond))
    col = SORTABLE[sort]
    cursor = after if after is not None else before
    if cursor is not None:
        value, last_id = cursor
        larger = descending if before is not None else not descending  # walking towards larger keys?
        if sort == "id":
            beyond = Resident.id > last_id if larger else Resident.id < last_id
        else:
            beyond = (or_(col > value, and_(col == value, Resident.id > last_id)) if larger
                      else or_(col < value, and_(col == value, Resident.id < last_id)))
        order = [col.asc(), Resident.id.asc()] if larger else [col.desc(), Resident.id.desc()]
        rows = list(s.scalars(select(Resident).where(*cond, beyond).order_by(*order[:1 if sort == "id" else 2])
                              .limit(limit)))
        if before is not None:
            rows.reverse()
        return rows, s.scalar(select(func.count()).select_from(Resident).where(*cond))
    order = [col.desc() if descending else col.asc()]
    if sort != "id":
        order.append(Resident.id.desc() if descending else Resident.id.asc())
    rows = s.scalars(select(Resident).where(*cond).order_by(*order).offset(offset).limit(limit)).all()
    if offset == 0 and len(rows) < limit:
        total = len(rows)
    else:
        total = s.scalar(select(func.count()).select_from(Resident).where(*cond))
    return list(rows), total


def get_resident(s: Session, resident_id: int) -> Resident | None:
    return s.get(Resident, resident_id)


def residents_with_id_number(s: Session, id_number: str, *, exclude_id: int | None = None) -> list[Resident]:
    q = select(Resident).where(Resident.id_number == id_number, Resident.status != "deceased")
    if exclude_id is not None:
        q = q.where(Resident.id != exclude_id)
    return list(s.scalars(q.limit(5)))


def insert_residents(s: Session, rows: list[dict]) -> list[SimpleNamespace]:
    """New registrations inserted together (``kit.dialect.insert_returning_ids``, no ORM unit of work). Returns
    them as plain read-only stand-ins with every column of ``Resident`` — the columns' defaults filled in — for the
    caller to render (an ORM instance costs more to make than the INSERT); read one through the session to change
    it."""
    if not rows:
        return []
    full = [{**_resident_defaults(), **r} for r in rows]
    ids = insert_returning_ids(s, Resident.__table__, full)
    return [SimpleNamespace(id=rid, **values) for rid, values in zip(ids, full)]


@cache
def _resident_defaults() -> dict:
    """Every column but the id: its scalar default, else None (what an ORM insert would store)."""
    return {c.key: (c.default.arg if c.default is not None and c.default.is_scalar else None)
            for c in Resident.__table__.columns if c.key != "id"}


_REGISTERED_ID_NUMBERS = select(Resident.id_number).where(Resident.id_number.in_(bindparam("numbers", expanding=True)),
                                                          Resident.status != "deceased")


def registered_id_numbers(s: Session, id_numbers: list[str]) -> set[str]:
    """Which of these ID numbers a living registration already has (one query)."""
    if not id_numbers:
        return set()
    return set(s.scalars(_REGISTERED_ID_NUMBERS, {"numbers": list(id_numbers)}))



def household_members(s: Session, household_id: int) -> list[Resident]:
    return list(s.scalars(select(Resident).where(Resident.household_id == household_id)
                          .order_by(Resident.relation_to_head, Resident.birth_date)))


def get_household(s: Session, household_id: int) -> Household | None:
    return s.get(Household, household_id)


COUNTERS = {"record": VillageCounter.next_record, "household": VillageCounter.next_household}


def allocate_number(s: Session, village_code: str, kind: str, count: int = 1) -> int:
    """Next health-record ("record") or household ("household") number of a village (the first of ``count``
    consecutive ones).

    One atomic ``UPDATE … RETURNING`` takes the row's write lock before reading (SQLite has no
    SELECT … FOR UPDATE). A village's first registration creates its counter, starting after the highest
    number in use; two concurrent first registrations both try, one insert is ignored."""
    bump = _bump_statement(kind)
    params = {"village": village_code, "count": count}
    value = s.scalar(bump, params)
    if value is None:
        rec = s.scalar(select(func.max(Resident.record_no)).where(Resident.village_code == village_code))
        hh = s.scalar(select(func.max(Household.code)).where(Household.village_code == village_code))
        insert_if_absent(s, VillageCounter.__table__, {
            "village_code": village_code, "next_record": int(rec[12:]) + 1 if rec else 1,
            "next_household": int(hh[12:]) + 1 if hh else 1})
        value = s.scalar(bump, params)
    return value - count


@cache
def _bump_statement(kind: str):
    """``UPDATE village_counter SET <counter> = <counter> + :count WHERE village_code = :village RETURNING …``,
    built once: a Core statement with bound parameters (no counter objects are ever held, so the ORM's
    bulk-update path, several times slower, is not needed)."""
    table = VillageCounter.__table__
    column = table.c[COUNTERS[kind].key]
    return update(table).where(table.c.village_code == bindparam("village")) \
        .values({column: column + bindparam("count")}).returning(column)


def bump_version(s: Session, resident_id: int, expected: int, values: dict) -> int:
    """Optimistic update: only succeeds when the version is still ``expected``. Returns rows updated."""
    res = s.execute(update(Resident).where(Resident.id == resident_id, Resident.version == expected)
                    .values(**values, version=expected + 1))
    return res.rowcount


# ------------------------------------------------------------------ divisions, organizations, people

def get_division(s: Session, code: str) -> Division | None:
    return s.get(Division, code)


_DIVISIONS = select(Division).where(Division.code.in_(bindparam("codes", expanding=True)))


def divisions(s: Session, codes: set[str]) -> list[Division]:
    return list(s.scalars(_DIVISIONS, {"codes": sorted(codes)}))


def list_divisions(s: Session, *, parent: str | None, level: str | None, offset: int, limit: int
                   ) -> tuple[list[Division], int]:
    c = []
    if parent:
        c.append(Division.parent_code == parent)
    if level:
        c.append(Division.level == level)
    total = s.scalar(select(func.count()).select_from(Division).where(*c))
    rows = s.scalars(select(Division).where(*c).order_by(Division.code).offset(offset).limit(limit)).all()
    return list(rows), total


def list_organizations(s: Session, *, kind: str | None, tier: str | None, division: str | None,
                       medical_community_id: int | None, offset: int, limit: int) -> tuple[list[Organization], int]:
    c = []
    if kind:
        c.append(Organization.kind == kind)
    if tier:
        c.append(Organization.tier == tier)
    if division:
        c.append(_prefix_range(Organization.division_code, division.rstrip("0") or division))
    if medical_community_id is not None:
        c.append(Organization.medical_community_id == medical_community_id)
    total = s.scalar(select(func.count()).select_from(Organization).where(*c))
    rows = s.scalars(select(Organization).where(*c).order_by(Organization.id).offset(offset).limit(limit)).all()
    return list(rows), total


def get_organization(s: Session, org_id: int) -> Organization | None:
    return s.get(Organization, org_id)


def get_medical_community(s: Session, mc_id: int) -> MedicalCommunity | None:
    return s.get(MedicalCommunity, mc_id)


def list_practitioners(s: Session, *, org_id: int | None, profession: str | None, name: str | None, offset: int,
                       limit: int) -> tuple[list[Practitioner], int]:
    c = []
    if org_id is not None:
        c.append(Practitioner.id.in_(select(PractitionerOrg.practitioner_id).where(PractitionerOrg.org_id == org_id)))
    if profession:
        c.append(Practitioner.profession == profession)
    if name:
        c.append(_prefix_range(Practitioner.name, name))
    total = s.scalar(select(func.count()).select_from(Practitioner).where(*c))
    rows = s.scalars(select(Practitioner).where(*c).order_by(Practitioner.id).offset(offset).limit(limit)).all()
    return list(rows), total


def get_practitioner(s: Session, pid: int) -> Practitioner | None:
    return s.get(Practitioner, pid)


def practitioner_orgs(s: Session, pids: list[int]) -> dict[int, list[tuple[int, bool, str | None]]]:
    out: dict[int, list[tuple[int, bool, str | None]]] = {}
    if not pids:
        return out
    for po in s.scalars(select(PractitionerOrg).where(PractitionerOrg.practitioner_id.in_(pids))):
        out.setdefault(po.practitioner_id, []).append((po.org_id, po.is_primary, po.department))
    return out


def list_teams(s: Session, *, org_id: int | None, village_code: str | None, offset: int, limit: int
               ) -> tuple[list[Team], int]:
    c = []
    if org_id is not None:
        c.append(Team.org_id == org_id)
    if village_code:
        c.append(Team.id.in_(select(TeamVillage.team_id).where(TeamVillage.division_code == village_code)))
    total = s.scalar(select(func.count()).select_from(Team).where(*c))
    rows = s.scalars(select(Team).where(*c).order_by(Team.id).offset(offset).limit(limit)).all()
    return list(rows), total


def get_team(s: Session, team_id: int) -> Team | None:
    return s.get(Team, team_id)


def team_members(s: Session, team_ids: list[int]) -> dict[int, list[tuple[TeamMember, Practitioner]]]:
    out: dict[int, list[tuple[TeamMember, Practitioner]]] = {}
    if not team_ids:
        return out
    q = (select(TeamMember, Practitioner).join(Practitioner, Practitioner.id == TeamMember.practitioner_id)
         .where(TeamMember.team_id.in_(team_ids)).order_by(TeamMember.team_id, TeamMember.role))
    for tm, p in s.execute(q):
        out.setdefault(tm.team_id, []).append((tm, p))
    return out


def team_villages(s: Session, team_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    if not team_ids:
        return out
    for tid, code in s.execute(select(TeamVillage.team_id, TeamVillage.division_code)
                               .where(TeamVillage.team_id.in_(team_ids)).order_by(TeamVillage.division_code)):
        out.setdefault(tid, []).append(code)
    return out


def division_names(s: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(s.execute(select(Division.code, Division.name).where(Division.code.in_(codes))).all())


def count_residents(s: Session, scope: Scope) -> dict[str, int]:
    sf = scope_filter(scope)
    q = select(Resident.status, func.count()).group_by(Resident.status)
    if sf is not None:
        q = q.where(sf)
    return {k: v for k, v in s.execute(q).all()}


def is_empty(s: Session) -> bool:
    return s.scalar(select(func.count()).select_from(Division)) == 0
