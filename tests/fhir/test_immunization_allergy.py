"""FHIR Immunization and AllergyIntolerance over the shared health record."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from rhip.fhir.validation import validate
from rhip.records.models_immunization import AllergyIntolerance, Immunization
from rhip.security.models import AuditEvent
from tests.fhir.support import fh

FHIR = "application/fhir+json"
VACCINE = "urn:rhip:cs:vaccine"
CVX = "http://hl7.org/fhir/sid/cvx"
EPI = "urn:rhip:sid:epi:411530"  # the immunization information system's record ids
HIS = "urn:rhip:sid:his:CH411530:allergy"


def dose(county, code="HepB", n=1, when="2022-02-03", source="IM0001", rid_key="child", **over):
    im = {"resourceType": "Immunization", "identifier": [{"system": EPI, "value": source}], "status": "completed",
          "vaccineCode": {"coding": [{"system": VACCINE, "code": code}]},
          "patient": {"reference": f"Patient/{county.residents[rid_key]}"}, "occurrenceDateTime": when,
          "lotNumber": "202201A", "site": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActSite",
                                                        "code": "RD"}]},
          "performer": [{"actor": {"reference": f"Organization/{county.org['thc1']}"}}],
          "protocolApplied": [{"doseNumberPositiveInt": n}]}
    im.update(over)
    return im


def allergy(county, source="AL1", **over):
    a = {"resourceType": "AllergyIntolerance", "identifier": [{"system": HIS, "value": source}],
         "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                                        "code": "active"}]},
         "verificationStatus": {"coding": [{"system":
                                            "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                                            "code": "confirmed"}]},
         "type": "allergy", "category": ["medication"], "criticality": "high",
         "code": {"coding": [{"system": "urn:rhip:cs:drug", "code": "penicillin", "display": "青霉素"}]},
         "patient": {"reference": f"Patient/{county.residents['wang']}"}, "recordedDate": "2019-05-03",
         "reaction": [{"description": "皮疹", "manifestation": [{"text": "皮疹"}]}]}
    a.update(over)
    return a


def test_immunization_round_trip_and_stored_row(client, county, db):
    r = client.post("/fhir/Immunization", json=dose(county), headers=fh(county))
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["vaccineCode"]["coding"][0] == {"system": VACCINE, "code": "HepB", "display": "乙肝疫苗"}
    assert out["occurrenceDateTime"] == "2022-02-03" and out["protocolApplied"] == [{"doseNumberPositiveInt": 1}]
    assert out["site"]["coding"][0]["code"] == "RD"
    assert out["performer"] == [{"actor": {"reference": f"Organization/{county.org['thc1']}"}}]
    assert validate(out, "Immunization")["id"] == out["id"]
    with db.read_only() as s:
        row = s.get(Immunization, int(out["id"]))
        assert (row.resident_id, row.org_id, row.vaccine_system, row.vaccine_code, row.dose_number,
                row.occurrence_date, row.lot_number, row.site, row.status, row.source_system, row.source_id) == \
            (county.residents["child"], county.org["thc1"], VACCINE, "HepB", 1, date(2022, 2, 3), "202201A", "RD",
             "completed", EPI, "IM0001")
    got = client.get(f"/fhir/Immunization/{out['id']}", headers=fh(county))
    assert got.status_code == 200 and got.json() == out


def test_immunization_with_cvx_is_accepted(client, county):
    body = dose(county, source="IM-CVX", vaccineCode={"coding": [{"system": CVX, "code": "08",
                                                                   "display": "Hep B, adolescent or pediatric"}]})
    r = client.post("/fhir/Immunization", json=body, headers=fh(county))
    assert r.status_code == 201, r.text
    assert r.json()["vaccineCode"]["coding"][0]["system"] == CVX


def test_re_sending_the_same_immunization_updates_it(client, county, db):
    first = client.post("/fhir/Immunization", json=dose(county), headers=fh(county))
    again = client.post("/fhir/Immunization", json=dose(county, lotNumber="202201B"), headers=fh(county))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["meta"]["versionId"] == "2"
    assert again.json()["lotNumber"] == "202201B"
    with db.read_only() as s:
        assert len(s.scalars(select(Immunization.id)).all()) == 1


def test_search_immunizations_by_patient_vaccine_code_and_date(client, county):
    h = fh(county)
    for i, (code, n, day) in enumerate([("HepB", 1, "2022-02-03"), ("HepB", 2, "2022-03-05"),
                                        ("BCG", 1, "2022-02-03"), ("HepB", 3, "2022-08-04")]):
        r = client.post("/fhir/Immunization", json=dose(county, code, n, day, f"IM{i}"), headers=h)
        assert r.status_code == 201, r.text
    pid = county.residents["child"]
    hepb = client.get("/fhir/Immunization", params={"patient": f"Patient/{pid}", "vaccine-code": f"{VACCINE}|HepB"},
                      headers=h).json()
    assert hepb["total"] == 3
    assert [e["resource"]["protocolApplied"][0]["doseNumberPositiveInt"] for e in hepb["entry"]] == [3, 2, 1]
    early = client.get("/fhir/Immunization", params=[("patient", pid), ("vaccine-code", "HepB"),
                                                     ("date", "ge2022-02-04"), ("date", "lt2022-08")], headers=h).json()
    assert [e["resource"]["occurrenceDateTime"] for e in early["entry"]] == ["2022-03-05"]
    on_day = client.get("/fhir/Immunization", params={"patient": pid, "date": "2022-02-03"}, headers=h).json()
    assert {e["resource"]["vaccineCode"]["coding"][0]["code"] for e in on_day["entry"]} == {"HepB", "BCG"}
    assert client.get("/fhir/Immunization", params={"patient": pid, "status": "not-done"}, headers=h).json()[
        "total"] == 0
    assert client.get("/fhir/Immunization", params={"code": "HepB"}, headers=h).status_code == 400


@pytest.mark.parametrize("change,status,expression,fragment", [
    ({"status": "given"}, 422, "Immunization.status", "required value set"),
    ({"occurrenceDateTime": "2021-12-31"}, 422, "Immunization.occurrenceDateTime", "before the patient's birth"),
    ({"protocolApplied": [{"doseNumberPositiveInt": 12}]}, 422,
     "Immunization.protocolApplied[0].doseNumberPositiveInt", "plausible range 1–10"),
    ({"vaccineCode": {"coding": [{"system": VACCINE, "code": "HPV"}]}}, 422, "Immunization.vaccineCode",
     "is not one of"),
    ({"patient": {"reference": "Patient/999999"}}, 422, None, "does not exist"),
])
def test_bad_immunizations_are_refused_and_nothing_is_stored(client, county, db, change, status, expression,
                                                             fragment):
    r = client.post("/fhir/Immunization", json=dose(county, **change), headers=fh(county))
    assert r.status_code == status, r.text
    issues = r.json()["issue"]
    match = [i for i in issues if expression is None or i.get("expression") == [expression]]
    assert match and fragment in match[0]["diagnostics"], issues
    with db.read_only() as s:
        assert s.scalars(select(Immunization.id)).all() == []


def test_dose_before_birth_is_refused_in_both_languages(client, county):
    r = client.post("/fhir/Immunization", json=dose(county, when="2022-02-02"), headers=fh(county))
    assert r.status_code == 422
    issue = r.json()["issue"][0]
    assert issue["expression"] == ["Immunization.occurrenceDateTime"]
    assert "2022-02-02" in issue["diagnostics"] and "早于出生日期2022-02-03" in issue["diagnostics"]


def test_immunization_follows_the_patients_scope_and_is_audited(client, county, db):
    r = client.post("/fhir/Immunization", json=dose(county, when="2026-03-01", rid_key="out", source="OUT1"),
                    headers=fh(county))
    assert r.status_code == 201, r.text
    iid = r.json()["id"]
    assert client.get(f"/fhir/Immunization/{iid}", headers=fh(county, "village_doctor")).status_code == 404
    assert client.get("/fhir/Immunization", headers=fh(county, "village_doctor")).json()["total"] == 0
    with db.read_only() as s:
        denied = s.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied",
                                                    AuditEvent.action == "immunization.read")).all()
        assert len(denied) == 1


def test_allergy_round_trip_search_and_update(client, county, db):
    h = fh(county)
    r = client.post("/fhir/AllergyIntolerance", json=allergy(county), headers=h)
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["type"], out["category"], out["criticality"], out["recordedDate"]) == \
        ("allergy", ["medication"], "high", "2019-05-03")
    assert out["reaction"][0]["description"] == "皮疹"
    assert validate(out, "AllergyIntolerance")["id"] == out["id"]
    with db.read_only() as s:
        row = s.get(AllergyIntolerance, int(out["id"]))
        assert (row.resident_id, row.code, row.display, row.clinical_status, row.verification_status, row.category,
                row.recorded_date, row.reaction) == (county.residents["wang"], "penicillin", "青霉素", "active",
                                                     "confirmed", "medication", date(2019, 5, 3), "皮疹")
    assert client.get(f"/fhir/AllergyIntolerance/{out['id']}", headers=h).json() == out
    pid = county.residents["wang"]
    for params, total in [({"patient": pid, "code": "penicillin"}, 1), ({"patient": pid, "category": "food"}, 0),
                          ({"patient": pid, "clinical-status": "active"}, 1), ({"_id": out["id"]}, 1)]:
        assert client.get("/fhir/AllergyIntolerance", params=params, headers=h).json()["total"] == total, params
    resolved = allergy(county, clinicalStatus={"coding": [{"code": "resolved"}]})
    again = client.post("/fhir/AllergyIntolerance", json=resolved, headers=h)
    assert again.status_code == 200 and again.json()["id"] == out["id"] and again.json()["meta"]["versionId"] == "2"
    assert client.get("/fhir/AllergyIntolerance", params={"patient": pid, "clinical-status": "active"},
                      headers=h).json()["total"] == 0


@pytest.mark.parametrize("change,expression", [
    ({"clinicalStatus": {"coding": [{"code": "cured"}]}}, "AllergyIntolerance.clinicalStatus.coding[0].code"),
    ({"verificationStatus": {"coding": [{"code": "maybe"}]}}, "AllergyIntolerance.verificationStatus.coding[0].code"),
    ({"type": "sensitivity"}, "AllergyIntolerance.type"),
    ({"category": ["drug"]}, "AllergyIntolerance.category[0]"),
    ({"criticality": "severe"}, "AllergyIntolerance.criticality"),
])
def test_allergy_required_value_sets(client, county, db, change, expression):
    r = client.post("/fhir/AllergyIntolerance", json=allergy(county, **change), headers=fh(county))
    assert r.status_code == 422, r.text
    issue = r.json()["issue"][0]
    assert issue["code"] == "code-invalid" and issue["expression"] == [expression]
    with db.read_only() as s:
        assert s.scalars(select(AllergyIntolerance.id)).all() == []
