"""All contract and key-population queries. Services call these; nothing else writes SQL for contracts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from rhip.contracts.models import ClassificationRun, Contract, ContractPackage, KeyPopulation
from rhip.records.models import Condition, Encounter
from rhip.registry.models import Organization, PractitionerOrg, Resident, Team, TeamMember, TeamVillage
from rhip.registry.repository import scope_filter
from rhip.security.rules import Scope


# ------------------------------------------------------------------ contracts

def get_contract(s: Session, contract_id: int) -> Contract | None:
    return s.get(Contract, contract_id)


def active_contract(s: Session, resident_id: int) -> Contract | None:
    return s.scalar(select(Contract).where(Contract.resident_id == resident_id, Contract.status == "active"))


def contracts_of_resident(s: Session, resident_id: int) -> list[Contract]:
    return list(s.scalars(select(Contract).where(Contract.resident_id == resident_id)
                          .order_by(Contract.start_date.desc(), Contract.id.desc())))


def packages_of(s: Session, contract_ids: list[int]) -> dict[int, list[ContractPackage]]:
    out: dict[int, list[ContractPackage]] = {}
    if not contract_ids:
        return out
    for p in s.scalars(select(ContractPackage).where(ContractPackage.contract_id.in_(contract_ids))
                       .order_by(ContractPackage.contract_id, ContractPackage.package_code)):
        out.setdefault(p.contract_id, []).append(p)
    return out


def add_packages(s: Session, contract_id: int, rows: list[tuple[str, int, int]]) -> None:
    s.add_all(ContractPackage(contract_id=contract_id, package_code=code, price_fen=price, personal_fen=personal)
              for code, price, personal in rows)


def bump_version(s: Session, contract_id: int, expected: int, values: dict) -> int:
    """Optimistic update: only when the version is still ``expected``. Returns rows updated."""
    res = s.execute(update(Contract).where(Contract.id == contract_id, Contract.version == expected)
                    .values(**values, version=expected + 1))
    return res.rowcount


@dataclass(slots=True)
class ContractFilter:
    team_id: int | None = None
    doctor_id: int | None = None
    status: str | None = None  # as of ``status_on``: "active" past its end date counts as "expired"
    status_on: date | None = None
    resident_id: int | None = None
    village_code: str | None = None  # 9 or 12 digits
    population: str | None = None
    in_force_on: date | None = None
    ending_by: date | None = None  # active contracts whose end date is on or before this day


def _conditions(f: ContractFilter, scope: Scope) -> tuple[list, list]:
    """(conditions on the contract, conditions on the resident)."""
    c, r = [], []
    sf = scope_filter(scope)
    if sf is not None:
        r.append(sf)
    if f.team_id is not None:
        c.append(Contract.team_id == f.team_id)
    if f.doctor_id is not None:
        c.append(Contract.doctor_id == f.doctor_id)
    if f.status in ("active", "expired") and f.status_on is not None:
        lapsed = and_(Contract.status == "active", Contract.end_date < f.status_on)
        c.append(or_(Contract.status == "expired", lapsed) if f.status == "expired"
                 else and_(Contract.status == "active", Contract.end_date >= f.status_on))
    elif f.status:
        c.append(Contract.status == f.status)
    if f.resident_id is not None:
        c.append(Contract.resident_id == f.resident_id)
    if f.village_code:
        r.append(Resident.village_code == f.village_code if len(f.village_code) == 12 else
                 and_(Resident.village_code >= f.village_code, Resident.village_code < f.village_code + "\uffff"))
    if f.population:
        c.append(Contract.resident_id.in_(select(KeyPopulation.resident_id)
                                          .where(KeyPopulation.population == f.population)))
    if f.in_force_on is not None:
        c.append(Contract.start_date <= f.in_force_on)
        c.append(func.coalesce(Contract.ended_on, Contract.end_date) >= f.in_force_on)
    if f.ending_by is not None:
        c.append(Contract.status == "active")
        c.append(Contract.end_date <= f.ending_by)
    return c, r


def search_contracts(s: Session, f: ContractFilter, scope: Scope, *, offset: int, limit: int
                     ) -> tuple[list[tuple[Contract, Resident]], int]:
    """Newest contracts first. Residents are read only for the page; scope and village filters select
    resident ids."""
    cc, rc = _conditions(f, scope)
    base = select(Contract.id).where(*cc)
    if rc:  # residents in scope as a set the contract rows are probed against (no resident row per contract)
        base = base.where(Contract.resident_id.in_(select(Resident.id).where(*rc)))
    ids = list(s.scalars(base.order_by(Contract.id.desc()).offset(offset).limit(limit)))
    rows = []
    if ids:
        found = {c.id: (c, r) for c, r in s.execute(select(Contract, Resident)
                                                    .join(Resident, Resident.id == Contract.resident_id)
                                                    .where(Contract.id.in_(ids)))}
        rows = [found[i] for i in ids]
    if offset == 0 and len(rows) < limit:
        return rows, len(rows)
    return rows, s.scalar(select(func.count()).select_from(base.subquery()))


def contracts_to_expire(s: Session, on: date, limit: int) -> list[Contract]:
    """Active contracts whose end date has passed."""
    return list(s.scalars(select(Contract).where(Contract.status == "active", Contract.end_date < on)
                          .order_by(Contract.id).limit(limit)))


def active_contracts_of_gone_residents(s: Session, limit: int) -> list[tuple[Contract, Resident]]:
    """Active contracts of residents who died or moved away."""
    q = (select(Contract, Resident).join(Resident, Resident.id == Contract.resident_id)
         .where(Contract.status == "active", Resident.status != "alive").order_by(Contract.id).limit(limit))
    return [(c, r) for c, r in s.execute(q)]


# ------------------------------------------------------------------ teams

def team_member_ids(s: Session, team_id: int) -> dict[int, str]:
    return dict(s.execute(select(TeamMember.practitioner_id, TeamMember.role).where(TeamMember.team_id == team_id)).all())


def team_village_codes(s: Session, team_id: int) -> set[str]:
    return set(s.scalars(select(TeamVillage.division_code).where(TeamVillage.team_id == team_id)))


def teams_serving(s: Session, village_code: str) -> list[Team]:
    return list(s.scalars(select(Team).where(Team.active.is_(True), Team.id.in_(
        select(TeamVillage.team_id).where(TeamVillage.division_code == village_code))).order_by(Team.id)))


def team_orgs(s: Session, team_ids: Iterable[int]) -> dict[int, set[int]]:
    """The organizations whose services count for a team: the team's own organization, the primary-level
    organizations (township and village tier) its members work at, and the village clinics of the villages
    it serves. County hospitals (the "X" specialist's) are left out: their visits are not the team's."""
    ids = list(set(team_ids))
    out: dict[int, set[int]] = {t: set() for t in ids}
    if not ids:
        return out
    for tid, org_id in s.execute(select(Team.id, Team.org_id).where(Team.id.in_(ids))):
        out[tid].add(org_id)
    q = (select(TeamMember.team_id, PractitionerOrg.org_id)
         .join(PractitionerOrg, PractitionerOrg.practitioner_id == TeamMember.practitioner_id)
         .join(Organization, Organization.id == PractitionerOrg.org_id)
         .where(TeamMember.team_id.in_(ids), Organization.tier.in_(("township", "village"))))
    for tid, org_id in s.execute(q):
        out[tid].add(org_id)
    q = (select(TeamVillage.team_id, Organization.id)
         .join(Organization, Organization.division_code == TeamVillage.division_code)
         .where(TeamVillage.team_id.in_(ids), Organization.kind == "village_clinic"))
    for tid, org_id in s.execute(q):
        out[tid].add(org_id)
    return out


# ------------------------------------------------------------------ delivered services (from records)

def encounters_between(s: Session, resident_ids: list[int], start: date, end: date, kinds: Iterable[str]
                       ) -> list[tuple[int, str, int | None, date]]:
    """Finished encounters of these kinds: (resident id, kind, org id, day)."""
    if not resident_ids:
        return []
    q = (select(Encounter.resident_id, Encounter.kind, Encounter.org_id, Encounter.period_start)
         .where(Encounter.resident_id.in_(resident_ids), Encounter.status == "finished",
                Encounter.kind.in_(list(kinds)), Encounter.period_start >= datetime.combine(start, datetime.min.time()),
                Encounter.period_start < datetime.combine(end + timedelta(days=1), datetime.min.time())))
    return [(rid, kind, org, ts.date()) for rid, kind, org, ts in s.execute(q)]


def encounters_of_residents(s: Session, lo: int, hi: int, start: date, end: date, kinds: Iterable[str]
                            ) -> Iterator[tuple[int, str, int | None, date]]:
    """Finished encounters of these kinds of residents ``lo``–``hi`` (ids), by index range."""
    q = (select(Encounter.resident_id, Encounter.kind, Encounter.org_id, Encounter.period_start)
         .where(Encounter.resident_id >= lo, Encounter.resident_id <= hi, Encounter.status == "finished",
                Encounter.kind.in_(list(kinds)), Encounter.period_start >= datetime.combine(start, datetime.min.time()),
                Encounter.period_start < datetime.combine(end + timedelta(days=1), datetime.min.time())))
    for rid, kind, org, ts in s.execute(q):
        yield rid, kind, org, ts.date()


def package_codes_of_residents(s: Session, lo: int, hi: int) -> dict[int, list[str]]:
    """Package codes of every contract of residents ``lo``–``hi``, by contract id."""
    out: dict[int, list[str]] = {}
    q = (select(ContractPackage.contract_id, ContractPackage.package_code)
         .join(Contract, Contract.id == ContractPackage.contract_id)
         .where(Contract.resident_id >= lo, Contract.resident_id <= hi))
    for cid, code in s.execute(q):
        out.setdefault(cid, []).append(code)
    return out


def key_population_residents_between(s: Session, lo: int, hi: int) -> set[int]:
    return set(s.scalars(select(KeyPopulation.resident_id).where(KeyPopulation.resident_id >= lo,
                                                                 KeyPopulation.resident_id <= hi)))


def contracts_in_force(s: Session, on: date, chunk: int = 20000) -> Iterator[list[tuple]]:
    """All contracts in force on ``on``, in chunks ordered by resident: (contract id, resident id, team id,
    catalogue version, start, end, ended_on, village code)."""
    last = -1
    while True:
        q = (select(Contract.id, Contract.resident_id, Contract.team_id, Contract.catalogue_version,
                    Contract.start_date, Contract.end_date, Contract.ended_on, Resident.village_code)
             .join(Resident, Resident.id == Contract.resident_id)
             .where(Contract.start_date <= on, func.coalesce(Contract.ended_on, Contract.end_date) >= on,
                    Contract.resident_id > last)
             .order_by(Contract.resident_id).limit(chunk))
        rows = [tuple(r) for r in s.execute(q)]
        if not rows:
            return
        last = rows[-1][1]
        yield rows


def residents_by_village(s: Session, scope: Scope) -> dict[str, int]:
    """Alive residents per village."""
    q = select(Resident.village_code, func.count()).where(Resident.status == "alive").group_by(Resident.village_code)
    sf = scope_filter(scope)
    if sf is not None:
        q = q.where(sf)
    return dict(s.execute(q).all())


def key_population_counts_by_village(s: Session, scope: Scope) -> dict[str, int]:
    """Alive residents in at least one key population, per village."""
    q = (select(Resident.village_code, func.count(func.distinct(KeyPopulation.resident_id)))
         .join(Resident, Resident.id == KeyPopulation.resident_id)
         .where(Resident.status == "alive").group_by(Resident.village_code))
    sf = scope_filter(scope)
    if sf is not None:
        q = q.where(sf)
    return dict(s.execute(q).all())


FACT_COLUMNS = (Resident.id, Resident.birth_date, Resident.sex, Resident.status, Resident.disability,
                Resident.poverty_registered, Resident.fp_special_family)


def resident_fact_tuples(s: Session, ids: list[int]) -> list[tuple]:
    if not ids:
        return []
    return [tuple(r) for r in s.execute(select(*FACT_COLUMNS).where(Resident.id.in_(ids)))]


def resident_fact_chunks(s: Session, chunk: int, only: set[int] | None = None) -> Iterator[list[tuple]]:
    """All residents as plain tuples, in id order: (id, birth date, sex, status, disability, poor, fp special)."""
    last = -1
    while True:
        q = select(*FACT_COLUMNS).where(Resident.id > last).order_by(Resident.id).limit(chunk)
        rows = [tuple(r) for r in s.execute(q)]
        if not rows:
            return
        last = rows[-1][0]
        if only is not None:
            rows = [r for r in rows if r[0] in only]
        yield rows


def conditions_of(s: Session, resident_ids: list[int]) -> dict[int, list[tuple]]:
    out: dict[int, list[tuple]] = {}
    if not resident_ids:
        return out
    lo, hi = min(resident_ids), max(resident_ids)
    cols = (Condition.resident_id, Condition.code, Condition.onset_date, Condition.recorded_date,
            Condition.clinical_status, Condition.verification_status)
    # a dense run of ids (a chunk in id order) as one index range; scattered ids as a list
    q = select(*cols).where(Condition.resident_id >= lo, Condition.resident_id <= hi) \
        if hi - lo < 4 * len(resident_ids) else select(*cols).where(Condition.resident_id.in_(resident_ids))
    wanted = set(resident_ids)
    for rid, *rest in s.execute(q):
        if rid in wanted:
            out.setdefault(rid, []).append(tuple(rest))
    return out


def replace_key_populations(s: Session, resident_ids: list[int], rows: list[dict]) -> None:
    if not resident_ids:
        return
    s.execute(delete(KeyPopulation).where(KeyPopulation.resident_id.in_(resident_ids)))
    if rows:
        s.execute(insert(KeyPopulation), rows)


def populations_of(s: Session, resident_ids: list[int]) -> dict[int, list[KeyPopulation]]:
    out: dict[int, list[KeyPopulation]] = {}
    if not resident_ids:
        return out
    for kp in s.scalars(select(KeyPopulation).where(KeyPopulation.resident_id.in_(resident_ids))):
        out.setdefault(kp.resident_id, []).append(kp)
    return out


def last_run_started(s: Session) -> datetime | None:
    return s.scalar(select(func.max(ClassificationRun.started_at)))


def record_run(s: Session, started_at: datetime, as_of: date, mode: str, residents: int) -> None:
    s.add(ClassificationRun(started_at=started_at, as_of=as_of, mode=mode, residents=residents))


def residents_changed_since(s: Session, since: datetime) -> set[int]:
    ids = set(s.scalars(select(Resident.id).where(Resident.updated_at >= since)))
    ids |= set(s.scalars(select(Condition.resident_id).where(Condition.updated_at >= since)))
    return ids


def residents_with_age_boundary(s: Session, on: date, since: date) -> set[int]:
    """Residents who turned 65 or 7 after ``since`` and by ``on`` (a day either side to be safe about
    29 February): their age-based membership changed with no change to their facts."""
    from rhip.programs.rules_common import add_months

    ids: set[int] = set()
    for years in (65, 7):
        lo = add_months(since, -12 * years) - timedelta(days=1)
        hi = add_months(on, -12 * years) + timedelta(days=1)
        ids |= set(s.scalars(select(Resident.id).where(Resident.birth_date >= lo, Resident.birth_date <= hi)))
    return ids
