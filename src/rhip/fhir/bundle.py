"""``batch`` and ``transaction`` Bundles (POST /fhir).

- transaction: every entry in the request's one database transaction; one failing entry rejects the whole
  Bundle (4xx OperationOutcome naming ``Bundle.entry[i]``) and nothing is written. Entries that create
  resources may be referred to by their ``fullUrl`` (``urn:uuid:…``) from other entries; creates run in
  dependency order (Patient, Encounter, then the rest) and references are rewritten to the new ids.
- batch: entries are independent: each runs in a savepoint and gets its own response (an error in one
  does not undo the others).
Supported entry requests: POST (create; ``ifNoneExist``), PUT Type/id (update; ``ifMatch``), PUT Type?criteria
(conditional update), DELETE Type/id, GET Type/id and GET Type?params.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import orjson
from sqlalchemy.orm import Session

from rhip.fhir import integrity, service, versions
from rhip.fhir.errors import FhirError, Issue, from_rhip_error
from rhip.fhir.mappers import MAPPERS, RECORD_MAPPERS
from rhip.fhir.mappers.patient import PatientMapper
from rhip.fhir.mpi import link_facility_ids
from rhip.fhir.validation import validate
from rhip.kit import events
from rhip.kit.errors import RhipError
from rhip.records import service as records
from rhip.registry import repository as registry_repo
from rhip.registry import service as registry
from rhip.security.service import Principal, audit, batched_audit

CREATE_ORDER = {"Patient": 0, "Encounter": 1}
STATUS_TEXT = {200: "200 OK", 201: "201 Created"}
METHODS = ("GET", "POST", "PUT", "DELETE")
MAX_ENTRIES = 10_000


# ``"reference":"urn:uuid:…"`` as a member of an object in orjson's compact output: after ``{`` or ``,``
# (inside a JSON string every quote is escaped, so this cannot match text within a value).
_URN_REFERENCE = re.compile(rb'(?<=[{,])"reference":"(urn:uuid:[^"\\]*)"')


def _rewrite(value, ids: dict[str, str], where: str):
    """Replace ``{"reference": "urn:uuid:…"}`` by the created resource's ``Type/id`` (a copy; the input is
    left as it was). Done on the resource's JSON text — a tenth of the time of walking it in Python."""
    try:
        raw = orjson.dumps(value)
        if b"urn:uuid:" in raw:
            raw = _URN_REFERENCE.sub(lambda m: b'"reference":' + orjson.dumps(ids[m.group(1).decode()]), raw)
            if b'"reference":"urn:uuid:' in raw:  # an escaped character in the reference: walk it instead
                return _swap(value, ids)
        return orjson.loads(raw)
    except KeyError:  # a reference to no entry: walk again, naming where it is
        return _rewrite_named(value, ids, where)
    except TypeError:  # not serializable as is (e.g. an integer beyond 64 bits): walk it
        try:
            return _swap(value, ids)
        except KeyError:
            return _rewrite_named(value, ids, where)


def _swap(value, ids: dict[str, str]):
    if isinstance(value, dict):
        return {k: (ids[v] if k == "reference" and isinstance(v, str) and v.startswith("urn:uuid:")
                    else _swap(v, ids) if isinstance(v, (dict, list)) else v) for k, v in value.items()}
    return [_swap(v, ids) if isinstance(v, (dict, list)) else v for v in value]


def _rewrite_named(value, ids: dict[str, str], where: str):
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "reference" and isinstance(v, str) and v.startswith("urn:uuid:"):
                if v not in ids:
                    raise FhirError(422, [Issue("not-found", f"reference {v} is not the fullUrl of an entry created "
                                                             "in this Bundle", f"{where}.reference")])
                out[k] = ids[v]
            else:
                out[k] = _rewrite_named(v, ids, f"{where}.{k}")
        return out
    if isinstance(value, list):
        return [_rewrite_named(v, ids, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _parse_entries(bundle: dict) -> list[tuple[int, dict]]:
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise FhirError(400, [Issue("structure", "Bundle.entry must be a list", "Bundle.entry")])
    if len(entries) > MAX_ENTRIES:
        raise FhirError(413, [Issue("too-costly", f"{len(entries)} entries; at most {MAX_ENTRIES} per Bundle")])
    issues = []
    for i, e in enumerate(entries):
        req = e.get("request") if isinstance(e, dict) else None
        if not isinstance(req, dict) or req.get("method") not in METHODS or not req.get("url"):
            issues.append(Issue("structure", "each entry needs request.method (GET, POST, PUT or DELETE) and request.url",
                                f"Bundle.entry[{i}].request"))
            continue
        if req["method"] in ("POST", "PUT") and not isinstance(e.get("resource"), dict):
            issues.append(Issue("required", f"a {req['method']} entry needs a resource", f"Bundle.entry[{i}].resource"))
        full = e.get("fullUrl")
        if full is not None and not isinstance(full, str):
            issues.append(Issue("value", "fullUrl must be a string", f"Bundle.entry[{i}].fullUrl"))
    if issues:
        raise FhirError(400, issues)
    return list(enumerate(entries))


def _type_of_url(url: str, i: int) -> tuple[str, str | None, dict[str, list[str]]]:
    parts = urlsplit(url)
    path = parts.path.strip("/").removeprefix("fhir/")
    rtype, _, rid = path.partition("/")
    if rtype not in MAPPERS:
        raise FhirError(400, [Issue("not-supported", f"request.url {url!r}: resource type {rtype!r} is not supported",
                                    f"Bundle.entry[{i}].request.url")])
    return rtype, rid or None, parse_qs(parts.query, keep_blank_values=False)


def _entry(s: Session, who: Principal, i: int, e: dict, ids: dict[str, str], base: str, minimal: bool = False
           ) -> dict:
    req = e["request"]
    method, url = req["method"], req["url"]
    rtype, rid, params = _type_of_url(url, i)
    if not (method == "POST" and rtype in records.DIRECT_INSERT and not req.get("ifNoneExist")):
        records.flush_pending(s)  # anything but a plain record create may read what is still pending
    if method == "GET":
        events.deliver(s)  # e.g. programme enrolments that the writes before this one lead to
        if rid:
            res = service.read_patient(s, who, rid) if rtype == "Patient" else service.read_record(s, who, rtype, rid)
        else:
            res = (service.search_patients(s, who, params, base) if rtype == "Patient"
                   else service.search_records(s, who, rtype, params, base))
        return {"resource": res, "response": {"status": "200 OK"}}
    if method == "DELETE":
        if not rid:
            raise FhirError(400, [Issue("not-supported", "DELETE needs Type/id (conditional delete is not supported)",
                                        f"Bundle.entry[{i}].request.url")])
        versions.delete(s, who, rtype, rid, if_match=req.get("ifMatch"))
        return {"response": {"status": "204 No Content"}}
    resource = _rewrite(e["resource"], ids, f"Bundle.entry[{i}].resource")
    if method == "POST":
        if rid:
            raise FhirError(400, [Issue("invalid", "POST goes to the type (e.g. 'Patient'), not to an id",
                                        f"Bundle.entry[{i}].request.url")])
        if rtype == "Patient":
            status, res = service.create_patient(s, who, resource, if_none_exist=req.get("ifNoneExist"))
        else:
            status, res = service.create_record(s, who, rtype, resource, if_none_exist=req.get("ifNoneExist"),
                                                render=not minimal)
        full = e.get("fullUrl")
        if full:
            ids[full] = f"{rtype}/{res['id']}"
    elif not rid:  # PUT Type?criteria: conditional update
        if not params:
            raise FhirError(400, [Issue("invalid", "PUT needs Type/id or Type?criteria",
                                        f"Bundle.entry[{i}].request.url")])
        status, res = versions.conditional_update(s, who, rtype, params, resource, if_match=req.get("ifMatch"))
        full = e.get("fullUrl")
        if full:
            ids[full] = f"{rtype}/{res['id']}"
    else:  # PUT Type/id
        if rtype == "Patient":
            res = service.update_patient(s, who, rid, resource, if_match=req.get("ifMatch"))
        else:
            res = service.update_record(s, who, rtype, rid, resource, if_match=req.get("ifMatch"))
        status = 200
    return _written(rtype, res, status, base, minimal)


def _written(rtype: str, res: dict, status: int, base: str, minimal: bool = False) -> dict:
    """A written entry's response; with ``Prefer: return=minimal`` without the resource (FHIR http.html#ops:
    a transaction response's entries carry the resource as the Prefer header asks)."""
    return {"fullUrl": f"{base}/{rtype}/{res['id']}", **({} if minimal else {"resource": res}),
            "response": {"status": STATUS_TEXT[status], "location": f"{rtype}/{res['id']}/_history/"
                                                                   f"{res['meta']['versionId']}",
                         "etag": f'W/"{res["meta"]["versionId"]}"'}}


def _create_patients(s: Session, who: Principal, entries: list[tuple[int, dict]], ids: dict[str, str],
                     base: str, minimal: bool = False) -> dict[int, dict]:
    """The transaction's new Patients registered together (``registry.create_residents``: one query per check,
    one INSERT, MPI matching in one pass) → {entry index: response}. Empty — nothing written — when they must go
    one by one: a conditional create or a delete in the Bundle, or any of them refused (the one-by-one path then
    names the first refused entry exactly as before)."""
    todo = [(i, e) for i, e in entries if e["request"]["method"] == "POST"
            and e["request"]["url"].strip("/").removeprefix("fhir/") == "Patient"]
    if len(todo) < 2 or any(e["request"].get("ifNoneExist") or e["request"]["method"] == "DELETE"
                            for _, e in entries):  # (deletes run first, conditional creates search)
        return {}
    prepared = []
    for i, e in todo:
        try:
            resource = validate(_rewrite(e["resource"], ids, f"Bundle.entry[{i}].resource"), "Patient")
            prepared.append((i, e, resource, PatientMapper.to_fields(resource, creating=True)))
        except (FhirError, RhipError):
            return {}
    people = registry.create_residents(s, who, [fields for *_, fields in prepared], source="fhir")
    if people is None:
        return {}
    out = {}
    for (i, e, resource, _), r in zip(prepared, people):
        try:
            link_facility_ids(s, who, r.id, resource)
        except RhipError as err:
            raise _with_entry_path(from_rhip_error(err, "Patient"), i) from None
        records.remember_resident(s, r)
        if e.get("fullUrl"):
            ids[e["fullUrl"]] = f"Patient/{r.id}"
        out[i] = _written("Patient", PatientMapper.to_fhir(r), 201, base, minimal)
    return out


def _with_entry_path(err: FhirError, i: int) -> FhirError:
    issues = []
    for iss in err.issues:
        expr = iss.expression
        if expr and not expr.startswith("Bundle."):
            expr = f"Bundle.entry[{i}].resource.{expr.split('.', 1)[1]}" if "." in expr else \
                f"Bundle.entry[{i}].{expr}"
        issues.append(Issue(iss.code, f"entry {i}: {iss.diagnostics}", expr or f"Bundle.entry[{i}]", iss.severity))
    return FhirError(err.status, issues)


def _order(entries: list[tuple[int, dict]]) -> list[tuple[int, dict]]:
    """Deletes first, then creates (Patient, Encounter, then the rest), then updates, then reads — as FHIR
    prescribes for transactions, so that every urn:uuid reference can be resolved."""
    def key(item):
        i, e = item
        method = e["request"]["method"]
        rtype = e["request"]["url"].split("?")[0].strip("/").removeprefix("fhir/").split("/")[0]
        return ({"DELETE": 0, "POST": 1, "PUT": 2, "GET": 3}[method], CREATE_ORDER.get(rtype, 2), i)
    return sorted(entries, key=key)


def _prefetch(s: Session, entries: list[tuple[int, dict]]) -> list:
    """Load in one query per type what the entries will look up one by one: records by source identifier,
    and the villages of new Patients. Returns the loaded objects: holding them keeps them in the session's
    (weak) identity map, so the lookups that follow need no SQL."""
    by_type: dict[str, list[tuple[str, str]]] = {}
    villages: set[str] = set()
    for _, e in entries:
        res = e.get("resource")
        rtype = e["request"]["url"].split("?")[0].strip("/").removeprefix("fhir/").split("/")[0]
        if rtype == "Patient" and isinstance(res, dict):
            for addr in res.get("address") or []:
                for ext in (addr.get("extension") or []) if isinstance(addr, dict) else []:
                    if isinstance(ext, dict) and isinstance(ext.get("valueCode"), str):
                        villages.add(ext["valueCode"])
        if e["request"]["method"] == "POST" and rtype in RECORD_MAPPERS and isinstance(res, dict):
            for ident in res.get("identifier") or []:
                if isinstance(ident, dict) and isinstance(ident.get("system"), str) and \
                        isinstance(ident.get("value"), str) and ident["system"] and ident["value"]:
                    by_type.setdefault(rtype, []).append((ident["system"], ident["value"]))
                    break
    for rtype, keys in by_type.items():
        records.prefetch_sources(s, rtype, keys)
    return registry_repo.divisions(s, villages) if villages else []


def process(s: Session, who: Principal, bundle: dict, base: str, *, minimal: bool = False) -> dict:
    """Run a batch or transaction Bundle → its response Bundle. ``minimal`` (``Prefer: return=minimal``): the
    response entries of writes carry status, location and ETag but not the resource (nor is it rendered)."""
    if bundle.get("resourceType") != "Bundle":
        raise FhirError(400, [Issue("invalid", f"resourceType is {bundle.get('resourceType')!r}, expected 'Bundle'",
                                    "resourceType")])
    kind = bundle.get("type")
    if kind not in ("transaction", "batch"):
        raise FhirError(400, [Issue("value", f"Bundle.type {kind!r}: POST /fhir takes 'transaction' or 'batch'",
                                    "Bundle.type")])
    entries = _parse_entries(bundle)
    responses: dict[int, dict] = {}
    ids: dict[str, str] = {}
    if kind == "transaction":
        fulls = [e.get("fullUrl") for _, e in entries if e.get("fullUrl")]
        if len(fulls) != len(set(fulls)):
            raise FhirError(400, [Issue("duplicate", "two entries have the same fullUrl", "Bundle.entry")])
        # One transaction: its audit events are written together at the end (one per action, with every
        # subject), and repeated lookups are cached; rows are found by source identifier in one query per type.
        # Notifications (a diagnosis → programme enrolment) are delivered once for all residents at the end.
        # (a write the database refuses all the same, e.g. raced by another request: 409 naming the entries)
        with integrity.as_conflict(s, entries, responses), \
                batched_audit(s, who, bundle="transaction", entries=len(entries)), events.deferred(s), \
                records.bulk_writes(s):
            held = _prefetch(s, entries)  # noqa: F841 (kept alive for the identity map)
            responses.update(_create_patients(s, who, entries, ids, base, minimal))
            for i, e in _order(entries):
                if i in responses:
                    continue
                try:
                    responses[i] = _entry(s, who, i, e, ids, base, minimal)
                except FhirError as err:
                    raise _with_entry_path(err, i) from None
                except RhipError as err:
                    if getattr(err, "audit", None):
                        raise  # refused for scope: audited by the app after the rollback
                    raise _with_entry_path(from_rhip_error(err, e["request"]["url"].split("/")[0]), i) from None
    else:
        for i, e in _order(entries):
            savepoint = s.begin_nested()
            try:
                responses[i] = _entry(s, who, i, e, ids, base, minimal)
                savepoint.commit()
            except (FhirError, RhipError) as err:
                savepoint.rollback()
                if isinstance(err, RhipError) and getattr(err, "audit", None):
                    action, rids = err.audit
                    audit(s, who, action, outcome="denied", resident_ids=rids, detail={"bundle_entry": i})
                    err = FhirError(404, [Issue("not-found", "not found, or outside your scope")])
                elif isinstance(err, RhipError):
                    err = from_rhip_error(err)
                responses[i] = {"response": {"status": f"{err.status}", "outcome": err.outcome()}}
    return {"resourceType": "Bundle", "type": f"{kind}-response",
            "entry": [responses[i] for i in range(len(entries))]}
