"""FHIR interactions for the implemented resource types, on top of the domain services (which check
scope and permissions and write the audit trail). Framework-free: endpoints only adapt HTTP."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from urllib.parse import urlencode

from sqlalchemy.orm import Session

from rhip import __version__
from rhip.fhir import history
from rhip.fhir import identifiers as ids
from rhip.fhir import include
from rhip.fhir.errors import FhirError, Issue, from_rhip_error, not_found
from rhip.fhir.mappers import MAPPERS, RECORD_MAPPERS
from rhip.fhir.mappers.common import instant, meta
from rhip.fhir.mappers.patient import GENDER_FROM_FHIR, PatientMapper
from rhip.fhir.search import count_and_page, date_range, searchset, token
from rhip.fhir.validation import validate
from rhip.kit.errors import NotFound, RhipError
from rhip.kit.pagination import PageRequest
from rhip.records import repository as records_repo
from rhip.records.models import ObservationComponent
from rhip.records import service as records
from rhip.registry import repository as registry_repo
from rhip.registry import service as registry
from rhip.security.service import Principal

PATIENT_SEARCH = {
    "_id": "token", "identifier": "token", "name": "string", "family": "string", "gender": "token",
    "birthdate": "date", "phone": "token", "telecom": "token",
}
CONTROL = {"_count", "_page", "_format", "_sort", "_summary", "_lastUpdated", "_after", "_before", "_include",
           "_revinclude"}
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
    includes = include.parse("Patient", params)
    count, page = count_and_page(params)
    count_only, sort, ascending, query.updated_from, query.updated_to = _controls(params, PATIENT_SORTS)
    if sort:
        query.sort = ("" if ascending else "-") + PATIENT_SORTS[sort]
    if count_only:
        return _count_bundle(_domain(lambda: registry.search_residents(s, who, query, PageRequest(1, 0)),
                                     "Patient").total)
    if "_page" in params:  # numbered pages, when asked for
        result = _domain(lambda: registry.search_residents(s, who, query, PageRequest(page, count)), "Patient")
        return include.add_included(s, who, searchset("Patient", params, base,
                                                      [PatientMapper.to_fhir(r) for r in result.items], result.total,
                                                      count, page), includes, base)
    column = query.sort.lstrip("-")
    parse, show = _PATIENT_CURSOR[column]
    after, before = _cursors(params, parse)
    rows, total, more = _domain(lambda: registry.search_residents_keyset(s, who, query, count, after=after,
                                                                         before=before), "Patient")
    bundle = _keyset_bundle("Patient", params, base, rows, [PatientMapper.to_fhir(r) for r in rows], total, more,
                            after, before, lambda r: f"{show(getattr(r, column))}~{r.id}")
    return include.add_included(s, who, bundle, includes, base)


# Patient sort column → (cursor text → value, value → cursor text)
_PATIENT_CURSOR = {"name": (str, str), "birth_date": (date.fromisoformat, date.isoformat),
                   "updated_at": (datetime.fromisoformat, datetime.isoformat), "id": (int, str)}


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
    records.remember_resident(s, r)  # records of the same transaction Bundle refer to it next
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


def gone_or_not_found(s: Session, who: Principal, rtype: str, rid: str) -> FhirError:
    """410 Gone for a deleted resource the user may see (its versions stay readable), else 404."""
    dead = history.tombstone_of(s, rtype, int(rid)) if rid.isdigit() else None
    if dead is not None:
        r = registry_repo.get_resident(s, dead.resident_id)
        if r is not None and who.scope.covers(r.village_code):
            return FhirError(410, [Issue("deleted", f"{rtype}/{rid} was deleted (version {dead.version_id}, "
                                                    f"{instant(dead.last_updated)}); "
                                                    f"its earlier versions remain at {rtype}/{rid}/_history")])
    return not_found(rtype, rid)


def read_record(s: Session, who: Principal, rtype: str, rid: str) -> dict:
    if not rid.isdigit():
        raise not_found(rtype, rid)
    try:
        row = _domain(lambda: records.get(s, who, rtype, int(rid)), rtype, rid)
    except FhirError as e:
        if e.status == 404:
            raise gone_or_not_found(s, who, rtype, rid) from None
        raise
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
            elif name in ("code", "vaccine-code", "type"):  # type: DocumentReference's kind of document
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
    includes = include.parse(rtype, params)
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
    elif "_page" in params:  # numbered pages, when asked for
        result = _domain(lambda: records.search(s, who, rtype, f, PageRequest(page, count)), rtype)
        entries, total = _record_out(s, rtype, result.items), result.total
    else:
        return include.add_included(s, who, _keyset_page(s, who, rtype, f, params, base, count), includes, base)
    return include.add_included(s, who, searchset(rtype, params, base, entries, total, count, page), includes, base)


def _parse_cursor(name: str, text: str, parse_value) -> tuple:
    value, _, rid = text.rpartition("~")
    try:
        return parse_value(value), int(rid)
    except ValueError:
        raise FhirError(400, [Issue("value", f"{name}={text!r} is not a paging cursor from this server", name)]) \
            from None


def _cursors(params: dict[str, list[str]], parse_value) -> tuple[tuple | None, tuple | None]:
    after = _parse_cursor("_after", params["_after"][-1], parse_value) if params.get("_after") else None
    before = (_parse_cursor("_before", params["_before"][-1], parse_value)
              if params.get("_before") and not after else None)
    return after, before


def _keyset_bundle(rtype: str, params: dict[str, list[str]], base: str, rows: list, entries: list[dict], total: int,
                   more: bool, after, before, cursor_of) -> dict:
    """A searchset whose next/previous links carry the sort value and id of the boundary row (keyset paging):
    a page stays the same when rows are added elsewhere in the list."""
    flat = [(k, v) for k, vs in sorted(params.items()) if k not in ("_after", "_before", "_page") for v in vs]

    def link(relation: str, extra: list[tuple[str, str]]) -> dict:
        return {"relation": relation, "url": f"{base}/{rtype}?{urlencode(flat + extra)}"}

    self_extra = [("_after", params["_after"][-1])] if after else [("_before", params["_before"][-1])] if before else []
    links = [link("self", self_extra)]
    if rows and ((before is not None) or more):
        links.append(link("next", [("_after", cursor_of(rows[-1]))]))
    if rows and ((after is not None) or (before is not None and more)):
        links.append(link("previous", [("_before", cursor_of(rows[0]))]))
    return {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links,
            "entry": [{"fullUrl": f"{base}/{rtype}/{e['id']}", "resource": e, "search": {"mode": "match"}}
                      for e in entries]}


def _keyset_page(s: Session, who: Principal, rtype: str, f: records_repo.RecordFilter,
                 params: dict[str, list[str]], base: str, count: int) -> dict:
    on_date = rtype in records_repo.DATE_TYPES and not f.sort_by_updated
    after, before = _cursors(params, date.fromisoformat if on_date else datetime.fromisoformat)
    rows, total, more = _domain(lambda: records.search_keyset(s, who, rtype, f, count, after=after, before=before),
                                rtype)
    return _keyset_bundle(rtype, params, base, rows, _record_out(s, rtype, rows), total, more, after, before,
                          lambda row: f"{records_repo.sort_value(rtype, f, row).isoformat()}~{row.id}")


def _keeper(s: Session, who: Principal, rtype: str):
    """The callback that keeps a record's current version in the history before it changes."""
    def keep(row) -> None:
        history.supersede(s, who, rtype, _record_out(s, rtype, [row])[0], updated_at=row.updated_at,
                          resident_id=row.resident_id)
    return keep


def _version_tag(if_match: str | None) -> int | None:
    if not if_match:
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise FhirError(400, [Issue("value", f"If-Match {if_match!r} is not a version tag like W/\"3\"")])
    return int(tag)


def create_record(s: Session, who: Principal, rtype: str, body: dict, *, if_none_exist: str | None = None,
                  render: bool = True) -> tuple[int, dict]:
    """Create, or — when the same source record (identifier system + value) was sent before — update it.
    201 when created, 200 when an earlier copy was updated: re-sending never duplicates. With If-None-Exist
    (``identifier=system|value``): 200 with the one match unchanged, 412 when several match. ``render=False``
    (a Bundle with ``Prefer: return=minimal``): a new record comes back as its id and meta only."""
    resource = validate(body, rtype)
    if if_none_exist:
        from rhip.fhir.versions import record_matches

        found = record_matches(s, who, rtype, if_none_exist)
        if len(found) > 1:
            raise FhirError(412, [Issue("duplicate", f"If-None-Exist matched {len(found)} {rtype} resources")])
        if found:
            return 200, read_record(s, who, rtype, str(found[0]))
    fields, comps = RECORD_MAPPERS[rtype].to_fields(resource)
    model = records_repo.MODELS[rtype]
    row, created = _domain(lambda: records.upsert(s, who, rtype, fields, comps, before_change=_keeper(s, who, rtype),
                                                  new_id=lambda: history.first_free_id(s, rtype, model)), rtype)
    if created and not render:
        return 201, {"resourceType": rtype, "id": str(row.id), "meta": meta(row)}
    if created and rtype == "Observation":  # render what was stored without reading it back
        parts = [records_repo.stored_row(ObservationComponent, c)
                 for c in records_repo.component_rows(row.id, comps or [])]
        return 201, RECORD_MAPPERS[rtype].to_fhir(row, parts)
    return (201 if created else 200), _record_out(s, rtype, [row])[0]


def update_record(s: Session, who: Principal, rtype: str, rid: str, body: dict, *, if_match: str | None) -> dict:
    resource = validate(body, rtype)
    if resource.get("id") != rid:
        raise FhirError(400, [Issue("invalid", f"{rtype}.id must equal the id in the URL ({rid!r})", f"{rtype}.id")])
    expected = _version_tag(if_match)
    if not rid.isdigit():
        raise not_found(rtype, rid)
    try:
        current = _domain(lambda: records.get(s, who, rtype, int(rid)), rtype, rid)
    except FhirError as e:
        if e.status == 404:
            raise gone_or_not_found(s, who, rtype, rid) from None
        raise
    if expected is not None and expected != current.version:
        raise FhirError(412, [Issue("conflict", f"version conflict: {rtype}/{rid} is at version {current.version}")])
    fields, comps = RECORD_MAPPERS[rtype].to_fields(resource)
    fields["source_system"], fields["source_id"] = current.source_system, current.source_id
    try:
        row, _ = _domain(lambda: records.upsert(s, who, rtype, fields, comps, before_change=_keeper(s, who, rtype),
                                                expected_version=expected), rtype)
    except FhirError as e:
        if e.status == 412:
            raise FhirError(412, [Issue("conflict", f"version conflict: {rtype}/{rid} was changed by another "
                                                    "request")]) from None
        raise
    return _record_out(s, rtype, [row])[0]


EVERYTHING_LIMIT = 5000


def patient_everything(s: Session, who: Principal, rid: str, base: str) -> dict:
    """The Patient and every record about them, each type newest first.

    Audited as one event (``resident.everything``, with the count of each type). Records are rendered from plain
    rows, with their parts (components, report results) read by resident: a dozen queries whatever the size."""
    if not rid.isdigit():
        raise not_found("Patient", rid)
    resident, found = _domain(lambda: records.everything(s, who, int(rid), EVERYTHING_LIMIT), "Patient", rid)
    from rhip.fhir.mpi import with_links  # Patient.link from the master patient index

    entries = [{"fullUrl": f"{base}/Patient/{rid}", "resource": with_links(s, PatientMapper.to_fhir(resident)),
                "search": {"mode": "match"}}]
    for rtype, (rows, parts) in found.items():
        if len(rows) > EVERYTHING_LIMIT:
            raise FhirError(422, [Issue("too-costly", f"Patient/{rid} has more than {EVERYTHING_LIMIT} {rtype} "
                                                      f"resources, more than $everything returns; search by type "
                                                      f"with paging instead")])
        to_fhir, prefix = RECORD_MAPPERS[rtype].to_fhir, f"{base}/{rtype}/"
        entries += [{"fullUrl": prefix + str(r.id), "resource": to_fhir(r, parts.get(r.id, ())),
                     "search": {"mode": "include"}}
                    for r in rows]
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}


HISTORY_NOTE = (" History (instance and type) takes _count, _since (an instant) and _page; type history pages "
                "with _after links by default, takes _total=none to leave out Bundle.total (counting every version "
                "is most of a page's cost), and shows only the patients in your scope.")


def capability_statement(base: str) -> dict:
    """Truthful: lists exactly the types, interactions and search parameters implemented here."""
    resources = []
    for rtype, mapper in MAPPERS.items():
        params = PATIENT_SEARCH if rtype == "Patient" else mapper.search_params
        codes = ("read", "vread", "history-instance", "history-type", "search-type", "create", "update") + (
            () if rtype == "Patient" else ("delete",))
        resources.append({
            "type": rtype,
            "interaction": [{"code": c} for c in codes],
            "versioning": "versioned-update",
            "readHistory": True, "updateCreate": False, "conditionalCreate": True,
            "conditionalUpdate": True, "conditionalDelete": "not-supported",
            "searchParam": [{"name": n, "type": t} for n, t in params.items()] + [
                {"name": "_lastUpdated", "type": "date"}],
            # (FHIR JSON has no empty arrays: a type nothing refers to has no searchRevInclude)
            **({"searchInclude": inc} if (inc := include.supported_includes(rtype)) else {}),
            **({"searchRevInclude": rev} if (rev := include.supported_revincludes(rtype)) else {}),
        })
        if rtype == "Patient":
            resources[-1]["documentation"] = ("No delete: residents are deregistered through the registry "
                                              "(moved out, deceased), never deleted." + HISTORY_NOTE)
        else:
            resources[-1]["documentation"] = ("Delete only when no other record refers to it (409 naming them "
                                              "otherwise); conditional create/update match identifier=system|value." + HISTORY_NOTE)
        if rtype == "Patient":
            resources[-1]["operation"] = [{"name": "everything",
                                           "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}]
    from rhip.fhir.registry_resources import CAPABILITY as REGISTRY_CAPABILITY

    resources += REGISTRY_CAPABILITY
    from rhip.programs.fhir import CAPABILITY as PROGRAM_CAPABILITY  # EpisodeOfCare, CarePlan

    resources += PROGRAM_CAPABILITY
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
