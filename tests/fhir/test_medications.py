"""FHIR MedicationRequest and MedicationStatement over the shared health record."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlalchemy import select

from rhip.fhir.bulk import export
from rhip.fhir.validation import validate
from rhip.records.models_medication import MedicationRequest, MedicationStatement
from rhip.security.models import AuditEvent
from rhip.security.service import system_principal
from tests.fhir.test_records import encounter
from tests.fhir.support import fh

FHIR = "application/fhir+json"
DRUG = "urn:rhip:cs:drug"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
HIS = "urn:rhip:sid:his:CH411530:rx"
PHIS = "urn:rhip:sid:phis:411530:meds"  # the public-health system's medication history


def dosage(value=5, unit="mg", frequency=1, period=1, period_unit="d"):
    return {"text": "每日1次，每次5mg，口服", "timing": {"repeat": {"frequency": frequency, "period": period,
                                                                 "periodUnit": period_unit}},
            "route": {"text": "口服"}, "doseAndRate": [{"doseQuantity": {"value": value, "unit": unit}}]}


def rx(county, source="RX0001", code="XC08CAA001", when="2026-03-02T09:45:00+08:00", rid_key="zhang",
       enc_id=None, **over):
    m = {"resourceType": "MedicationRequest", "identifier": [{"system": HIS, "value": source}], "status": "active",
         "intent": "order",
         "medicationCodeableConcept": {"coding": [{"system": DRUG, "code": code, "display": "氨氯地平片"}]},
         "subject": {"reference": f"Patient/{county.residents[rid_key]}"}, "authoredOn": when,
         "requester": {"reference": "Practitioner/2"},
         "reasonCode": [{"coding": [{"system": ICD10, "code": "I10"}], "text": "高血压"}],
         "dosageInstruction": [dosage()]}
    if enc_id:
        m["encounter"] = {"reference": f"Encounter/{enc_id}"}
    m.update(over)
    return m


def statement(county, source="MS0001", code="XA10BAA001", start="2025-06-01", end=None, rid_key="zhang", **over):
    period = {"start": start, **({"end": end} if end else {})}
    m = {"resourceType": "MedicationStatement", "identifier": [{"system": PHIS, "value": source}],
         "status": "active",
         "medicationCodeableConcept": {"coding": [{"system": DRUG, "code": code, "display": "二甲双胍片"}]},
         "subject": {"reference": f"Patient/{county.residents[rid_key]}"}, "effectivePeriod": period,
         "informationSource": {"reference": "Practitioner/1"},
         "reasonCode": [{"coding": [{"system": ICD10, "code": "E11.9"}]}],
         "dosage": [dosage(0.5, "g", 2)]}
    m.update(over)
    return m


def _encounter(client, county, rid_key="zhang", source="V0001"):
    r = client.post("/fhir/Encounter", json=encounter(county, rid_key, source), headers=fh(county))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_medication_request_round_trip_and_stored_row(client, county, db):
    enc = _encounter(client, county)
    r = client.post("/fhir/MedicationRequest", json=rx(county, enc_id=enc), headers=fh(county))
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["medicationCodeableConcept"]["coding"][0] == {"system": DRUG, "code": "XC08CAA001",
                                                             "display": "氨氯地平片"}
    assert (out["status"], out["intent"], out["authoredOn"]) == ("active", "order", "2026-03-02T09:45:00+08:00")
    assert out["dosageInstruction"] == [dosage()]
    assert out["reasonCode"] == [{"coding": [{"system": ICD10, "code": "I10"}], "text": "高血压"}]
    assert out["requester"] == {"reference": "Practitioner/2"} and out["encounter"] == {"reference":
                                                                                        f"Encounter/{enc}"}
    assert validate(out, "MedicationRequest")["id"] == out["id"]
    with db.read_only() as s:
        row = s.get(MedicationRequest, int(out["id"]))
        assert (row.resident_id, row.encounter_id, row.practitioner_id, row.status, row.intent, row.code_system,
                row.code, row.display, row.authored_on, row.dose_value, row.dose_unit, row.frequency, row.period,
                row.period_unit, row.route, row.reason_code, row.reason_text, row.source_system, row.source_id) == \
            (county.residents["zhang"], int(enc), 2, "active", "order", DRUG, "XC08CAA001", "氨氯地平片",
             datetime(2026, 3, 2, 9, 45), 5.0, "mg", 1, 1.0, "d", "口服", "I10", "高血压", HIS, "RX0001")
    got = client.get(f"/fhir/MedicationRequest/{out['id']}", headers=fh(county))
    assert got.status_code == 200 and got.json() == out


def test_medication_statement_round_trip_and_stored_row(client, county, db):
    r = client.post("/fhir/MedicationStatement", json=statement(county, end="2026-02-28"), headers=fh(county))
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["effectivePeriod"] == {"start": "2025-06-01", "end": "2026-02-28"}
    assert out["dosage"] == [dosage(0.5, "g", 2)] and out["informationSource"] == {"reference": "Practitioner/1"}
    assert out["reasonCode"] == [{"coding": [{"system": ICD10, "code": "E11.9"}]}]
    assert validate(out, "MedicationStatement")["id"] == out["id"]
    with db.read_only() as s:
        row = s.get(MedicationStatement, int(out["id"]))
        assert (row.resident_id, row.practitioner_id, row.status, row.code, row.effective_start, row.effective_end,
                row.dose_value, row.dose_unit, row.frequency, row.source_system, row.source_id) == \
            (county.residents["zhang"], 1, "active", "XA10BAA001", date(2025, 6, 1), date(2026, 2, 28), 0.5, "g", 2,
             PHIS, "MS0001")
    got = client.get(f"/fhir/MedicationStatement/{out['id']}", headers=fh(county))
    assert got.status_code == 200 and got.json() == out


def test_any_code_system_is_accepted(client, county):
    other = {"coding": [{"system": "http://www.whocc.no/atc", "code": "C08CA01", "display": "amlodipine"}]}
    r = client.post("/fhir/MedicationRequest", json=rx(county, medicationCodeableConcept=other), headers=fh(county))
    assert r.status_code == 201, r.text
    assert r.json()["medicationCodeableConcept"] == other


@pytest.mark.parametrize("rtype,body", [("MedicationRequest", rx), ("MedicationStatement", statement)])
def test_re_sending_the_same_source_record_updates_it(client, county, db, rtype, body):
    model = {"MedicationRequest": MedicationRequest, "MedicationStatement": MedicationStatement}[rtype]
    first = client.post(f"/fhir/{rtype}", json=body(county), headers=fh(county))
    again = client.post(f"/fhir/{rtype}", json=body(county, status="completed"), headers=fh(county))
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["id"] == first.json()["id"] and again.json()["meta"]["versionId"] == "2"
    assert again.json()["status"] == "completed"
    with db.read_only() as s:
        assert len(s.scalars(select(model.id)).all()) == 1


def test_search_medication_requests(client, county):
    h = fh(county)
    enc = _encounter(client, county)
    for i, (code, when, intent) in enumerate([("XC08CAA001", "2026-03-02T09:45:00+08:00", "order"),
                                              ("XC08CAA001", "2026-04-01T10:00:00+08:00", "order"),
                                              ("XA10BAA001", "2026-03-02T09:50:00+08:00", "plan"),
                                              ("XC08CAA001", "2026-05-06T08:00:00+08:00", "order")]):
        r = client.post("/fhir/MedicationRequest", json=rx(county, f"RX{i}", code, when, intent=intent,
                                                           enc_id=enc if i == 0 else None), headers=h)
        assert r.status_code == 201, r.text
    pid = county.residents["zhang"]

    def search(**params):
        b = client.get("/fhir/MedicationRequest", params=params, headers=h)
        assert b.status_code == 200, b.text
        return b.json()

    amlo = search(patient=f"Patient/{pid}", code=f"{DRUG}|XC08CAA001")
    assert amlo["total"] == 3
    assert [e["resource"]["authoredOn"][:10] for e in amlo["entry"]] == ["2026-05-06", "2026-04-01", "2026-03-02"]
    spring = client.get("/fhir/MedicationRequest", params=[("patient", pid), ("code", "XC08CAA001"),
                                                           ("authoredon", "ge2026-03-03"),
                                                           ("authoredon", "lt2026-05")], headers=h).json()
    assert [e["resource"]["authoredOn"][:10] for e in spring["entry"]] == ["2026-04-01"]
    assert {e["resource"]["medicationCodeableConcept"]["coding"][0]["code"]
            for e in search(patient=pid, authoredon="2026-03-02")["entry"]} == {"XC08CAA001", "XA10BAA001"}
    assert search(patient=pid, intent="plan")["total"] == 1
    assert search(patient=pid, status="completed")["total"] == 0
    assert search(encounter=f"Encounter/{enc}")["total"] == 1
    one = search(patient=pid)["entry"][0]["resource"]["id"]
    assert search(_id=one)["total"] == 1
    assert client.get("/fhir/MedicationRequest", params={"date": "2026"}, headers=h).status_code == 400


def test_search_medication_statements(client, county):
    h = fh(county)
    for i, (code, start) in enumerate([("XA10BAA001", "2025-06-01"), ("XC08CAA001", "2026-01-10"),
                                       ("XA10BAA001", "2024-02-01")]):
        r = client.post("/fhir/MedicationStatement", json=statement(county, f"MS{i}", code, start), headers=h)
        assert r.status_code == 201, r.text
    pid = county.residents["zhang"]

    def search(params):
        b = client.get("/fhir/MedicationStatement", params=params, headers=h)
        assert b.status_code == 200, b.text
        return [e["resource"]["effectivePeriod"]["start"] for e in b.json()["entry"]]

    assert search({"patient": pid, "code": "XA10BAA001"}) == ["2025-06-01", "2024-02-01"]
    assert search([("patient", f"Patient/{pid}"), ("code", f"{DRUG}|XA10BAA001"), ("effective", "ge2025")]) == \
        ["2025-06-01"]
    assert search({"patient": pid, "effective": "2026-01-10"}) == ["2026-01-10"]
    assert search({"patient": pid, "status": "stopped"}) == []
    assert client.get("/fhir/MedicationStatement", params={"intent": "order"}, headers=h).status_code == 400


@pytest.mark.parametrize("rtype,change,expression", [
    ("MedicationRequest", {"status": "prescribed"}, "MedicationRequest.status"),
    ("MedicationRequest", {"intent": "prescription"}, "MedicationRequest.intent"),
    ("MedicationRequest", {"dosageInstruction": [dosage(period_unit="day")]},
     "MedicationRequest.dosageInstruction[0].timing.repeat.periodUnit"),
    ("MedicationStatement", {"status": "taking"}, "MedicationStatement.status"),
])
def test_required_value_sets(client, county, db, rtype, change, expression):
    body = (rx if rtype == "MedicationRequest" else statement)(county, **change)
    r = client.post(f"/fhir/{rtype}", json=body, headers=fh(county))
    assert r.status_code == 422, r.text
    issue = r.json()["issue"][0]
    assert issue["code"] == "code-invalid" and issue["expression"] == [expression], issue
    assert "required value set" in issue["diagnostics"]
    with db.read_only() as s:
        assert s.scalars(select(MedicationRequest.id)).all() == []
        assert s.scalars(select(MedicationStatement.id)).all() == []


@pytest.mark.parametrize("rtype,change,expression,fragment", [
    ("MedicationRequest", {"dosageInstruction": [dosage(value=0)]},
     "MedicationRequest.dosageInstruction[0].doseAndRate[0].doseQuantity.value", "must be greater than 0"),
    ("MedicationRequest", {"dosageInstruction": [dosage(frequency=1, period=1, period_unit="h")]},
     "MedicationRequest.dosageInstruction[0].timing.repeat", "plausible daily frequency 1–12"),
    ("MedicationStatement", {"dosage": [dosage(frequency=13)]},
     "MedicationStatement.dosage[0].timing.repeat", "13 a day"),
    ("MedicationStatement", {"effectivePeriod": {"start": "2025-06-01", "end": "2025-05-31"}},
     "MedicationStatement.effectivePeriod.end", "before effectivePeriod.start"),
    ("MedicationRequest", {"dosageInstruction": [dosage(period_unit="mo")]},
     "MedicationRequest.dosageInstruction[0].timing.repeat.periodUnit", "use h, d or wk"),
    ("MedicationRequest", {"authoredOn": None}, "MedicationRequest.authoredOn", "is required"),
    ("MedicationRequest", {"medicationCodeableConcept": None, "medicationReference": {"reference": "Medication/1"}},
     "MedicationRequest.medicationReference", "medicationCodeableConcept"),
    ("MedicationStatement", {"subject": {"reference": "Patient/999999"}}, "MedicationStatement.subject",
     "does not exist"),
])
def test_implausible_or_unsupported_medications_are_refused(client, county, db, rtype, change, expression,
                                                            fragment):
    body = (rx if rtype == "MedicationRequest" else statement)(county)
    for k, v in change.items():
        if v is None:
            body.pop(k)
        else:
            body[k] = v
    r = client.post(f"/fhir/{rtype}", json=body, headers=fh(county))
    assert r.status_code == 422, r.text
    match = [i for i in r.json()["issue"] if i.get("expression") == [expression]]
    assert match and fragment in match[0]["diagnostics"], r.json()
    with db.read_only() as s:
        assert s.scalars(select(MedicationRequest.id)).all() == []
        assert s.scalars(select(MedicationStatement.id)).all() == []


def test_dose_refusal_is_bilingual(client, county):
    r = client.post("/fhir/MedicationRequest", json=rx(county, dosageInstruction=[dosage(value=-1)]),
                    headers=fh(county))
    assert r.status_code == 422
    assert "必须大于0" in r.json()["issue"][0]["diagnostics"]


def test_reference_to_another_patients_encounter_is_refused(client, county, db):
    other = _encounter(client, county, rid_key="li", source="V-LI")
    r = client.post("/fhir/MedicationRequest", json=rx(county, enc_id=other), headers=fh(county))
    assert r.status_code == 422, r.text
    assert r.json()["issue"][0]["expression"] == ["MedicationRequest.encounter"]
    assert "another patient" in r.json()["issue"][0]["diagnostics"]
    s_body = statement(county, context={"reference": f"Encounter/{other}"})
    r = client.post("/fhir/MedicationStatement", json=s_body, headers=fh(county))
    assert r.status_code == 422, r.text
    assert r.json()["issue"][0]["expression"] == ["MedicationStatement.context"]
    with db.read_only() as s:
        assert s.scalars(select(MedicationRequest.id)).all() == []
        assert s.scalars(select(MedicationStatement.id)).all() == []


def test_unknown_requester_names_the_element(client, county):
    r = client.post("/fhir/MedicationRequest", json=rx(county, requester={"reference": "Practitioner/999"}),
                    headers=fh(county))
    assert r.status_code == 422 and r.json()["issue"][0]["expression"] == ["MedicationRequest.requester"]


@pytest.mark.parametrize("rtype,body", [("MedicationRequest", rx), ("MedicationStatement", statement)])
def test_medications_follow_the_patients_scope_and_are_audited(client, county, db, rtype, body):
    r = client.post(f"/fhir/{rtype}", json=body(county, rid_key="out", source="OUT1"), headers=fh(county))
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    assert client.get(f"/fhir/{rtype}/{mid}", headers=fh(county, "village_doctor")).status_code == 404
    assert client.get(f"/fhir/{rtype}", headers=fh(county, "village_doctor")).json()["total"] == 0
    assert client.get(f"/fhir/{rtype}/{mid}", headers=fh(county)).status_code == 200
    with db.read_only() as s:
        denied = s.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied",
                                                    AuditEvent.action == f"{rtype.lower()}.read")).all()
        assert len(denied) == 1


def test_bulk_export_and_everything_include_medications(client, county, db, tmp_path):
    h = fh(county)
    assert client.post("/fhir/MedicationRequest", json=rx(county), headers=h).status_code == 201
    assert client.post("/fhir/MedicationStatement", json=statement(county), headers=h).status_code == 201
    counts = export(db, system_principal("test"), tmp_path / "all")
    assert (counts["MedicationRequest"], counts["MedicationStatement"]) == (1, 1)
    for rtype in ("MedicationRequest", "MedicationStatement"):
        lines = (tmp_path / "all" / f"{rtype}.ndjson").read_text(encoding="utf-8").splitlines()
        assert len(lines) == 1
        res = json.loads(lines[0])
        assert res["resourceType"] == rtype and validate(res, rtype)["id"] == res["id"]
    everything = client.get(f"/fhir/Patient/{county.residents['zhang']}/$everything", headers=h).json()
    types = [e["resource"]["resourceType"] for e in everything["entry"]]
    assert "MedicationRequest" in types and "MedicationStatement" in types
