"""``_include`` and ``_revinclude`` (FHIR R4 search §3.1.1.5.4): resources referenced by the matches of a search,
or referring to them, added to the same searchset Bundle with ``search.mode = "include"``.

What is supported is the tables below (and what the CapabilityStatement lists as searchInclude /
searchRevInclude). Included resources obey the same rules as matches: a resident's data only within the
user's scope (registry reference data needs ``registry.read``), and every included resident-bound resource is
audited against its patient. Each resource appears once per Bundle. A request whose includes would add more
than ``INCLUDE_LIMIT`` resources is refused (422 too-costly) rather than silently cut short.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from rhip.fhir.errors import FhirError, Issue
from rhip.records import repository as records_repo
from rhip.records.models_reports import DiagnosticReportResult
from rhip.registry.models import PractitionerOrg, Resident
from rhip.registry.repository import scope_filter
from rhip.security.service import Principal, audit

INCLUDE_LIMIT = 1000
RECORD_TYPES = tuple(records_repo.MODELS)
REGISTRY_TYPES = ("Organization", "Practitioner", "PractitionerRole", "Location")
REGISTRY_PERMISSION = "registry.read"

# (source type, search parameter) → (element paths holding the reference, target types)
# A path is a dotted walk through the resource; lists are walked item by item.
_SUBJECT = (("subject", "patient"), ("Patient",))
INCLUDES: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {
    **{(t, "patient"): _SUBJECT for t in RECORD_TYPES},
    **{(t, "subject"): _SUBJECT for t in ("Encounter", "Condition", "Observation", "MedicationRequest",
                                          "MedicationStatement", "DiagnosticReport", "DocumentReference")},
    **{(t, "encounter"): (("encounter", "context.encounter"), ("Encounter",))
       for t in ("Condition", "Observation", "MedicationRequest", "DiagnosticReport", "DocumentReference")},
    ("Encounter", "service-provider"): (("serviceProvider",), ("Organization",)),
    ("Encounter", "practitioner"): (("participant.individual",), ("Practitioner",)),
    ("Observation", "performer"): (("performer",), ("Practitioner", "Organization")),
    ("Immunization", "performer"): (("performer.actor",), ("Practitioner", "Organization")),
    ("AllergyIntolerance", "recorder"): (("recorder",), ("Practitioner",)),
    ("MedicationRequest", "requester"): (("requester",), ("Practitioner", "Organization")),
    ("MedicationStatement", "source"): (("informationSource",), ("Practitioner", "Organization")),
    ("DiagnosticReport", "performer"): (("performer",), ("Practitioner", "Organization")),
    ("DiagnosticReport", "result"): (("result",), ("Observation",)),
    ("DocumentReference", "author"): (("author",), ("Practitioner", "Organization")),
    ("PractitionerRole", "practitioner"): (("practitioner",), ("Practitioner",)),
    ("PractitionerRole", "organization"): (("organization",), ("Organization",)),
    ("Organization", "partof"): (("partOf",), ("Organization",)),
    ("Location", "partof"): (("partOf",), ("Location",)),
}
# (source type, search parameter) → the target type whose matches the sources refer to. Reverse includes
# are supported where an index finds the sources: by patient, by encounter (within the encounter's
# patient), a report by its results, a role by its practitioner or organization.
REVINCLUDES: dict[tuple[str, str], str] = {
    **{(t, "patient"): "Patient" for t in RECORD_TYPES},
    **{(t, "subject"): "Patient" for t in ("Encounter", "Condition", "Observation", "MedicationRequest",
                                           "MedicationStatement", "DiagnosticReport", "DocumentReference")},
    **{(t, "encounter"): "Encounter"
       for t in ("Condition", "Observation", "MedicationRequest", "DiagnosticReport", "DocumentReference")},
    ("DiagnosticReport", "result"): "Observation",
    ("PractitionerRole", "practitioner"): "Practitioner",
    ("PractitionerRole", "organization"): "Organization",
}


def supported_includes(rtype: str) -> list[str]:
    return [f"{src}:{p}" for (src, p) in INCLUDES if src == rtype]


def supported_revincludes(rtype: str) -> list[str]:
    return [f"{src}:{p}" for (src, p), target in REVINCLUDES.items() if target == rtype]


@dataclass(frozen=True, slots=True)
class Include:
    source: str
    param: str
    target: str | None  # the optional third part (Observation:performer:Practitioner)
    reverse: bool

    @property
    def text(self) -> str:
        return f"{self.source}:{self.param}" + (f":{self.target}" if self.target else "")


def parse(rtype: str, params: dict[str, list[str]]) -> list[Include]:
    """The ``_include``/``_revinclude`` values of a search of ``rtype``; anything unsupported → 400 naming the
    parameter and listing what is supported."""
    out: list[Include] = []
    for name, reverse in (("_include", False), ("_revinclude", True)):
        for value in params.get(name, []):
            if value == "*":
                raise FhirError(400, [Issue("not-supported", f"{name}=* is not supported; name the reference, e.g. "
                                                             f"{_examples(rtype, reverse)}", name)])
            parts = value.split(":")
            if len(parts) not in (2, 3):
                raise FhirError(400, [Issue("value", f"{name}={value!r}: expected SourceType:search-param"
                                                     "[:TargetType]", name)])
            source, param, target = parts[0], parts[1], (parts[2] if len(parts) == 3 else None)
            if reverse:
                ok = REVINCLUDES.get((source, param)) == rtype and target in (None, rtype)
            else:
                spec = INCLUDES.get((source, param))
                ok = source == rtype and spec is not None and target in (None, *spec[1])
            if not ok:
                raise FhirError(400, [Issue("not-supported", f"{name}={value!r} is not supported for {rtype} "
                                                             f"(supported: {_examples(rtype, reverse) or 'none'})",
                                            name)])
            out.append(Include(source, param, target, reverse))
    return out


def _examples(rtype: str, reverse: bool) -> str:
    return ", ".join(supported_revincludes(rtype) if reverse else supported_includes(rtype))


# ------------------------------------------------------------------ reference extraction

def _walk(node, path: list[str]):
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, path)
        return
    if not isinstance(node, dict):
        return
    if not path:
        ref = node.get("reference")
        if isinstance(ref, str):
            yield ref
        return
    if path[0] in node:
        yield from _walk(node[path[0]], path[1:])


def references(resource: dict, inc: Include) -> list[tuple[str, str]]:
    """(type, id) of the resources ``resource`` refers to through ``inc`` (relative references only)."""
    paths, targets = INCLUDES[(inc.source, inc.param)]
    out = []
    for path in paths:
        for ref in _walk(resource, path.split(".")):
            kind, _, rid = ref.rpartition("/")
            kind = kind.rpartition("/")[2]
            if kind in targets and (inc.target in (None, kind)) and rid:
                out.append((kind, rid))
    return out


# ------------------------------------------------------------------ fetching and auditing

def _too_many(n: int) -> FhirError:
    return FhirError(422, [Issue("too-costly", f"the requested _include/_revinclude would add more than "
                                               f"{INCLUDE_LIMIT} resources ({n}+); lower _count or narrow the search")])


def _fetch(s: Session, who: Principal, rtype: str, ids: list[str]) -> list[dict]:
    """The resources of one type by id, within the user's scope, mapped and audited."""
    from rhip.fhir import registry_resources as rr
    from rhip.fhir.mappers.patient import PatientMapper
    from rhip.fhir.service import _record_out

    if rtype == "Patient":
        who.require("resident.read")
        keys = sorted({int(i) for i in ids if i.isdigit()})
        q = select(Resident).where(Resident.id.in_(keys)).order_by(Resident.id)
        if (sf := scope_filter(who.scope)) is not None:
            q = q.where(sf)
        rows = list(s.scalars(q)) if keys else []
        if rows:
            audit(s, who, "resident.search", resident_ids=[r.id for r in rows],
                  detail={"mode": "include", "count": len(rows)})
        return [PatientMapper.to_fhir(r) for r in rows]
    if rtype in records_repo.MODELS:
        who.require("resident.read")
        rows = records_repo.by_ids(s, rtype, sorted({int(i) for i in ids if i.isdigit()}), who.scope)
        return _audited_records(s, who, rtype, rows, _record_out)
    who.require(REGISTRY_PERMISSION)
    return rr.fetch(s, rtype, ids)


def _audited_records(s: Session, who: Principal, rtype: str, rows: list, record_out) -> list[dict]:
    if rows:
        audit(s, who, f"{rtype.lower()}.search", resident_ids=[r.resident_id for r in rows],
              detail={"mode": "include", "count": len(rows)})
    return record_out(s, rtype, rows)


def _reverse(s: Session, who: Principal, inc: Include, matches: list[dict], limit: int) -> list[dict]:
    from rhip.fhir import registry_resources as rr
    from rhip.fhir.service import _record_out

    ids = [m["id"] for m in matches]
    if inc.source == "PractitionerRole":
        who.require(REGISTRY_PERMISSION)
        keys = [int(i) for i in ids if i.isdigit()]
        col = PractitionerOrg.practitioner_id if inc.param == "practitioner" else PractitionerOrg.org_id
        rows = list(s.scalars(select(PractitionerOrg).where(col.in_(keys))
                              .order_by(PractitionerOrg.practitioner_id, PractitionerOrg.org_id).limit(limit + 1)))
        if len(rows) > limit:
            raise _too_many(limit)
        return rr.roles_out(s, rows)
    who.require("resident.read")
    model = records_repo.MODELS[inc.source]
    keys = [int(i) for i in ids if i.isdigit()]
    if inc.param in ("patient", "subject"):
        cond = [model.resident_id.in_(keys)]
    elif inc.param == "encounter":
        # an Encounter's records belong to its patient: the (resident_id, …) indexes find them
        pairs = {(int(m["id"]), int(m["subject"]["reference"].rpartition("/")[2])) for m in matches}
        cond = [model.resident_id.in_({r for _, r in pairs}), model.encounter_id.in_({e for e, _ in pairs})]
    else:  # DiagnosticReport:result
        cond = [model.id.in_(select(DiagnosticReportResult.report_id)
                             .where(DiagnosticReportResult.observation_id.in_(keys)))]
    rows = records_repo.by_condition(s, inc.source, cond, who.scope, limit=limit + 1)
    if len(rows) > limit:
        raise _too_many(limit)
    return _audited_records(s, who, inc.source, rows, _record_out)


def add_included(s: Session, who: Principal, bundle: dict, includes: list[Include], base: str) -> dict:
    """Append the included resources to a searchset Bundle (after its matches); ``total`` stays the number
    of matches, as the specification says."""
    if not includes or not bundle.get("entry"):
        return bundle
    matches = [e["resource"] for e in bundle["entry"]]
    seen = {(r["resourceType"], r["id"]) for r in matches}
    added: list[dict] = []

    def take(resources: list[dict]) -> None:
        for r in resources:
            key = (r["resourceType"], r["id"])
            if key not in seen:
                seen.add(key)
                added.append(r)
        if len(added) > INCLUDE_LIMIT:
            raise _too_many(INCLUDE_LIMIT)

    wanted: dict[str, list[str]] = {}
    for inc in (i for i in includes if not i.reverse):
        for m in matches:
            for kind, rid in references(m, inc):
                if (kind, rid) not in seen and rid not in wanted.setdefault(kind, []):
                    wanted[kind].append(rid)
    for kind, ids in wanted.items():
        if len(ids) > INCLUDE_LIMIT:
            raise _too_many(INCLUDE_LIMIT)
        take(_fetch(s, who, kind, ids))
    for inc in (i for i in includes if i.reverse):
        take(_reverse(s, who, inc, matches, INCLUDE_LIMIT - len(added)))
    bundle["entry"] += [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r,
                         "search": {"mode": "include"}} for r in added]
    return bundle
