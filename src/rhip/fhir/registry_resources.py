"""FHIR read and search for the registry's reference data: Organization, Practitioner, PractitionerRole and
Location (divisions). Read only — these are maintained through the registry API. Framework-free, like
``fhir.service``: endpoints only adapt HTTP.

Security: every interaction needs the permission ``registry.read``. This is not resident data, so there is
no scope filter and no resident audit.
"""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from rhip.fhir import include
from rhip.fhir.errors import FhirError, Issue, not_found
from rhip.fhir.mappers.location import LocationMapper
from rhip.fhir.mappers.organization import KIND_SYSTEM, OrganizationMapper
from rhip.fhir.mappers.practitioner import PractitionerMapper, PractitionerRoleMapper
from rhip.fhir.search import count_and_page, searchset, token
from rhip.registry import repository as repo
from rhip.registry.models import (
    Division,
    MedicalCommunity,
    Organization,
    Practitioner,
    PractitionerOrg,
)
from rhip.registry.rules import ORG_KINDS
from rhip.security.service import Principal

CONTROL = {"_count", "_page", "_format", "_include", "_revinclude"}
PERMISSION = "registry.read"
MAPPERS = {m.resource_type: m for m in (OrganizationMapper, PractitionerMapper, PractitionerRoleMapper,
                                        LocationMapper)}

# CapabilityStatement.rest.resource entries for exactly what is implemented here.
CAPABILITY: list[dict] = [
    {"type": rtype, "interaction": [{"code": "read"}, {"code": "search-type"}],
     "searchParam": [{"name": n, "type": t} for n, t in mapper.search_params.items()],
     **({"searchInclude": inc} if (inc := include.supported_includes(rtype)) else {}),
     **({"searchRevInclude": rev} if (rev := include.supported_revincludes(rtype)) else {})}
    for rtype, mapper in MAPPERS.items()
]


# ------------------------------------------------------------------ shared

def _starts_with(col, prefix: str):
    return and_(col >= prefix, col < prefix + "\U0010ffff")


def _check_params(rtype: str, params: dict[str, list[str]]) -> list[include.Include]:
    """Refuse unknown parameters; the _include/_revinclude asked for."""
    supported = MAPPERS[rtype].search_params
    unknown = sorted(k for k in params if k not in supported and k not in CONTROL)
    if unknown:
        raise FhirError(400, [Issue("not-supported", f"search parameter {k!r} is not supported for {rtype} "
                                                     f"(supported: {', '.join(supported)})", k) for k in unknown])
    return include.parse(rtype, params)


def _values(value: str) -> list[str]:
    """A search value with OR-ed alternatives (``a,b``)."""
    return [v for v in value.split(",") if v]


def _int_ids(name: str, value: str, what: str) -> list[int]:
    out = []
    for v in _values(value):
        if not v.isdigit():
            raise FhirError(400, [Issue("value", f"{name}={v!r} is not {what}", name)])
        out.append(int(v))
    return out


def _reference_ids(name: str, value: str, rtype: str, *, digits: bool = True) -> list[str]:
    """``Organization/12``, ``12`` or a full URL ending in ``Organization/12`` → ["12"]."""
    out = []
    for v in _values(value):
        kind, _, rid = v.rstrip("/").rpartition("/")
        if (kind and not kind.endswith(rtype)) or not rid or (digits and not rid.isdigit()):
            raise FhirError(400, [Issue("value", f"{name}={v!r} is not a reference to a {rtype}", name)])
        out.append(rid)
    return out


def _page(s: Session, model, order, conditions: list, count: int, page: int) -> tuple[list, int]:
    total = s.scalar(select(func.count()).select_from(model).where(*conditions))
    rows = s.scalars(select(model).where(*conditions).order_by(*order)
                     .offset((page - 1) * count).limit(count)).all()
    return list(rows), total


# ------------------------------------------------------------------ Organization

def _organizations_out(s: Session, rows: list[Organization]) -> list[dict]:
    names = repo.division_names(s, {o.division_code for o in rows})
    mc_ids = {o.medical_community_id for o in rows if o.medical_community_id}
    communities = dict(s.execute(select(MedicalCommunity.id, MedicalCommunity.name)
                                 .where(MedicalCommunity.id.in_(mc_ids))).all()) if mc_ids else {}
    return [OrganizationMapper.to_fhir(o, division_name=names.get(o.division_code),
                                       community_name=communities.get(o.medical_community_id)) for o in rows]


def read_organization(s: Session, who: Principal, rid: str) -> dict:
    who.require(PERMISSION)
    o = repo.get_organization(s, int(rid)) if rid.isdigit() else None
    if o is None:
        raise not_found("Organization", rid)
    return _organizations_out(s, [o])[0]


def search_organizations(s: Session, who: Principal, params: dict[str, list[str]], base: str) -> dict:
    who.require(PERMISSION)
    includes = _check_params("Organization", params)
    count, page = count_and_page(params)
    c = []
    for name, values in params.items():
        for value in values:
            if name == "_id":
                c.append(Organization.id.in_(_int_ids("_id", value, "an Organization id")))
            elif name == "name":
                c.append(_starts_with(Organization.name, value))
            elif name == "type":
                kinds = []
                for part in _values(value):
                    system, code = token(part)
                    if system not in (None, KIND_SYSTEM):
                        raise FhirError(400, [Issue("not-supported", f"type system {system!r} is not searchable "
                                                                     f"(use {KIND_SYSTEM})", "type")])
                    if code not in ORG_KINDS:
                        raise FhirError(400, [Issue("code-invalid", f"type {code!r} is not one of "
                                                                    f"{', '.join(ORG_KINDS)}", "type")])
                    kinds.append(code)
                c.append(Organization.kind.in_(kinds))
            elif name == "partof":
                c.append(Organization.parent_id.in_(
                    [int(r) for r in _reference_ids("partof", value, "Organization")]))
    rows, total = _page(s, Organization, [Organization.id], c, count, page)
    return include.add_included(s, who, searchset("Organization", params, base, _organizations_out(s, rows), total,
                                                  count, page), includes, base)


# ------------------------------------------------------------------ Practitioner

def read_practitioner(s: Session, who: Principal, rid: str) -> dict:
    who.require(PERMISSION)
    p = repo.get_practitioner(s, int(rid)) if rid.isdigit() else None
    if p is None:
        raise not_found("Practitioner", rid)
    return PractitionerMapper.to_fhir(p, with_id_number=True)


def search_practitioners(s: Session, who: Principal, params: dict[str, list[str]], base: str) -> dict:
    """Search results never carry the ID number (privacy rule for lists); read the Practitioner for it."""
    who.require(PERMISSION)
    includes = _check_params("Practitioner", params)
    count, page = count_and_page(params)
    c = []
    for name, values in params.items():
        for value in values:
            if name == "_id":
                c.append(Practitioner.id.in_(_int_ids("_id", value, "a Practitioner id")))
            elif name == "name":
                c.append(_starts_with(Practitioner.name, value))
    rows, total = _page(s, Practitioner, [Practitioner.id], c, count, page)
    entries = [PractitionerMapper.to_fhir(p, with_id_number=False) for p in rows]
    return include.add_included(s, who, searchset("Practitioner", params, base, entries, total, count, page),
                                includes, base)


# ------------------------------------------------------------------ PractitionerRole

def _role_key(rid: str) -> tuple[int, int] | None:
    pid, sep, oid = rid.partition("-")
    return (int(pid), int(oid)) if sep and pid.isdigit() and oid.isdigit() else None


def roles_out(s: Session, rows: list[PractitionerOrg]) -> list[dict]:
    pids = {r.practitioner_id for r in rows}
    people = {p.id: p for p in s.scalars(select(Practitioner).where(Practitioner.id.in_(pids)))} if pids else {}
    return [PractitionerRoleMapper.to_fhir(r, people[r.practitioner_id]) for r in rows]


def read_practitioner_role(s: Session, who: Principal, rid: str) -> dict:
    who.require(PERMISSION)
    key = _role_key(rid)
    row = s.get(PractitionerOrg, key) if key else None
    if row is None:
        raise not_found("PractitionerRole", rid)
    return roles_out(s, [row])[0]


def search_practitioner_roles(s: Session, who: Principal, params: dict[str, list[str]], base: str) -> dict:
    who.require(PERMISSION)
    includes = _check_params("PractitionerRole", params)
    count, page = count_and_page(params)
    c = []
    for name, values in params.items():
        for value in values:
            if name == "_id":
                keys = []
                for v in _values(value):
                    key = _role_key(v)
                    if key is None:
                        raise FhirError(400, [Issue("value", f"_id={v!r} is not a PractitionerRole id "
                                                             "(<practitioner id>-<organization id>)", "_id")])
                    keys.append(and_(PractitionerOrg.practitioner_id == key[0], PractitionerOrg.org_id == key[1]))
                c.append(or_(*keys))
            elif name == "practitioner":
                c.append(PractitionerOrg.practitioner_id.in_(
                    [int(r) for r in _reference_ids(name, value, "Practitioner")]))
            elif name == "organization":
                c.append(PractitionerOrg.org_id.in_([int(r) for r in _reference_ids(name, value, "Organization")]))
    rows, total = _page(s, PractitionerOrg, [PractitionerOrg.practitioner_id, PractitionerOrg.org_id], c, count,
                        page)
    return include.add_included(s, who, searchset("PractitionerRole", params, base, roles_out(s, rows), total,
                                                  count, page), includes, base)


# ------------------------------------------------------------------ Location (divisions)

def _division_code(name: str, value: str) -> str:
    if not (len(value) == 12 and value.isdigit()):
        raise FhirError(400, [Issue("value", f"{name}={value!r} is not a 12-digit division code", name)])
    return value


def read_location(s: Session, who: Principal, rid: str) -> dict:
    who.require(PERMISSION)
    d = repo.get_division(s, rid) if len(rid) == 12 and rid.isdigit() else None
    if d is None:
        raise not_found("Location", rid)
    return LocationMapper.to_fhir(d)


def search_locations(s: Session, who: Principal, params: dict[str, list[str]], base: str) -> dict:
    who.require(PERMISSION)
    includes = _check_params("Location", params)
    count, page = count_and_page(params)
    c = []
    for name, values in params.items():
        for value in values:
            if name == "_id":
                c.append(Division.code.in_([_division_code("_id", v) for v in _values(value)]))
            elif name == "name":
                c.append(_starts_with(Division.name, value))
            elif name == "partof":
                c.append(Division.parent_code.in_(
                    [_division_code("partof", r) for r in _reference_ids("partof", value, "Location", digits=False)]))
    rows, total = _page(s, Division, [Division.code], c, count, page)
    return include.add_included(s, who, searchset("Location", params, base, [LocationMapper.to_fhir(d) for d in rows],
                                                  total, count, page), includes, base)


# ------------------------------------------------------------------ by id (for _include)

def fetch(s: Session, rtype: str, ids: list[str]) -> list[dict]:
    """Registry resources of one type by id (unknown ids are left out); the caller checks the permission.
    Practitioners come without their ID number, as in search results."""
    if rtype == "Organization":
        keys = sorted({int(i) for i in ids if i.isdigit()})
        rows = list(s.scalars(select(Organization).where(Organization.id.in_(keys)).order_by(Organization.id)))
        return _organizations_out(s, rows)
    if rtype == "Practitioner":
        keys = sorted({int(i) for i in ids if i.isdigit()})
        rows = list(s.scalars(select(Practitioner).where(Practitioner.id.in_(keys)).order_by(Practitioner.id)))
        return [PractitionerMapper.to_fhir(p, with_id_number=False) for p in rows]
    if rtype == "PractitionerRole":
        keys = [k for k in map(_role_key, ids) if k]
        rows = [r for k in sorted(set(keys)) if (r := s.get(PractitionerOrg, k)) is not None]
        return roles_out(s, rows)
    if rtype == "Location":
        codes = sorted({i for i in ids if len(i) == 12 and i.isdigit()})
        rows = list(s.scalars(select(Division).where(Division.code.in_(codes)).order_by(Division.code)))
        return [LocationMapper.to_fhir(d) for d in rows]
    raise ValueError(rtype)
