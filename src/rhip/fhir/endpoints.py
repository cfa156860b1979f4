"""The FHIR R4 REST API at /fhir (application/fhir+json). Routes only adapt HTTP to ``fhir.service``.

Every route is a plain ``def`` (FastAPI runs it in its threadpool): the database work is synchronous and must not
block the event loop. A route that needs the body takes it as ``RawBody``, read before its transaction begins."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs, parse_qsl, urlencode

from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from fastapi.responses import Response

import orjson
from sqlalchemy.exc import IntegrityError

from rhip.fhir import integrity, service, versions
from rhip.fhir.bundle import process as process_bundle
from rhip.fhir.type_history import type_history as history_of_type
from rhip.fhir.errors import FhirError, Issue, from_rhip_error, operation_outcome
from rhip.fhir.mappers import RECORD_MAPPERS
from rhip.fhir.validation import parse_json
from rhip.kit.errors import RhipError
from rhip.kit.http import DbSession, RawBody
from rhip.security.deps import Who

FHIR_JSON = "application/fhir+json; charset=utf-8"
router = APIRouter(prefix="/fhir", tags=["FHIR R4"])


def fhir_response(resource: dict, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(resource), status_code=status, media_type=FHIR_JSON, headers=headers)


def _no_query_on_write(request: Request) -> None:
    """A create or update takes no search parameters: conditions go in If-None-Exist / If-Match headers."""
    extra = sorted(k for k in request.query_params if k != "_format")
    if extra:
        raise FhirError(400, [Issue("not-supported", f"{request.method} {request.url.path} takes no query parameters "
                                                     f"({', '.join(extra)}); for a conditional create send them in "
                                                     "the If-None-Exist header", extra[0])])


def _check_format(request: Request) -> None:
    # PUT /fhir/Type?… (conditional update) and POST /fhir/Type?… (conditional create) take search criteria
    on_type = request.method in ("POST", "PUT") and request.url.path.rstrip("/").count("/") == 2
    if request.method in ("POST", "PUT") and not request.url.path.endswith("/_search") and not on_type:
        _no_query_on_write(request)
    fmt = request.query_params.get("_format")
    if fmt and fmt not in ("json", "application/json", "application/fhir+json"):
        raise FhirError(415, [Issue("not-supported", f"_format {fmt!r}: only JSON is supported")])
    ctype = request.headers.get("content-type", "")
    if request.method in ("POST", "PUT") and ctype and not ctype.startswith(
            ("application/fhir+json", "application/json", "application/x-www-form-urlencoded")):
        raise FhirError(415, [Issue("not-supported", f"Content-Type {ctype!r}: send application/fhir+json")])


def _create_criteria(request: Request, if_none_exist: str | None) -> str | None:
    """The criteria of a conditional create: the If-None-Exist header, or the query of ``POST Type?criteria``
    (what fhirpy's ``get_or_create`` and ``resource.create(**criteria)`` send). Both at once must agree."""
    query = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=False) if k != "_format"]
    if not query:
        return if_none_exist
    criteria = urlencode(query)
    if if_none_exist and parse_qs(if_none_exist.lstrip("?")) != parse_qs(criteria):
        raise FhirError(400, [Issue("invalid", "the If-None-Exist header and the query of the POST give different "
                                               "criteria; send them once")])
    return criteria


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir"


def _params(request: Request) -> dict[str, list[str]]:
    return parse_qs(request.url.query, keep_blank_values=False)


def _prefer_minimal(prefer: str | None) -> bool:
    return bool(prefer) and "return=minimal" in prefer


@router.get("/metadata", summary="CapabilityStatement")
def metadata(request: Request):
    return fhir_response(service.capability_statement(_base(request)))


@router.post("", summary="batch or transaction Bundle")
@router.post("/", include_in_schema=False)
def bundle(request: Request, body: RawBody, s: DbSession, who: Who, prefer: Annotated[str | None, Header()] = None):
    _check_format(request)
    return fhir_response(process_bundle(s, who, parse_json(body), _base(request), minimal=_prefer_minimal(prefer)))


@router.get("/Patient/{rid}/$everything", summary="Patient/$everything")
def everything(rid: str, request: Request, s: DbSession, who: Who):
    _check_format(request)
    return fhir_response(service.patient_everything(s, who, rid, _base(request)))


@router.get("/{rtype}/_history", summary="history of a type (every version in your scope, newest first, paged)")
def type_history(rtype: str, request: Request, s: DbSession, who: Who):  # before /{rtype}/{rid} (and Patient's)
    _check_format(request)
    return fhir_response(history_of_type(s, who, _writable_type(rtype), _params(request), _base(request)))


@router.post("/Patient/$match", summary="Patient/$match (master patient index)")
def patient_match(request: Request, body: RawBody, s: DbSession, who: Who):
    from rhip.fhir.mpi import patient_match as run_match

    _check_format(request)
    return fhir_response(run_match(s, who, parse_json(body), _base(request)))


@router.get("/Patient/{rid}", summary="read Patient")
def read_patient(rid: str, request: Request, s: DbSession, who: Who):
    _check_format(request)
    p = service.read_patient(s, who, rid)
    return fhir_response(p, headers={"ETag": f'W/"{p["meta"]["versionId"]}"',
                                     "Last-Modified": p["meta"]["lastUpdated"]})


@router.get("/Patient", summary="search Patient")
def search_patient(request: Request, s: DbSession, who: Who):
    _check_format(request)
    return fhir_response(service.search_patients(s, who, _params(request), _base(request)))


@router.post("/Patient/_search", summary="search Patient (POST)")
def search_patient_post(request: Request, body: RawBody, s: DbSession, who: Who):
    _check_format(request)
    form = parse_qs(body.decode(), keep_blank_values=False)
    params = {**_params(request)}
    for k, v in form.items():
        params.setdefault(k, []).extend(v)
    return fhir_response(service.search_patients(s, who, params, _base(request)))


@router.post("/Patient", summary="create Patient (conditional with If-None-Exist or ?criteria)")
def create_patient(request: Request, body: RawBody, s: DbSession, who: Who,
                   if_none_exist: Annotated[str | None, Header()] = None,
                   prefer: Annotated[str | None, Header()] = None):
    _check_format(request)
    status, p = service.create_patient(s, who, parse_json(body),
                                       if_none_exist=_create_criteria(request, if_none_exist))
    headers = {"Location": f"{_base(request)}/Patient/{p['id']}/_history/{p['meta']['versionId']}",
               "ETag": f'W/"{p["meta"]["versionId"]}"'}
    if _prefer_minimal(prefer):
        return Response(status_code=status, headers=headers)
    return fhir_response(p, status, headers)


@router.put("/Patient/{rid}", summary="update Patient (If-Match for optimistic locking)")
def update_patient(rid: str, request: Request, body: RawBody, s: DbSession, who: Who,
                   if_match: Annotated[str | None, Header()] = None,
                   prefer: Annotated[str | None, Header()] = None):
    _check_format(request)
    p = service.update_patient(s, who, rid, parse_json(body), if_match=if_match)
    headers = {"ETag": f'W/"{p["meta"]["versionId"]}"'}
    if _prefer_minimal(prefer):
        return Response(status_code=200, headers=headers)
    return fhir_response(p, headers=headers)


# ------------------------------------------------------------------ clinical records (generic by type)

def _writable_type(rtype: str) -> str:
    """Patient or a record type: the types with versions, history, delete and conditional update."""
    return rtype if rtype == "Patient" else _record_type(rtype)


def _record_type(rtype: str) -> str:
    if rtype not in RECORD_MAPPERS:
        raise FhirError(404, [Issue("not-supported", f"resource type {rtype!r} is not supported here; see "
                                                     "/fhir/metadata")])
    return rtype


@router.get("/{rtype}/{rid}/_history/{vid}", summary="vread: one version of a resource")
def vread(rtype: str, rid: str, vid: str, request: Request, s: DbSession, who: Who):
    _check_format(request)
    r = versions.vread(s, who, _writable_type(rtype), rid, vid)
    return fhir_response(r, headers={"ETag": f'W/"{r["meta"]["versionId"]}"',
                                     "Last-Modified": r["meta"]["lastUpdated"]})


@router.get("/{rtype}/{rid}/_history", summary="history of a resource (newest first, paged)")
def instance_history(rtype: str, rid: str, request: Request, s: DbSession, who: Who):
    _check_format(request)
    return fhir_response(versions.instance_history(s, who, _writable_type(rtype), rid, _params(request),
                                                   _base(request)))


@router.delete("/{rtype}/{rid}", summary="delete a clinical record nothing refers to (never a Patient)")
def delete_resource(rtype: str, rid: str, request: Request, s: DbSession, who: Who,
                    if_match: Annotated[str | None, Header()] = None):
    _check_format(request)
    versions.delete(s, who, _writable_type(rtype), rid, if_match=if_match)
    return Response(status_code=204)


@router.put("/{rtype}", summary="conditional update: PUT Type?identifier=system|value (0 → create, 1 → update, "
                                "more → 412)")
def conditional_update(rtype: str, request: Request, body: RawBody, s: DbSession, who: Who,
                       if_match: Annotated[str | None, Header()] = None,
                       prefer: Annotated[str | None, Header()] = None):
    _check_format(request)
    rtype = _writable_type(rtype)
    status, r = versions.conditional_update(s, who, rtype, _params(request), parse_json(body),
                                            if_match=if_match)
    headers = {"ETag": f'W/"{r["meta"]["versionId"]}"',
               "Location": f"{_base(request)}/{rtype}/{r['id']}/_history/{r['meta']['versionId']}"}
    return Response(status_code=status, headers=headers) if _prefer_minimal(prefer) else \
        fhir_response(r, status, headers)


@router.get("/{rtype}/{rid}", summary="read Encounter, Condition or Observation")
def read_record(rtype: str, rid: str, request: Request, s: DbSession, who: Who):
    _check_format(request)
    r = service.read_record(s, who, _record_type(rtype), rid)
    return fhir_response(r, headers={"ETag": f'W/"{r["meta"]["versionId"]}"'})


@router.get("/{rtype}", summary="search Encounter, Condition or Observation")
def search_records(rtype: str, request: Request, s: DbSession, who: Who):
    _check_format(request)
    return fhir_response(service.search_records(s, who, _record_type(rtype), _params(request), _base(request)))


@router.post("/{rtype}", summary="create Encounter, Condition or Observation (re-sending the same source "
                                 "identifier updates it)")
def create_record(rtype: str, request: Request, body: RawBody, s: DbSession, who: Who,
                  if_none_exist: Annotated[str | None, Header()] = None,
                  prefer: Annotated[str | None, Header()] = None):
    _check_format(request)
    rtype = _record_type(rtype)
    status, r = service.create_record(s, who, rtype, parse_json(body),
                                      if_none_exist=_create_criteria(request, if_none_exist))
    headers = {"Location": f"{_base(request)}/{rtype}/{r['id']}/_history/{r['meta']['versionId']}",
               "ETag": f'W/"{r["meta"]["versionId"]}"'}
    return Response(status_code=status, headers=headers) if _prefer_minimal(prefer) else         fhir_response(r, status, headers)


@router.put("/{rtype}/{rid}", summary="update Encounter, Condition or Observation (If-Match)")
def update_record(rtype: str, rid: str, request: Request, body: RawBody, s: DbSession, who: Who,
                  if_match: Annotated[str | None, Header()] = None,
                  prefer: Annotated[str | None, Header()] = None):
    _check_format(request)
    r = service.update_record(s, who, _record_type(rtype), rid, parse_json(body), if_match=if_match)
    headers = {"ETag": f'W/"{r["meta"]["versionId"]}"'}
    return Response(status_code=200, headers=headers) if _prefer_minimal(prefer) else fhir_response(r, headers=headers)


def render_error(request: Request, exc: Exception) -> Response:
    """Every error under /fhir is an OperationOutcome."""
    if isinstance(exc, FhirError):
        return fhir_response(exc.outcome(), exc.status)
    if isinstance(exc, RhipError):
        err = from_rhip_error(exc, request.url.path.split("/")[2] if request.url.path.count("/") >= 2 else None)
        return fhir_response(err.outcome(), exc.http_status)
    if isinstance(exc, StarletteHTTPException):
        code = {404: "not-found", 405: "not-supported", 401: "login", 403: "forbidden"}.get(exc.status_code,
                                                                                             "processing")
        text = {405: f"{request.method} is not supported on {request.url.path} (see /fhir/metadata)",
                404: f"{request.url.path} is not a FHIR endpoint here (see /fhir/metadata)"}.get(
            exc.status_code, str(exc.detail))
        return fhir_response(operation_outcome([Issue(code, text)]), exc.status_code,
                             headers=getattr(exc, "headers", None))
    if isinstance(exc, RequestValidationError):
        issues = [Issue("invalid", e.get("msg", "invalid"), ".".join(str(p) for p in e.get("loc", ())))
                  for e in exc.errors()]
        return fhir_response(operation_outcome(issues), 400)
    return fhir_response(operation_outcome([Issue("exception", "internal server error; it was logged")]), 500)


def mount_fhir(app: FastAPI) -> None:
    from rhip.fhir.endpoints_registry import router as registry_router

    app.include_router(registry_router)  # before the generic /fhir/{rtype} routes, which would shadow it
    from rhip.fhir.endpoints_care_team import router as care_team_router

    app.include_router(care_team_router)
    app.include_router(router)

    @app.exception_handler(FhirError)
    async def _fhir_error(request: Request, exc: FhirError):
        return render_error(request, exc)

    @app.exception_handler(IntegrityError)
    async def _refused_write(request: Request, exc: IntegrityError):
        """A write the database refused after the checks passed (a race): 409 under /fhir, else as any error."""
        parts = request.url.path.split("/")
        if parts[1:2] != ["fhir"]:
            return await app.exception_handlers[Exception](request, exc)
        return render_error(request, integrity.refused(exc, parts[2] if len(parts) > 2 else None))
