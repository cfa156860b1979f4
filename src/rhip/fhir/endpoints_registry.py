"""FHIR routes for the registry's reference data (read + search): Organization, Practitioner,
PractitionerRole, Location. Routes only adapt HTTP to ``fhir.registry_resources``.

Mount this router *before* the generic ``/fhir/{rtype}`` routes of ``fhir.endpoints`` (they would otherwise
answer these paths), and add ``registry_resources.CAPABILITY`` to the CapabilityStatement.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from rhip.fhir import registry_resources as rr
from rhip.fhir.endpoints import _base, _check_format, _params, fhir_response
from rhip.kit.http import DbSession
from rhip.security.deps import Who

CAPABILITY = rr.CAPABILITY
router = APIRouter(prefix="/fhir", tags=["FHIR R4"])


@router.get("/Organization/{rid}", summary="read Organization")
def read_organization(rid: str, request: Request, s: DbSession, who: Who):
    _check_format(request)
    return fhir_response(rr.read_organization(s, who, rid))


@router.get("/Organization", summary="search Organization")
def search_organization(request: Request, s: DbSession, who: Who):
    _check_format(request)
    return fhir_response(rr.search_organizations(s, who, _params(request), _base(request)))


@router.get("/Practitioner/{rid}", summary="read Practitioner (with the ID number)")
def read_practitioner(rid: str, request: Request, s: DbSession, who: Who):
    _check_format(request)
    return fhir_response(rr.read_practitioner(s, who, rid))


@router.get("/Practitioner", summary="search Practitioner (results leave out the ID number)")
def search_practitioner(request: Request, s: DbSession, who: Who):
    _check_format(request)
    return fhir_response(rr.search_practitioners(s, who, _params(request), _base(request)))


@router.get("/PractitionerRole/{rid}", summary="read PractitionerRole (id: <practitioner id>-<organization id>)")
def read_practitioner_role(rid: str, request: Request, s: DbSession, who: Who):
    _check_format(request)
    return fhir_response(rr.read_practitioner_role(s, who, rid))


@router.get("/PractitionerRole", summary="search PractitionerRole")
def search_practitioner_role(request: Request, s: DbSession, who: Who):
    _check_format(request)
    return fhir_response(rr.search_practitioner_roles(s, who, _params(request), _base(request)))


@router.get("/Location/{rid}", summary="read Location (an administrative division, id = 12-digit code)")
def read_location(rid: str, request: Request, s: DbSession, who: Who):
    _check_format(request)
    return fhir_response(rr.read_location(s, who, rid))


@router.get("/Location", summary="search Location")
def search_location(request: Request, s: DbSession, who: Who):
    _check_format(request)
    return fhir_response(rr.search_locations(s, who, _params(request), _base(request)))
