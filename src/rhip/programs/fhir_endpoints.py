"""FHIR routes for the programmes (read + search): EpisodeOfCare and CarePlan. Routes only adapt HTTP to
``programs.fhir``. Mounted before the generic ``/fhir/{rtype}`` routes (they would otherwise answer these
paths); ``programs.fhir.CAPABILITY`` is listed in the CapabilityStatement."""

from __future__ import annotations

from fastapi import APIRouter, Request

from rhip.fhir.endpoints import _base, _check_format, _params, fhir_response
from rhip.kit.http import DbSession
from rhip.programs import fhir as pf
from rhip.security.deps import Who

router = APIRouter(prefix="/fhir", tags=["FHIR R4"])


@router.get("/EpisodeOfCare/{rid}", summary="read EpisodeOfCare (a programme enrolment)")
def read_episode(rid: str, request: Request, s: DbSession, who: Who):
    _check_format(request)
    return fhir_response(pf.read(s, who, "EpisodeOfCare", rid))


@router.get("/EpisodeOfCare", summary="search EpisodeOfCare")
def search_episode(request: Request, s: DbSession, who: Who):
    _check_format(request)
    return fhir_response(pf.search(s, who, "EpisodeOfCare", _params(request), _base(request)))


@router.get("/CarePlan/{rid}", summary="read CarePlan (an enrolment's schedule and its status)")
def read_care_plan(rid: str, request: Request, s: DbSession, who: Who):
    _check_format(request)
    return fhir_response(pf.read(s, who, "CarePlan", rid))


@router.get("/CarePlan", summary="search CarePlan")
def search_care_plan(request: Request, s: DbSession, who: Who):
    _check_format(request)
    return fhir_response(pf.search(s, who, "CarePlan", _params(request), _base(request)))
