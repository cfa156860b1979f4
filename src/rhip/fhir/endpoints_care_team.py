"""FHIR routes for CareTeam (family-doctor teams): read and search. Mounted before the generic routes."""

from __future__ import annotations

from fastapi import APIRouter, Request

from rhip.fhir import care_team
from rhip.fhir.endpoints import _base, _check_format, _params, fhir_response
from rhip.kit.http import DbSession
from rhip.security.deps import Who

router = APIRouter(prefix="/fhir", tags=["FHIR R4"])


@router.get("/CareTeam/{rid}", summary="read CareTeam (a family-doctor team)")
def read_care_team(rid: str, request: Request, s: DbSession, who: Who):
    _check_format(request)
    return fhir_response(care_team.read_care_team(s, who, rid))


@router.get("/CareTeam", summary="search CareTeam (_id, participant, patient)")
def search_care_team(request: Request, s: DbSession, who: Who):
    _check_format(request)
    return fhir_response(care_team.search_care_teams(s, who, _params(request), _base(request)))
