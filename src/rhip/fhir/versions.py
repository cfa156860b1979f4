"""Version interactions: vread, instance history, delete, and the conditional writes (update by search
criteria, create with If-None-Exist for the record types). Framework-free like ``fhir.service``.

History reads are audited against the patient like reads (``<type>.vread``, ``<type>.history``).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from rhip.fhir import history, service, type_history
from rhip.fhir.errors import FhirError, Issue, not_found
from rhip.fhir.mappers.common import instant, source_of
from rhip.fhir.mappers.patient import PatientMapper
from rhip.fhir.search import count_and_page, token
from rhip.kit.errors import OutOfScope
from rhip.records import repository as records_repo
from rhip.records import service as records
from rhip.registry import repository as registry_repo
from rhip.security.service import Principal, audit

PATIENT_DELETE_REFUSED = ("Patient resources cannot be deleted: residents are deregistered through the registry "
                          "(moved out, deceased), never deleted (居民档案不能删除，请在居民登记中办理迁出或死亡登记)")


def _live(s: Session, rtype: str, rid: int):
    """The live row (current version) or None."""
    if rtype == "Patient":
        return registry_repo.get_resident(s, rid)
    return records_repo.get(s, records_repo.MODELS[rtype], rid)


def _render(s: Session, rtype: str, row) -> dict:
    return PatientMapper.to_fhir(row) if rtype == "Patient" else service._record_out(s, rtype, [row])[0]


def _check_scope(s: Session, who: Principal, rtype: str, rid: int, resident_id: int, action: str) -> None:
    who.require("resident.read")
    r = registry_repo.get_resident(s, resident_id)
    if r is None or not who.scope.covers(r.village_code):
        raise OutOfScope(f"{rtype}/{rid}", action=action, resident_ids=[resident_id])


def _resident_of(rtype: str, row) -> int:
    return row.id if rtype == "Patient" else row.resident_id


def _id(rtype: str, rid: str) -> int:
    if not rid.isdigit():
        raise not_found(rtype, rid)
    return int(rid)


def vread(s: Session, who: Principal, rtype: str, rid: str, vid: str) -> dict:
    """One version: the live row when it is the current one, else the stored superseded version; a deleted
    version is 410 Gone."""
    n = _id(rtype, rid)
    if not vid.isdigit():
        raise FhirError(404, [Issue("not-found", f"{rtype}/{rid}/_history/{vid}: not a version id")])
    old = history.version(s, rtype, n, int(vid))
    if old is not None:
        _check_scope(s, who, rtype, n, old.resident_id, f"{rtype.lower()}.vread")
        audit(s, who, f"{rtype.lower()}.vread", resident_ids=[old.resident_id], detail={"id": n, "version": old.version_id})
        if old.method == "DELETE":
            raise FhirError(410, [Issue("deleted", f"version {vid} of {rtype}/{rid} is its deletion")])
        return history.as_resource(old)
    row = _live(s, rtype, n)
    if row is not None and str(row.version) == vid:
        _check_scope(s, who, rtype, n, _resident_of(rtype, row), f"{rtype.lower()}.vread")
        audit(s, who, f"{rtype.lower()}.vread", resident_ids=[_resident_of(rtype, row)],
              detail={"id": n, "version": row.version})
        return _render(s, rtype, row)
    if row is None and history.tombstone_of(s, rtype, n) is None:
        raise not_found(rtype, rid)
    raise FhirError(404, [Issue("not-found", f"{rtype}/{rid} has no version {vid}")])


def instance_history(s: Session, who: Principal, rtype: str, rid: str, params: dict[str, list[str]], base: str
                     ) -> dict:
    """A ``history`` Bundle of every version (made at or after ``_since``, when given), newest first (the current
    one, then the superseded ones; a delete is an entry without resource), paged with ``_count`` and ``_page``."""
    unknown = sorted(k for k in params if k not in ("_count", "_page", "_since", "_format"))
    if unknown:
        raise FhirError(400, [Issue("not-supported", f"history parameter {k!r} is not supported (only _count, "
                                                     "_page and _since)", k) for k in unknown])
    n = _id(rtype, rid)
    count, page = count_and_page(params)
    t0 = type_history.since(params)
    row = _live(s, rtype, n)
    exists = row is not None or history.versions(s, rtype, n, offset=0, limit=1)[1] > 0
    if row is not None:
        resident_id = _resident_of(rtype, row)
    elif exists:  # deleted: the history remembers whose it was
        resident_id = history.versions(s, rtype, n, offset=0, limit=1)[0][0].resident_id
    else:
        raise not_found(rtype, rid)
    _check_scope(s, who, rtype, n, resident_id, f"{rtype.lower()}.history")
    if t0 is not None and row is not None and row.updated_at < t0:
        row = None  # the current version is older than _since (and so is every stored one)
    offset = (page - 1) * count
    live_first = row is not None and offset == 0
    stored, n_stored = history.versions(s, rtype, n, offset=max(0, offset - (row is not None)),
                                        limit=count - live_first, since=t0)
    total = n_stored + (row is not None)
    audit(s, who, f"{rtype.lower()}.history", resident_ids=[resident_id],
          detail={"id": n, "page": page, "total": total})
    url = f"{base}/{rtype}/{rid}"
    entries = []
    if live_first:
        res = _render(s, rtype, row)
        entries.append({"fullUrl": url, "resource": res,
                        "request": {"method": "POST" if row.version == 1 else "PUT",
                                    "url": rtype if row.version == 1 else f"{rtype}/{rid}"},
                        "response": {"status": "201 Created" if row.version == 1 else "200 OK",
                                     "etag": f'W/"{row.version}"', "lastModified": res["meta"]["lastUpdated"]}})
    for h in stored:
        e = {"fullUrl": url,
             "request": {"method": h.method, "url": rtype if h.method == "POST" else f"{rtype}/{rid}"},
             "response": {"status": {"POST": "201 Created", "PUT": "200 OK", "DELETE": "204 No Content"}[h.method],
                          "etag": f'W/"{h.version_id}"', "lastModified": instant(h.last_updated)}}
        if h.resource is not None:
            e["resource"] = history.as_resource(h)
        entries.append(e)

    def link(relation: str, p: int) -> dict:
        extra = [("_since", params["_since"][-1])] if t0 is not None else []
        return {"relation": relation, "url": f"{url}/_history?{urlencode([('_count', count), ('_page', p)] + extra)}"}

    links = [link("self", page)] + ([link("next", page + 1)] if page * count < total else []) + (
        [link("previous", page - 1)] if page > 1 else [])
    return {"resourceType": "Bundle", "type": "history", "total": total, "link": links, "entry": entries}


def delete(s: Session, who: Principal, rtype: str, rid: str, *, if_match: str | None = None) -> None:
    """Delete a clinical record nothing refers to (409 naming the referrers otherwise). The deleted version
    stays readable with vread; a read is 410 Gone; deleting it again is a no-op. Patients are never deleted."""
    if rtype == "Patient":
        raise FhirError(405, [Issue("not-supported", PATIENT_DELETE_REFUSED)])
    n = _id(rtype, rid)
    expected = service._version_tag(if_match)
    if records_repo.get(s, records_repo.MODELS[rtype], n) is None:
        dead = history.tombstone_of(s, rtype, n)
        if dead is not None:
            _check_scope(s, who, rtype, n, dead.resident_id, f"{rtype.lower()}.delete")
            return  # already deleted: DELETE is idempotent
        raise not_found(rtype, rid)

    def keep(row) -> None:
        history.supersede(s, who, rtype, service._record_out(s, rtype, [row])[0], updated_at=row.updated_at,
                          resident_id=row.resident_id)
        history.tombstone(s, who, rtype, row.id, row.version + 1, resident_id=row.resident_id)

    service._domain(lambda: records.delete(s, who, rtype, n, before_delete=keep, expected_version=expected), rtype,
                    rid)


# ------------------------------------------------------------------ conditional writes

def _criteria(text_or_params: str | dict[str, list[str]]) -> dict[str, list[str]]:
    params = parse_qs(text_or_params.lstrip("?"), keep_blank_values=False) if isinstance(text_or_params, str) \
        else dict(text_or_params)
    params.pop("_format", None)
    if not params:
        raise FhirError(400, [Issue("required", "a conditional write needs search criteria (e.g. "
                                                "identifier=system|value)")])
    return params


def record_matches(s: Session, who: Principal, rtype: str, criteria: str | dict[str, list[str]]) -> list[int]:
    """Ids of the records whose source identifier matches ``identifier=[system|]value`` (the only criterion
    conditional writes take for records: it is the record's identity)."""
    params = _criteria(criteria)
    if set(params) != {"identifier"} or len(params["identifier"]) != 1:
        raise FhirError(400, [Issue("not-supported", f"conditional {rtype} writes match by one "
                                                     "identifier=system|value only", next(iter(params)))])
    system, value = token(params["identifier"][0])
    model = records_repo.MODELS[rtype]
    q = select(model.id).where(model.source_id == value)
    if system:
        q = q.where(model.source_system == system)
    return list(s.scalars(q.order_by(model.id).limit(2)))


def conditional_update(s: Session, who: Principal, rtype: str, criteria: str | dict[str, list[str]], body: dict,
                       *, if_match: str | None = None) -> tuple[int, dict]:
    """PUT Type?criteria: no match → create (201), one → update it (200), several → 412."""
    params = _criteria(criteria)
    if rtype == "Patient":
        found = service.search_patients(s, who, {**params, "_count": ["2"], "_page": ["1"]}, "")
        ids = [e["resource"]["id"] for e in found.get("entry", [])]
        total = found["total"]
    else:
        ids = [str(i) for i in record_matches(s, who, rtype, params)]
        total = len(ids)
    if total > 1:
        raise FhirError(412, [Issue("multiple-matches", f"the criteria match {total} {rtype} resources; a "
                                                        "conditional update needs at most one")])
    if not ids:
        if body.get("id"):
            raise FhirError(400, [Issue("invalid", f"no {rtype} matches, and this server does not create a resource "
                                                   "with an id chosen by the client: leave id out", f"{rtype}.id")])
        if rtype == "Patient":
            return service.create_patient(s, who, body)
        if body.get("resourceType") == rtype and "identifier" in params:
            system, value = token(params["identifier"][0])
            own = source_of(body, rtype)
            if own[1] != value or (system and own[0] != system):
                raise FhirError(400, [Issue("invalid", f"the resource's first identifier ({own[0]}|{own[1]}) is "
                                                       "not the one in the criteria", f"{rtype}.identifier[0]")])
        return service.create_record(s, who, rtype, body)
    if body.get("id") not in (None, ids[0]):
        raise FhirError(400, [Issue("invalid", f"{rtype}.id {body['id']!r} is not the id of the matching resource "
                                               f"({ids[0]})", f"{rtype}.id")])
    body = {**body, "id": ids[0]}
    if rtype == "Patient":
        return 200, service.update_patient(s, who, ids[0], body, if_match=if_match)
    return 200, service.update_record(s, who, rtype, ids[0], body, if_match=if_match)

