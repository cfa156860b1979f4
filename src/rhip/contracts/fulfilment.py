"""Fulfilment (履约): services promised by a contract's packages vs. delivered, counted from the record —
finished encounters of the service's kinds, in the contract period up to the as-of date, at the team's
organizations (``repository.team_orgs``). The arithmetic is ``rules.fulfilment``; this module fetches.

``facts`` gives the indicator layer its numerators and denominators per township or team, as of a day:
签约率 = signed / residents, 重点人群签约率 = key_signed / key_residents, 履约率 = delivered / promised
(services, capped per contract and service at what was promised), and the count of contracts signed but
not served (签而不约).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache
from datetime import date

from sqlalchemy.orm import Session

from rhip.contracts import repository as repo
from rhip.contracts import rules
from rhip.contracts.models import Contract
from rhip.registry import repository as reg_repo
from rhip.security.service import Principal, audit

CHUNK = 5000


@cache
def _kinds_to_services(version: str) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = defaultdict(list)
    for code, st in rules.catalogue_version(version).service_types.items():
        for kind in st.encounter_kinds:
            out[kind].append(code)
    return {k: tuple(v) for k, v in out.items()}


@cache
def _promised(version: str, codes: tuple[str, ...]) -> dict[str, int]:
    cat = rules.catalogue_version(version)
    return rules.promised_services(cat, [c for c in codes if c in cat.packages])


def _all_kinds() -> set[str]:
    return {k for cat in rules.catalogue_versions() for st in cat.service_types.values() for k in st.encounter_kinds}


def _compute(rows: list[tuple[int, int, int, str, date, date, date | None, list[str]]],
             encounters: dict[int, list[tuple[str, int | None, date]]], orgs: dict[int, set[int]], on: date
             ) -> dict[int, rules.Fulfilment]:
    """rows: (contract id, resident id, team id, catalogue version, start, end, ended_on, package codes)."""
    out = {}
    for cid, rid, team_id, version, start, end, ended_on, codes in rows:
        cat = rules.catalogue_version(version)
        kinds = _kinds_to_services(version)
        last = min(on, ended_on or end, end)
        team_orgs = orgs.get(team_id, set())
        delivered: dict[str, int] = defaultdict(int)
        for kind, org, day in encounters.get(rid, ()):
            if start <= day <= last and org in team_orgs:
                for service in kinds.get(kind, ()):
                    delivered[service] += 1
        promised = _promised(version, tuple(sorted(codes)))
        out[cid] = rules.fulfilment(promised, delivered, start, ended_on or end, on,
                                    grace_days=cat.params["overdue_grace_days"])
    return out


def for_contracts(s: Session, contracts: list[tuple[Contract, list[str]]], on: date) -> dict[int, rules.Fulfilment]:
    """Fulfilment of a page of contracts (already authorised and audited by the caller)."""
    if not contracts:
        return {}
    orgs = repo.team_orgs(s, {c.team_id for c, _ in contracts})
    lo = min(c.start_date for c, _ in contracts)
    hi = max(c.end_date for c, _ in contracts)
    encounters: dict[int, list] = defaultdict(list)
    for rid, kind, org, day in repo.encounters_between(s, sorted({c.resident_id for c, _ in contracts}), lo,
                                                       min(hi, on), _all_kinds()):
        encounters[rid].append((kind, org, day))
    rows = [(c.id, c.resident_id, c.team_id, c.catalogue_version, c.start_date, c.end_date, c.ended_on, codes)
            for c, codes in contracts]
    return _compute(rows, encounters, orgs, on)


@dataclass
class AreaFacts:
    """Numerators and denominators for one township or team, as of a day."""

    key: str  # township code (9 digits) or team code
    name: str
    residents: int = 0  # alive residents
    signed: int = 0  # residents with a contract in force
    key_residents: int = 0  # alive residents in at least one key population
    key_signed: int = 0
    contracts: int = 0
    promised: int = 0  # services promised over the contracts' terms
    expected: int = 0  # services due by the as-of day
    delivered: int = 0  # services delivered (capped per contract and service)
    signed_not_served: int = 0  # contracts 签而不约

    def as_dict(self) -> dict:
        d = asdict(self)
        d["signing_rate"] = round(self.signed / self.residents, 4) if self.residents else None
        d["key_signing_rate"] = round(self.key_signed / self.key_residents, 4) if self.key_residents else None
        d["fulfilment_rate"] = round(self.delivered / self.promised, 4) if self.promised else None
        return d


def facts(s: Session, who: Principal, on: date, *, by: str = "township",
          progress: Callable[[int], None] | None = None) -> list[AreaFacts]:
    """Indicator facts per township (``by="township"``) or team (``by="team"``) for the user's scope.
    Key populations come from the stored classification (``populations.refresh``)."""
    who.require("contract.read")
    if by not in ("township", "team"):
        raise ValueError(by)
    residents = repo.residents_by_village(s, who.scope)
    key_residents = repo.key_population_counts_by_village(s, who.scope)
    areas: dict[str, AreaFacts] = {}
    village_area: dict[str, list[str]] = defaultdict(list)
    if by == "township":
        names = reg_repo.division_names(s, {v[:9] + "000" for v in residents})
        for v in residents:
            village_area[v].append(v[:9])
            areas.setdefault(v[:9], AreaFacts(v[:9], names.get(v[:9] + "000", v[:9])))
    else:
        teams, _ = reg_repo.list_teams(s, org_id=None, village_code=None, offset=0, limit=100000)
        villages = reg_repo.team_villages(s, [t.id for t in teams])
        for t in teams:
            areas[t.code] = AreaFacts(t.code, t.name)
            for v in villages.get(t.id, []):
                village_area[v].append(t.code)
        team_code = {t.id: t.code for t in teams}
    for v, n in residents.items():
        for a in village_area.get(v, ()):
            areas[a].residents += n
            areas[a].key_residents += key_residents.get(v, 0)
    orgs = repo.team_orgs(s, [])
    kinds = _all_kinds()
    for chunk in repo.contracts_in_force(s, on, CHUNK):
        chunk = [r for r in chunk if who.scope.covers(r[7])]
        if not chunk:
            continue
        needed = {r[2] for r in chunk} - set(orgs)
        if needed:
            orgs.update(repo.team_orgs(s, needed))
        lo_r, hi_r = chunk[0][1], chunk[-1][1]  # the chunk is ordered by resident: fetch by id range
        codes = repo.package_codes_of_residents(s, lo_r, hi_r)
        encounters: dict[int, list] = defaultdict(list)
        lo = min(r[4] for r in chunk)
        for rid, kind, org, day in repo.encounters_of_residents(s, lo_r, hi_r, lo, on, kinds):
            encounters[rid].append((kind, org, day))
        keyed = repo.key_population_residents_between(s, lo_r, hi_r)
        result = _compute([(*r[:7], codes.get(r[0], [])) for r in chunk], encounters, orgs, on)
        for cid, rid, team_id, _v, _s, _e, _x, village in chunk:
            f = result[cid]
            for a in ([village[:9]] if by == "township" else [team_code.get(team_id, str(team_id))]):
                area = areas.setdefault(a, AreaFacts(a, a))
                area.signed += 1
                area.key_signed += rid in keyed
                area.contracts += 1
                area.promised += f.promised
                area.expected += f.expected
                area.delivered += f.delivered
                area.signed_not_served += f.signed_not_served
        if progress:
            progress(len(chunk))
    audit(s, who, "contract.facts", detail={"as_of": on, "by": by, "areas": len(areas)})
    return sorted(areas.values(), key=lambda a: a.key)
