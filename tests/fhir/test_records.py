"""FHIR Encounter, Condition and Observation over the shared health record."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from rhip.fhir.validation import validate
from rhip.records.models import Observation, ObservationComponent
from rhip.security.models import AuditEvent, AuditSubject
from tests.fhir.support import fh

GOLDEN = Path(__file__).parent / "golden"
FHIR = "application/fhir+json"
LOINC = "http://loinc.org"
HIS = "urn:rhip:sid:his:CH411530:visit"


def encounter(county, rid_key="zhang", source="V0001", **over):
    e = {"resourceType": "Encounter", "identifier": [{"system": HIS, "value": source}], "status": "finished",
         "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
         "type": [{"coding": [{"system": "urn:rhip:cs:encounter-kind", "code": "followup"}]}],
         "subject": {"reference": f"Patient/{county.residents[rid_key]}"},
         "serviceProvider": {"reference": f"Organization/{county.org['thc1']}"},
         "period": {"start": "2026-03-02T09:30:00+08:00", "end": "2026-03-02T09:50:00+08:00"}}
    e.update(over)
    return e


def bp(county, enc_id, sbp=150, dbp=95, source="BP0001", when="2026-03-02T09:40:00+08:00", rid_key="zhang"):
    return {"resourceType": "Observation", "identifier": [{"system": HIS, "value": source}], "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "vital-signs"}]}],
            "code": {"coding": [{"system": LOINC, "code": "85354-9", "display": "Blood pressure panel"}]},
            "subject": {"reference": f"Patient/{county.residents[rid_key]}"},
            **({"encounter": {"reference": f"Encounter/{enc_id}"}} if enc_id else {}),
            "effectiveDateTime": when,
            "component": [
                {"code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
                 "valueQuantity": {"value": sbp, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org",
                                   "code": "mm[Hg]"}},
                {"code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
                 "valueQuantity": {"value": dbp, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org",
                                   "code": "mm[Hg]"}}]}


def test_encounter_and_blood_pressure_round_trip_and_stored_rows(client, county, db):
    r = client.post("/fhir/Encounter", json=encounter(county), headers=fh(county))
    assert r.status_code == 201, r.text
    enc = r.json()
    assert enc["type"][0]["coding"][0]["code"] == "followup" and enc["class"]["code"] == "AMB"
    o = client.post("/fhir/Observation", json=bp(county, enc["id"]), headers=fh(county))
    assert o.status_code == 201, o.text
    obs = o.json()
    assert [c["valueQuantity"]["value"] for c in obs["component"]] == [150, 95]
    assert validate(obs, "Observation")["id"] == obs["id"]
    with db.read_only() as s:
        row = s.get(Observation, int(obs["id"]))
        comps = list(s.scalars(select(ObservationComponent).where(ObservationComponent.observation_id == row.id)
                                .order_by(ObservationComponent.seq)))
        assert (row.resident_id, row.encounter_id, row.code, row.category, row.source_system, row.source_id) == \
            (county.residents["zhang"], int(enc["id"]), "85354-9", "vital-signs", HIS, "BP0001")
        assert [(c.code, c.value, c.unit) for c in comps] == [("8480-6", 150, "mm[Hg]"), ("8462-4", 95, "mm[Hg]")]
    got = client.get(f"/fhir/Observation/{obs['id']}", headers=fh(county)).json()
    assert got == obs


def test_re_sending_the_same_source_record_updates_instead_of_duplicating(client, county, db):
    enc = client.post("/fhir/Encounter", json=encounter(county), headers=fh(county)).json()
    first = client.post("/fhir/Observation", json=bp(county, enc["id"], 150, 95), headers=fh(county))
    again = client.post("/fhir/Observation", json=bp(county, enc["id"], 138, 85), headers=fh(county))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["meta"]["versionId"] == "2"
    assert [c["valueQuantity"]["value"] for c in again.json()["component"]] == [138, 85]
    with db.read_only() as s:
        assert len(s.scalars(select(Observation.id)).all()) == 1


def test_condition_with_icd10(client, county):
    c = {"resourceType": "Condition", "identifier": [{"system": HIS, "value": "DX1"}],
         "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                        "code": "active"}]},
         "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                            "code": "confirmed"}]},
         "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I10", "display": "原发性高血压"}]},
         "subject": {"reference": f"Patient/{county.residents['wang']}"}, "onsetDateTime": "2019-05-01",
         "recordedDate": "2019-05-03"}
    r = client.post("/fhir/Condition", json=c, headers=fh(county))
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["code"]["coding"][0] == {"system": "http://hl7.org/fhir/sid/icd-10", "code": "I10",
                                        "display": "原发性高血压"}
    assert out["category"][0]["coding"][0]["code"] == "problem-list-item"
    found = client.get("/fhir/Condition", params={"patient": county.residents["wang"], "code": "I10"},
                       headers=fh(county)).json()
    assert found["total"] == 1
    bad = {**c, "clinicalStatus": {"coding": [{"code": "cured"}]}, "identifier": [{"system": HIS, "value": "DX2"}]}
    issue = client.post("/fhir/Condition", json=bad, headers=fh(county)).json()["issue"][0]
    assert issue["code"] == "code-invalid" and issue["expression"] == ["Condition.clinicalStatus.coding[0].code"]


def test_search_observations_by_patient_code_and_date(client, county):
    h = fh(county)
    enc = client.post("/fhir/Encounter", json=encounter(county), headers=h).json()
    for i, (day, sbp) in enumerate([("2026-01-10", 150), ("2026-02-10", 145), ("2026-03-10", 132)]):
        r = client.post("/fhir/Observation", json=bp(county, enc["id"], sbp, 90, f"BP{i}", f"{day}T09:00:00+08:00"),
                        headers=h)
        assert r.status_code == 201, r.text
    pid = county.residents["zhang"]
    allbp = client.get("/fhir/Observation", params={"patient": f"Patient/{pid}", "code": f"{LOINC}|85354-9"},
                       headers=h).json()
    assert allbp["total"] == 3
    assert [e["resource"]["effectiveDateTime"][:10] for e in allbp["entry"]] == ["2026-03-10", "2026-02-10",
                                                                                   "2026-01-10"]
    feb_on = client.get("/fhir/Observation", params=[("patient", pid), ("code", "85354-9"), ("date", "ge2026-02"),
                                                     ("date", "lt2026-03-10")], headers=h).json()
    assert [e["resource"]["component"][0]["valueQuantity"]["value"] for e in feb_on["entry"]] == [145]
    by_enc = client.get("/fhir/Observation", params={"encounter": f"Encounter/{enc['id']}"}, headers=h).json()
    assert by_enc["total"] == 3
    assert client.get("/fhir/Observation", params={"flavour": "x"}, headers=h).status_code == 400


@pytest.mark.parametrize("change,status,expression,fragment", [
    ({"status": "done"}, 422, "Observation.status", "required value set"),
    ({"subject": {"reference": "Patient/999999"}}, 422, "Observation.subject", "does not exist"),
    ({"subject": {"reference": "Practitioner/1"}}, 422, "Observation.subject.reference", "Patient/<id>"),
    ({"encounter": {"reference": "Encounter/999999"}}, 422, "Observation.encounter", "does not exist"),
    ({"effectiveDateTime": None}, 422, "Observation.effectiveDateTime", "required"),
])
def test_bad_observations_are_refused_and_nothing_is_stored(client, county, db, change, status, expression,
                                                            fragment):
    body = {k: v for k, v in {**bp(county, None), **change}.items() if v is not None}
    r = client.post("/fhir/Observation", json=body, headers=fh(county))
    assert r.status_code == status, r.text
    issues = r.json()["issue"]
    match = [i for i in issues if i.get("expression") == [expression]]
    assert match and fragment in match[0]["diagnostics"], issues
    with db.read_only() as s:
        assert s.scalars(select(Observation.id)).all() == []


def test_implausible_blood_pressure_is_refused(client, county):
    r = client.post("/fhir/Observation", json=bp(county, None, 400, 95), headers=fh(county))
    assert r.status_code == 422
    assert any("8480-6 value 400" in i["diagnostics"] for i in r.json()["issue"])
    r = client.post("/fhir/Observation", json=bp(county, None, 90, 95, "BPX"), headers=fh(county))
    assert any("must be higher than diastolic" in i["diagnostics"] for i in r.json()["issue"])


def test_records_follow_the_patients_scope_and_are_audited(client, county, db):
    enc = client.post("/fhir/Encounter", json=encounter(county, rid_key="out", source="OUT1"), headers=fh(county))
    assert enc.status_code == 201
    eid = enc.json()["id"]
    assert client.get(f"/fhir/Encounter/{eid}", headers=fh(county, "village_doctor")).status_code == 404
    assert client.get("/fhir/Encounter", headers=fh(county, "village_doctor")).json()["total"] == 0
    refused = client.post("/fhir/Encounter", json=encounter(county, rid_key="out", source="OUT2"),
                          headers=fh(county, "village_doctor"))
    assert refused.status_code == 404
    with db.read_only() as s:
        denied = s.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied")).all()
        assert {e.action for e in denied} >= {"encounter.read", "encounter.write"}
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "encounter.create")).all()[-1]
        assert list(s.scalars(select(AuditSubject.resident_id).where(AuditSubject.event_id == ev.id))) == \
            [county.residents["out"]]


def test_update_record_with_if_match(client, county):
    h = fh(county)
    enc = client.post("/fhir/Encounter", json=encounter(county), headers=h).json()
    enc["status"] = "cancelled"
    ok = client.put(f"/fhir/Encounter/{enc['id']}", json=enc, headers={**h, "If-Match": 'W/"1"'})
    assert ok.status_code == 200 and ok.json()["status"] == "cancelled" and ok.json()["meta"]["versionId"] == "2"
    stale = client.put(f"/fhir/Encounter/{enc['id']}", json=enc, headers={**h, "If-Match": 'W/"1"'})
    assert stale.status_code == 412
    assert client.get("/fhir/Medication/1", headers=h).status_code == 404
