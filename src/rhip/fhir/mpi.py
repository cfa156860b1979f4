"""FHIR views of the master patient index: Patient.link on read and the ``Patient/$match`` operation
(FHIR R4 §8.1.21: POST a Parameters resource with a Patient; a searchset Bundle comes back, each entry with
``search.score`` and the ``match-grade`` extension)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from rhip.fhir import identifiers as ids
from rhip.fhir.errors import FhirError, Issue, from_rhip_error
from rhip.fhir.mappers.patient import GENDER_FROM_FHIR, PatientMapper
from rhip.fhir.validation import validate
from rhip.kit.errors import RhipError
from rhip.mpi import service as mpi
from rhip.security.service import Principal

MATCH_GRADE_EXT = "http://hl7.org/fhir/StructureDefinition/match-grade"
QUERY_PATHS = {"name": "Patient.name", "id_number": "Patient.identifier", "birth_date": "Patient.birthDate",
               "phone": "Patient.telecom", "sex": "Patient.gender", "village_code": "Patient.address",
               "count": "Parameters.parameter.count"}


def with_links(s: Session, patient: dict) -> dict:
    """Patient.link from the MPI: replaced-by / replaces / seealso other registrations of the same person."""
    links = mpi.patient_links(s, int(patient["id"]))
    if links:
        patient["link"] = [{"other": {"reference": f"Patient/{rid}"}, "type": kind} for rid, kind in links]
    return patient


def link_facility_ids(s: Session, who: Principal, resident_id: int, patient: dict) -> None:
    """A facility's own patient numbers (``urn:rhip:sid:patient:<org code>``) become source records linked
    to the person of the new registration."""
    for ident in patient.get("identifier", []):
        system, value = ident.get("system") or "", ident.get("value")
        if system.startswith(ids.FACILITY_PATIENT_PREFIX) and value:
            mpi.link_source_record(s, who, resident_id, system, value)


def _query_of(p: dict) -> dict:
    names = p.get("name") or []
    official = next((n for n in names if n.get("use") == "official"), names[0] if names else None)
    data: dict = {}
    if official is not None:
        data["name"] = official.get("text") or (official.get("family", "") + "".join(official.get("given", [])))
    idn = next((i.get("value") for i in p.get("identifier", []) if i.get("system") == ids.RESIDENT_ID_NUMBER), None)
    if idn is not None:
        data["id_number"] = idn
    if p.get("gender"):
        data["sex"] = GENDER_FROM_FHIR.get(p["gender"])
    if p.get("birthDate"):
        data["birth_date"] = p["birthDate"]
    data["phones"] = [t["value"] for t in p.get("telecom", []) if t.get("system") == "phone" and t.get("value")]
    for a in p.get("address", []):
        for ext in a.get("extension", []):
            if ext.get("url") == ids.DIVISION_CODE_EXT:
                data["village_code"] = ext.get("valueCode")
    return data


def _parameters(body: dict) -> tuple[dict, bool, int | None]:
    if body.get("resourceType") != "Parameters":
        raise FhirError(400, [Issue("invalid", "Patient/$match takes a Parameters resource with a 'resource' "
                                               "parameter holding the Patient", "resourceType")])
    patient, only_certain, count = None, False, None
    for prm in body.get("parameter") or []:
        name = prm.get("name")
        if name == "resource":
            patient = prm.get("resource")
        elif name == "onlyCertainMatches":
            if not isinstance(prm.get("valueBoolean"), bool):
                raise FhirError(400, [Issue("value", "onlyCertainMatches needs valueBoolean",
                                            "Parameters.parameter.onlyCertainMatches")])
            only_certain = prm["valueBoolean"]
        elif name == "count":
            count = prm.get("valueInteger")
            if not isinstance(count, int) or isinstance(count, bool):
                raise FhirError(400, [Issue("value", "count needs valueInteger", "Parameters.parameter.count")])
        else:
            raise FhirError(400, [Issue("not-supported", f"parameter {name!r} is not supported by $match "
                                                         "(resource, onlyCertainMatches, count)", "Parameters.parameter")])
    if not isinstance(patient, dict):
        raise FhirError(400, [Issue("required", "parameter 'resource' with a Patient is required",
                                    "Parameters.parameter.resource")])
    return patient, only_certain, count


def patient_match(s: Session, who: Principal, body: dict, base: str) -> dict:
    patient, only_certain, count = _parameters(body)
    resource = validate(patient, "Patient")
    try:
        found = mpi.match_query(s, who, _query_of(resource), count=count, only_certain=only_certain)
    except RhipError as e:
        if e.errors:
            raise FhirError(422 if e.http_status == 422 else e.http_status,
                            [Issue("value" if fe.code != "query.nothing_to_match" else "required",
                                   f"{fe.message_en} ({fe.message_zh})", QUERY_PATHS.get(fe.field, fe.field))
                             for fe in e.errors]) from None
        raise from_rhip_error(e, "Patient") from None
    entries = []
    for m in found:
        p = PatientMapper.to_fhir(m.resident)
        entries.append({"fullUrl": f"{base}/Patient/{p['id']}", "resource": p,
                        "search": {"extension": [{"url": MATCH_GRADE_EXT, "valueCode": m.grade}],
                                   "mode": "match", "score": round(m.probability, 6)}})
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}
