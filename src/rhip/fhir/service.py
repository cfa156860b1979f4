"""FHIR interactions for the implemented resource types, on top of the domain services (which check
scope and permissions and write the audit trail). Framework-free: endpoints only adapt HTTP."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from urllib.parse import urlencode

from sqlalchemy.orm import Session

from rhip import __version__
from rhip.fhir import identifiers as ids
from rhip.fhir.errors import FhirError, Issue, from_rhip_error, not_found
from rhip.fhir.mappers import MAPPERS, RECORD_MAPPERS
from rhip.fhir.mappers.patient import GENDER_FROM_FHIR, PatientMapper
from rhip.fhir.search import count_and_page, date_range, searchset, token
from rhip.fhir.validation import validate
from rhip.kit.errors import NotFound, RhipError
from rhip.kit.pagination import PageRequest
from rhip.records import repository as records_repo
from rhip.records import service as records
from rhip.registry import service as registry
from rhip.security.service import Principal

PATIENT_SEARCH = {
    "_id": "token", "identifier": "token", "name": "string", "family": "string", "gender": "token",
    "birthdate": "date", "phone": "token", "telecom": "token",
}
CONTROL = {"_count", "_page", "_format", "_sort", "_summary", "_lastUpdated", "_after", "_before"}
PATIENT_SORTS = {"name": "name", "birthdate": "birth_date", "_lastUpdated": "updated_at", "_id": "id"}
RECORD_SORTS = {"date", "_lastUpdated"}


def _controls(params: dict[str, list[str]], sorts) -> tuple[bool, str | None, bool, datetime | None,
                                                            datetime | None]:
    """_summary=count, _sort (one key, "-" for descending) and _lastUpdated (date prefixes) →
    (count only, sort key, ascending, updated from, updated to (exclusive))."""
    summary = (params.get("_summary") or [None])[-1]
    if summary not in (None, "count", "false"):
        raise FhirError(400, [Issue("not-supported", f"_summary={summary!r}: only 'count' is supported", "_summary")])
    sort = (params.get("_sort") or [None])[-1]
    key, ascending = None, True
    if sort:
        if "," in sort:
            raise FhirError(400, [Issue("not-supported", "_sort takes one key here", "_sort")])
        key, ascending = sort.lstrip("-"), not sort.startswith("-")
        if key not in sorts:
            raise FhirError(400, [Issue("not-supported", f"_sort={sort!r}: sortable by {', '.join(sorts)}", "_sort")])
    lo = hi = None
    for value in params.get("_lastUpdated", []):
        d_lo, d_hi = date_range("_lastUpdated", value)
        if d_lo:
            start = datetime.combine(d_lo, datetime.min.time())
            lo = max(filter(None, (start, lo)))
        if d_hi:
            end = datetime.combine(d_hi, datetime.min.time()) + timedelta(days=1)
            hi = min(filter(None, (end, hi)))
    return summary == "count", key, ascending, lo, hi


def _count_bundle(total: int) -> dict:
    return {"resourceType": "Bundle", "type": "searchset", "total": total}


def _domain(call, resource_type: str, rid: str = "?"):
    """Run a domain use case; its errors become FHIR errors. A refusal the domain wants audited (out of
    scope) is re-raised as is: the app's handler audits it after the rollback and renders it for FHIR."""
    try:
        return call()
    except NotFound:
        raise not_found(resource_type, rid) from None
    except RhipError as e:
        if getattr(e, "audit", None):
            raise
        raise from_rhip_error(e, resource_type) from None


def read_patient(s: Session, who: Principal, rid: str) -> dict:
    if not rid.isdigit():
        raise not_found("Patient", rid)
    r = _domain(lambda: registry.get_resident(s, who, int(rid)), "Patient", rid)
    from rhip.fhir.mpi import with_links  # Patient.link from the master patient index
    return with_links(s, PatientMapper.to_fhir(r))


def _patient_query(params: dict[str, list[str]]) -> registry.ResidentQuery:
    unknown = sorted(k for k in params if k not in PATIENT_SEARCH and k not in CONTROL)
    if unknown:
        raise FhirError(400, [Issue("not-supported", f"search parameter {k!r} is not supported for Patient "
                                                     f"(supported: {', '.join(PATIENT_SEARCH)})", k) for k in unknown])
    q = registry.ResidentQuery(sort="name")
    for name, values in params.items():
        for value in values:
            if name == "_id":
                if not value.isdigit():
                    raise FhirError(400, [Issue("value", f"_id={value!r} is not a Patient id", "_id")])
                q.resident_id = int(value)
            elif name == "identifier":
                system, code = token(value)
                if system in (None, ids.RESIDENT_ID_NUMBER):
                    q.id_number = code
                elif system == ids.HEALTH_RECORD_NUMBER:
                    q.record_no = code
                else:
                    raise FhirError(400, [Issue("not-supported", f"identifier system {system!r} is not searchable "
                                                                 f"(use {ids.RESIDENT_ID_NUMBER} or "
                                                                 f"{ids.HEALTH_RECORD_NUMBER})", "identifier")])
            elif name in ("name", "family"):
                q.name = value + "*"  # FHIR string search: starts with
            elif name == "gender":
                code = token(value)[1]
                if code not in GENDER_FROM_FHIR:
                    raise FhirError(400, [Issue("code-invalid", f"gender {code!r} is not one of male, female, "
                                                                "other, unknown", "gender")])
                q.sex = GENDER_FROM_FHIR[code]
            elif name == "birthdate":
                lo, hi = date_range("birthdate", value)
                q.birth_from = max(filter(None, (lo, q.birth_from)), default=None)
                q.birth_to = min(filter(None, (hi, q.birth_to)), default=None)
            elif name in ("phone", "telecom"):
                q.phone = token(value)[1]
    return q


def search_patients(s: Session, who: Principal, params: dict[str, list[str]], base: str) -> dict:
    query = _patient_query(params)
    count, page = count_and_page(params)
    count_only, sort, ascending, query.updated_from, query.updated_to = _controls(params, PATIENT_SORTS)
    if sort:
        query.sort = ("" if ascending else "-") + PATIENT_SORTS[sort]
    if count_only:
        return _count_bundle(_domain(lambda: registry.search_residents(s, who, query, PageRequest(1, 0)),
                                     "Patient").total)
    result = _domain(lambda: registry.search_residents(s, who, query, PageRequest(page, count)), "Patient")
    return searchset("Patient", params, base, [PatientMapper.to_fhir(r) for r in result.items], result.total,
                     count, page)


def create_patient(s: Session, who: Principal, body: dict, *, if_none_exist: str | None = None
                   ) -> tuple[int, dict]:
    """201 with the new Patient; with If-None-Exist, 200 with the one match, 412 when several match."""
    resource = validate(body, "Patient")
    if if_none_exist:
        from urllib.parse import parse_qs

        crit = parse_qs(if_none_exist.lstrip("?"), keep_blank_values=False)
        found = search_patients(s, who, crit, "")
        if found["total"] == 1:
            return 200, found["entry"][0]["resource"]
        if found["total"] > 1:
            raise FhirError(412, [Issue("duplicate", f"If-None-Exist matched {found['total']} patients")])
    fields = PatientMapper.to_fields(resource, creating=True)
    r = _domain(lambda: registry.create_resident(s, who, fields, source="fhir"), "Patient")
    from rhip.fhir.mpi import link_facility_ids  # the facility's own patient number joins the person (MPI)
    _domain(lambda: link_facility_ids(s, who, r.id, resource), "Patient")
    return 201, PatientMapper.to_fhir(r)


def update_patient(s: Session, who: Principal, rid: str, body: dict, *, if_match: str | None) -> dict:
    resource = validate(body, "Patient")
    if resource.get("id") != rid:
        raise FhirError(400, [Issue("invalid", f"Patient.id {resource.get('id')!r} must equal the id in the URL "
                                               f"({rid!r})", "Patient.id")])
    if not rid.isdigit():
        raise not_found("Patient", rid)
    version = None
    if if_match:
        tag = if_match.strip().removeprefix("W/").strip('"')
        if not tag.isdigit():
            raise FhirError(400, [Issue("value", f"If-Match {if_match!r} is not a version tag like W/\"3\"")])
        version = int(tag)
    fields = PatientMapper.to_fields(resource, creating=False)
    try:
        r = _domain(lambda: registry.update_resident(s, who, int(rid), fields, expected_version=version), "Patient",
                    rid)
    except FhirError as e:
        if e.status == 412:
            raise FhirError(412, [Issue("conflict", "version conflict: the Patient was changed since that version "
                                                    "(If-Match)")]) from None
        raise
    return PatientMapper.to_fhir(r)


# ------------------------------------------------------------------ clinical records

def _record_out(s: Session, rtype: str, rows: list) -> list[dict]:
    mapper = RECORD_MAPPERS[rtype]
    comps = records_repo.components(s, [r.id for r in rows]) if rtype == "Observation" else {}
    return [mapper.to_fhir(r, comps.get(r.id)) for r in rows]


def read_record(s: Session, who: Principal, rtype: str, rid: str) -> dict:
    if not rid.isdigit():
        raise not_found(rtype, rid)
    row = _domain(lambda: records.get(s, who, rtype, int(rid)), rtype, rid)
    return _record_out(s, rtype, [row])[0]


def _record_filter(rtype: str, params: dict[str, list[str]]) -> tuple[records_repo.RecordFilter, int | None]:
    supported = RECORD_MAPPERS[rtype].search_params
    unknown = sorted(k for k in params if k not in supported and k not in CONTROL)
    if unknown:
        raise FhirError(400, [Issue("not-supported", f"search parameter {k!r} is not supported for {rtype} "
                                                     f"(supported: {', '.join(supported)})", k) for k in unknown])
    f = records_repo.RecordFilter()
    only_id = None
    for name, values in params.items():
        for value in values:
            if name in ("patient", "subject"):
                rid = value.rpartition("/")[2]
                if not rid.isdigit():
                    raise FhirError(400, [Issue("value", f"{name}={value!r} is not a Patient reference", name)])
                f.resident_id = int(rid)
            elif name == "encounter":
                eid = value.rpartition("/")[2]
                if not eid.isdigit():
                    raise FhirError(400, [Issue("value", f"encounter={value!r} is not an Encounter reference",
                                                name)])
                f.encounter_id = int(eid)
            elif name in ("code", "vaccine-code"):
                for part in value.split(","):
                    system, code = token(part)
                    f.code_system = system or None
                    f.codes.append(code)
            elif name in ("date", "recorded-date", "authoredon", "effective"):
                lo, hi = date_range(name, value)
                if lo:
                    start = datetime.combine(lo, datetime.min.time())
                    f.time_from = max(filter(None, (start, f.time_from)))
                if hi:
                    end = datetime.combine(hi, datetime.min.time()) + timedelta(days=1)
                    f.time_to = min(filter(None, (end, f.time_to)))
            elif name == "category":
                f.category = token(value)[1]
            elif name in ("status", "clinical-status"):
                f.status = token(value)[1]
            elif name == "intent":
                f.intent = token(value)[1]
            elif name == "_id":
                if not value.isdigit():
                    raise FhirError(400, [Issue("value", f"_id={value!r} is not an id", "_id")])
                only_id = int(value)
    return f, only_id


def search_records(s: Session, who: Principal, rtype: str, params: dict[str, list[str]], base: str) -> dict:
    f, only_id = _record_filter(rtype, params)
    count, page = count_and_page(params)
    count_only, sort, ascending, f.updated_from, f.updated_to = _controls(params, RECORD_SORTS)
    f.sort_by_updated, f.ascending = sort == "_lastUpdated", bool(sort) and ascending
    if count_only and only_id is None:
        return _count_bundle(_domain(lambda: records.search(s, who, rtype, f, PageRequest(1, 0)), rtype).total)
    if only_id is not None:
        try:
            rows = [_domain(lambda: records.get(s, who, rtype, only_id), rtype, str(only_id))]
        except FhirError:
            rows = []
        entries, total = _record_out(s, rtype, rows), len(rows)
    elif "_page" in params or records_repo.sort_key(rtype, f).nullable:
        # numbered pages: asked for, or the sort column may be empty (keyset paging needs a value on every row)
        result = _domain(lambda: records.search(s, who, rtype, f, PageRequest(page, count)), rtype)
        entries, total = _record_out(s, rtype, result.items), result.total
    else:
        return _keyset_page(s, who, rtype, f, params, base, count)
    return searchset(rtype, params, base, entries, total, count, page)


def _cursor_value(rtype: str, f: records_repo.RecordFilter, row):
    return getattr(row, records_repo.sort_key(rtype, f).key)


def _parse_cursor(rtype: str, f: records_repo.RecordFilter, name: str, text: str) -> tuple:
    value, _, rid = text.rpartition("~")
    try:
        parsed = (date.fromisoformat(value) if rtype in records_repo.DATE_TYPES and not f.sort_by_updated
                  else datetime.fromisoformat(value))
        return parsed, int(rid)
    except ValueError:
        raise FhirError(400, [Issue("value", f"{name}={text!r} is not a paging cursor from this server", name)]) \
            from None


def _keyset_page(s: Session, who: Principal, rtype: str, f: records_repo.RecordFilter,
                 params: dict[str, list[str]], base: str, count: int) -> dict:
    """Next/previous links carry the sort value and id of the boundary row (keyset paging): a page stays the
    same when records are added elsewhere in the list."""
    after = _parse_cursor(rtype, f, "_after", params["_after"][-1]) if params.get("_after") else None
    before = _parse_cursor(rtype, f, "_before", params["_before"][-1]) if params.get("_before") and not after else None
    rows, total, more = _domain(lambda: records.search_keyset(s, who, rtype, f, count, after=after, before=before),
                                rtype)
    entries = _record_out(s, rtype, rows)
    flat = [(k, v) for k, vs in sorted(params.items()) if k not in ("_after", "_before", "_page") for v in vs]

    def link(relation: str, extra: list[tuple[str, str]]) -> dict:
        return {"relation": relation, "url": f"{base}/{rtype}?{urlencode(flat + extra)}"}

    def cursor(row) -> str:
        return f"{_cursor_value(rtype, f, row).isoformat()}~{row.id}"

    self_extra = [("_after", params["_after"][-1])] if after else [("_before", params["_before"][-1])] if before else []
    links = [link("self", self_extra)]
    if rows and ((before is not None) or more):
        links.append(link("next", [("_after", cursor(rows[-1]))]))
    if rows and ((after is not None) or (before is not None and more)):
        links.append(link("previous", [("_before", cursor(rows[0]))]))
    return {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links,
            "entry": [{"fullUrl": f"{base}/{rtype}/{e['id']}", "resource": e, "search": {"mode": "match"}}
                      for e in entries]}


def create_record(s: Session, who: Principal, rtype: str, body: dict) -> tuple[int, dict]:
    """Create, or — when the same source record (identifier system + value) was sent before — update it.
    201 when created, 200 when an earlier copy was updated: re-sending never duplicates."""
    resource = validate(body, rtype)
    fields, comps = RECORD_MAPPERS[rtype].to_fields(resource)
    row, created = _domain(lambda: records.upsert(s, who, rtype, fields, comps), rtype)
    return (201 if created else 200), _record_out(s, rtype, [row])[0]


def update_record(s: Session, who: Principal, rtype: str, rid: str, body: dict, *, if_match: str | None) -> dict:
    resource = validate(body, rtype)
    if resource.get("id") != rid:
        raise FhirError(400, [Issue("invalid", f"{rtype}.id must equal the id in the URL ({rid!r})", f"{rtype}.id")])
    current = _domain(lambda: records.get(s, who, rtype, int(rid)), rtype, rid) if rid.isdigit() else None
    if current is None:
        raise not_found(rtype, rid)
    if if_match and if_match.strip().removeprefix("W/").strip('"') != str(current.version):
        raise FhirError(412, [Issue("conflict", f"version conflict: {rtype}/{rid} is at version {current.version}")])
    fields, comps = RECORD_MAPPERS[rtype].to_fields(resource)
    fields["source_system"], fields["source_id"] = current.source_system, current.source_id
    row, _ = _domain(lambda: records.upsert(s, who, rtype, fields, comps), rtype)
    return _record_out(s, rtype, [row])[0]


EVERYTHING_LIMIT = 5000


def patient_everything(s: Session, who: Principal, rid: str, base: str) -> dict:
    """The Patient and every record about them (Encounters, Conditions, Observations), newest first.

    One audited read of the patient and one audited search per record type."""
    patient = read_patient(s, who, rid)
    entries = [{"fullUrl": f"{base}/Patient/{rid}", "resource": patient, "search": {"mode": "match"}}]
    for rtype in RECORD_MAPPERS:
        f = records_repo.RecordFilter(resident_id=int(rid))
        result = _domain(lambda: records.search(s, who, rtype, f, PageRequest(1, EVERYTHING_LIMIT)), rtype)
        if result.total > EVERYTHING_LIMIT:
            raise FhirError(422, [Issue("too-costly", f"Patient/{rid} has {result.total} {rtype} resources, more "
                                                      f"than $everything returns ({EVERYTHING_LIMIT}); search by "
                                                      f"type with paging instead")])
        entries += [{"fullUrl": f"{base}/{rtype}/{r['id']}", "resource": r, "search": {"mode": "include"}}
                    for r in _record_out(s, rtype, result.items)]
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}


def capability_statement(base: str) -> dict:
    """Truthful: lists exactly the types, interactions and search parameters implemented here."""
    resources = []
    for rtype, mapper in MAPPERS.items():
        params = PATIENT_SEARCH if rtype == "Patient" else mapper.search_params
        resources.append({
            "type": rtype,
            "interaction": [{"code": c} for c in ("read", "search-type", "create", "update")],
            "versioning": "versioned-update",
            "readHistory": False, "updateCreate": False, "conditionalCreate": rtype == "Patient",
            "conditionalUpdate": False, "conditionalDelete": "not-supported",
            "searchParam": [{"name": n, "type": t} for n, t in params.items()] + [
                {"name": "_lastUpdated", "type": "date"}],
        })
        if rtype == "Patient":
            resources[-1]["operation"] = [{"name": "everything",
                                           "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}]
    from rhip.fhir.registry_resources import CAPABILITY as REGISTRY_CAPABILITY

    resources += REGISTRY_CAPABILITY
    from rhip.fhir.care_team import CAPABILITY as CARE_TEAM_CAPABILITY

    resources += CARE_TEAM_CAPABILITY
    return {
        "resourceType": "CapabilityStatement", "status": "active", "kind": "instance",
        "date": datetime.now(timezone.utc).date().isoformat(), "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "application/json"],
        "software": {"name": "RHIP", "version": __version__},
        "implementation": {"description": "RHIP 区域全民健康信息平台 FHIR R4", "url": base},
        "rest": [{"mode": "server", "interaction": [{"code": "transaction"}, {"code": "batch"}],
                  "security": {"description": "Bearer tokens (rhip users token) or the console session; every "
                                              "read and search is audited against the patient."},
                  "resource": resources}],
    }
