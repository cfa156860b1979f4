"""The FHIR API driven by two independent client libraries against a real server.

A fresh migrated database per backend (SQLite and PostgreSQL, from tests/conftest.py), the small county of
tests/factories.py, and uvicorn serving the app on a loopback port in a background thread. The clients are
``fhirpy`` (Beda Software) and ``fhirclient`` (SMART on FHIR, whose models are R4 4.0.1 and parse every
response strictly — so the tests also show that what the server returns is R4 JSON these clients accept).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fhirpy.base.exceptions import OperationOutcome, ResourceNotFound
from sqlalchemy import select

from rhip.fhir import identifiers as ids
from rhip.records.models import Observation as ObservationRow
from rhip.registry.models import Resident
from tests.fhir.test_records import HIS, LOINC, bp, encounter

GOLDEN = Path(__file__).resolve().parents[1] / "fhir" / "golden"


def _golden_patient() -> dict:
    return json.loads((GOLDEN / "patient_in.json").read_text())


# ---------------------------------------------------------------------------------------------- fhirpy


def test_fhirpy_searches_and_reads_patients(live):
    client = live.fhirpy()
    patients = client.resources("Patient")
    idn = live.id_number("li")
    found = patients.search(identifier=f"{ids.RESIDENT_ID_NUMBER}|{idn}").fetch()
    assert [p["name"][0]["text"] for p in found] == ["李秀英"]
    assert found[0].id == str(live.county.residents["li"])
    assert {p["name"][0]["text"] for p in patients.search(name="王").fetch_all()} == {"王建国", "王小宇"}

    one = client.reference("Patient", str(live.county.residents["zhang"])).to_resource()
    assert one.resource_type == "Patient" and one["gender"] == "female" and one["birthDate"] == "1958-03-14"
    assert one.get_by_path(["address", 0, "extension", 0, "valueCode"]) == live.county.villages[0]
    assert {i["system"]: i["value"] for i in one["identifier"]}[ids.RESIDENT_ID_NUMBER] == live.id_number("zhang")
    assert patients.search(_id=one.id).get()["name"][0]["text"] == "张丽"

    # paging: fhirpy follows the server's next links (absolute URLs on this host) until the end
    paged = patients.search(gender="female").limit(1).fetch_all()
    assert sorted(p["name"][0]["text"] for p in paged) == ["张丽", "李秀英"]
    everyone = patients.limit(2).fetch_all()
    assert len(everyone) == 5 and len({p.id for p in everyone}) == 5


def test_fhirpy_creates_and_updates_a_patient(live):
    client = live.fhirpy()
    p = client.resource("Patient", **_golden_patient())
    p.save()
    assert p.id and p["meta"]["versionId"] == "1"
    assert p["name"][0]["text"] == "欧阳晓燕" and p["gender"] == "female"
    with live.db.read_only() as s:
        row = s.get(Resident, int(p.id))
        assert (row.name, row.id_number, row.village_code, row.source) == \
            ("欧阳晓燕", "411530198807150026", "411530101201", "fhir")

    p["telecom"] = [{"system": "phone", "value": "13600009999", "use": "mobile"}]
    p.save()  # PUT Patient/<id> (fhirpy sends no If-Match)
    assert p["meta"]["versionId"] == "2" and p["telecom"][0]["value"] == "13600009999"
    again = client.reference("Patient", p.id).to_resource()
    assert again["telecom"][0]["value"] == "13600009999" and again["meta"]["versionId"] == "2"
    by_idn = client.resources("Patient").search(identifier=f"{ids.RESIDENT_ID_NUMBER}|411530198807150026").fetch()
    assert [r.id for r in by_idn] == [p.id]


def test_fhirpy_records_an_encounter_and_blood_pressure(live):
    client, county = live.fhirpy(), live.county
    enc = client.resource("Encounter", **encounter(county))
    enc.save()
    assert enc.id and enc["class"]["code"] == "AMB" and enc["type"][0]["coding"][0]["code"] == "followup"

    obs = client.resource("Observation", **bp(county, enc.id))
    obs.save()
    assert obs.id and obs["meta"]["versionId"] == "1"
    assert [c["valueQuantity"]["value"] for c in obs["component"]] == [150, 95]
    assert obs["encounter"]["reference"] == f"Encounter/{enc.id}"

    pid = county.residents["zhang"]
    hits = client.resources("Observation").search(patient=f"Patient/{pid}", code=f"{LOINC}|85354-9").fetch_all()
    assert [h.id for h in hits] == [obs.id]
    assert [c["code"]["coding"][0]["code"] for c in hits[0]["component"]] == ["8480-6", "8462-4"]
    assert client.resources("Observation").search(patient=str(county.residents["wang"])).fetch_all() == []
    by_enc = client.resources("Observation").search(encounter=f"Encounter/{enc.id}", category="vital-signs")
    assert [h.id for h in by_enc.fetch_all()] == [obs.id]

    # re-sending the same source record (same identifier) updates it instead of creating a second one
    resent = client.resource("Observation", **bp(county, enc.id, 138, 85))
    resent.save()
    assert resent.id == obs.id and resent["meta"]["versionId"] == "2"
    assert [c["valueQuantity"]["value"] for c in resent["component"]] == [138, 85]
    with live.db.read_only() as s:
        assert len(s.scalars(select(ObservationRow.id)).all()) == 1


def test_fhirpy_conditional_update_history_and_delete(live):
    client, county = live.fhirpy(), live.county
    his = encounter(county)["identifier"][0]
    search = client.resources("Encounter").search(identifier=f"{his['system']}|{his['value']}")
    enc, created = search.update(client.resource("Encounter", **encounter(county)))
    assert created and enc["meta"]["versionId"] == "1"
    again, created = search.update(client.resource("Encounter", **encounter(county, status="cancelled")))
    assert not created and again.id == enc.id and again["meta"]["versionId"] == "2"
    history = client.execute(f"Encounter/{enc.id}/_history", method="get")
    assert history["type"] == "history" and [e["resource"]["status"] for e in history["entry"]] == [
        "cancelled", "finished"]
    assert client.execute(f"Encounter/{enc.id}/_history/1", method="get")["status"] == "finished"
    again.delete()
    with pytest.raises(ResourceNotFound, match="was deleted"):  # 410 Gone
        client.reference("Encounter", enc.id).to_resource()
    assert client.execute(f"Encounter/{enc.id}/_history/2", method="get")["status"] == "cancelled"


def test_fhirpy_sees_validation_errors_as_operation_outcome(live):
    client = live.fhirpy()
    with pytest.raises(OperationOutcome) as exc:
        client.resource("Patient", **{**_golden_patient(), "gender": "man"}).save()
    outcome = exc.value.resource
    assert outcome["resourceType"] == "OperationOutcome"
    issue = next(i for i in outcome["issue"] if i.get("expression") == ["Patient.gender"])
    assert issue["code"] == "code-invalid" and issue["severity"] == "error"
    assert "required value set" in issue["diagnostics"]

    with pytest.raises(OperationOutcome) as exc:
        client.resources("Patient").search(colour="red").fetch()
    assert exc.value.resource["issue"][0]["expression"] == ["colour"]
    with pytest.raises(OperationOutcome) as exc:  # implausible systolic pressure
        client.resource("Observation", **bp(live.county, None, 400, 95)).save()
    assert any("8480-6 value 400" in i["diagnostics"] for i in exc.value.resource["issue"])
    with live.db.read_only() as s:
        assert s.scalars(select(Resident.id).where(Resident.name == "欧阳晓燕")).all() == []
        assert s.scalars(select(ObservationRow.id)).all() == []


def test_fhirpy_village_doctor_cannot_reach_out_of_scope_patients(live):
    county = live.county
    doctor = live.fhirpy("village_doctor")
    with pytest.raises(ResourceNotFound) as exc:
        doctor.reference("Patient", str(county.residents["out"])).to_resource()
    assert json.loads(str(exc.value))["issue"][0]["code"] == "not-found"
    assert doctor.reference("Patient", str(county.residents["zhang"])).to_resource()["name"][0]["text"] == "张丽"
    visible = {p["name"][0]["text"] for p in doctor.resources("Patient").fetch_all()}
    assert visible == {"张丽", "王建国", "王小宇"}
    assert doctor.resources("Patient").search(identifier=live.id_number("out")).fetch() == []
    # the administrator does see that patient
    assert live.fhirpy().reference("Patient", str(county.residents["out"])).to_resource()["name"][0]["text"] == "刘强"


# ------------------------------------------------------------------------------------------ fhirclient


def _smart(live, key: str | None = "admin"):
    from fhirclient import client

    smart = client.FHIRClient(settings={"app_id": "rhip-tests", "api_base": live.fhir})
    if key:
        smart.server.session.headers["Authorization"] = f"Bearer {live.county.tokens[key]}"
    return smart


def test_fhirclient_reads_capability_and_patients(live):
    from fhirclient.models.patient import Patient
    from fhirclient.server import FHIRUnauthorizedException

    anonymous = _smart(live, key=None)
    anonymous.prepare()  # fetches /fhir/metadata, which needs no token
    cs = anonymous.server.capabilityStatement
    assert cs.fhirVersion == "4.0.1" and cs.kind == "instance"
    resources = {r.type: r for r in cs.rest[0].resource}
    assert set(resources) >= {"Patient", "Encounter", "Condition", "Observation"}
    assert {i.code for i in resources["Patient"].interaction} == {"read", "vread", "history-instance", "history-type",
                                                                   "search-type", "create", "update"}
    with pytest.raises(FHIRUnauthorizedException):  # but the data does
        Patient.read(str(live.county.residents["zhang"]), anonymous.server)

    smart = _smart(live)
    smart.prepare()
    p = Patient.read(str(live.county.residents["zhang"]), smart.server)
    assert p.id == str(live.county.residents["zhang"])
    assert p.name[0].text == "张丽" and p.name[0].family == "张" and p.name[0].given == ["丽"]
    assert p.gender == "female" and p.birthDate.isostring == "1958-03-14"
    assert p.address[0].extension[0].url == ids.DIVISION_CODE_EXT
    assert p.address[0].extension[0].valueCode == live.county.villages[0]
    assert p.telecom[0].value == "13812345678"

    found = list(Patient.where(struct={"name": "张"}).perform_resources_iter(smart.server))
    assert [(r.id, r.name[0].text) for r in found] == [(str(live.county.residents["zhang"]), "张丽")]
    idn = live.id_number("li")
    by_idn = list(Patient.where(struct={"identifier": f"{ids.RESIDENT_ID_NUMBER}|{idn}"})
                  .perform_resources_iter(smart.server))
    assert [r.name[0].text for r in by_idn] == ["李秀英"]


def test_fhirclient_creates_and_reads_back_an_observation(live):
    from fhirclient.models.codeableconcept import CodeableConcept
    from fhirclient.models.coding import Coding
    from fhirclient.models.encounter import Encounter
    from fhirclient.models.fhirdatetime import FHIRDateTime
    from fhirclient.models.fhirreference import FHIRReference
    from fhirclient.models.identifier import Identifier
    from fhirclient.models.observation import Observation, ObservationComponent
    from fhirclient.models.quantity import Quantity

    county = live.county
    smart = _smart(live)
    smart.prepare()
    enc_json = Encounter(jsondict=encounter(county, rid_key="wang", source="V0900")).create(smart.server)
    assert enc_json["resourceType"] == "Encounter" and enc_json["id"]

    def cc(system, code, display=None):
        return CodeableConcept({"coding": [Coding({"system": system, "code": code,
                                                    **({"display": display} if display else {})}).as_json()]})

    def mmhg(value):
        return Quantity({"value": value, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"})

    obs = Observation()
    obs.identifier = [Identifier({"system": HIS, "value": "BP0900"})]
    obs.status = "final"
    obs.category = [cc("http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs")]
    obs.code = cc(LOINC, "85354-9", "Blood pressure panel")
    obs.subject = FHIRReference({"reference": f"Patient/{county.residents['wang']}"})
    obs.encounter = FHIRReference({"reference": f"Encounter/{enc_json['id']}"})
    obs.effectiveDateTime = FHIRDateTime("2026-03-05T10:15:00+08:00")
    sys_, dia = ObservationComponent(), ObservationComponent()
    sys_.code, sys_.valueQuantity = cc(LOINC, "8480-6"), mmhg(142)
    dia.code, dia.valueQuantity = cc(LOINC, "8462-4"), mmhg(88)
    obs.component = [sys_, dia]

    created = obs.create(smart.server)
    assert created["resourceType"] == "Observation" and created["meta"]["versionId"] == "1"
    with live.db.read_only() as s:
        row = s.get(ObservationRow, int(created["id"]))
        assert (row.resident_id, row.encounter_id, row.code, row.source_id) == \
            (county.residents["wang"], int(enc_json["id"]), "85354-9", "BP0900")

    back = Observation.read(created["id"], smart.server)  # parsed strictly by the R4 models
    assert back.status == "final" and back.code.coding[0].code == "85354-9"
    assert back.subject.reference == f"Patient/{county.residents['wang']}"
    assert back.encounter.reference == f"Encounter/{enc_json['id']}"
    assert [(c.code.coding[0].code, c.valueQuantity.value, c.valueQuantity.code) for c in back.component] == \
        [("8480-6", 142, "mm[Hg]"), ("8462-4", 88, "mm[Hg]")]
    assert back.effectiveDateTime.datetime == datetime(2026, 3, 5, 10, 15, tzinfo=timezone(timedelta(hours=8)))
    assert back.as_json() == {k: v for k, v in created.items()}  # the read returns what the create returned

    search = Observation.where(struct={"patient": str(county.residents["wang"]), "code": f"{LOINC}|85354-9"})
    assert [o.id for o in search.perform_resources_iter(smart.server)] == [created["id"]]
    assert Encounter.read(enc_json["id"], smart.server).subject.reference == f"Patient/{county.residents['wang']}"


def test_fhirpy_get_or_create_is_a_conditional_create(live):
    """fhirpy's get_or_create and resource.create(**criteria) POST Type?criteria: no match → 201 and created,
    one match → 200 with that resource, unchanged."""
    client, county = live.fhirpy(), live.county
    idn = "411530198807150026"
    patients = client.resources("Patient").search(identifier=f"{ids.RESIDENT_ID_NUMBER}|{idn}")
    p, created = patients.get_or_create(client.resource("Patient", **_golden_patient()))
    assert created and p.id and p["meta"]["versionId"] == "1"
    again, created = patients.get_or_create(client.resource("Patient", **_golden_patient()))
    assert not created and again.id == p.id and again["meta"]["versionId"] == "1"

    his = bp(county, None)["identifier"][0]
    observations = client.resources("Observation").search(identifier=f"{his['system']}|{his['value']}")
    obs, created = observations.get_or_create(client.resource("Observation", **bp(county, None, 150, 95)))
    assert created and [c["valueQuantity"]["value"] for c in obs["component"]] == [150, 95]
    same, created = observations.get_or_create(client.resource("Observation", **bp(county, None, 138, 85)))
    assert not created and same.id == obs.id and same["meta"]["versionId"] == "1"
    assert [c["valueQuantity"]["value"] for c in same["component"]] == [150, 95]  # the match, not the new body

    enc = client.resource("Encounter", **encounter(county, source="GOC-1"))
    enc.create(identifier=f"{HIS}|GOC-1")  # POST Encounter?identifier=… : created
    twin = client.resource("Encounter", **encounter(county, source="GOC-1", status="cancelled"))
    twin.create(identifier=f"{HIS}|GOC-1")  # matches: the existing Encounter comes back
    assert twin.id == enc.id and twin["status"] == "finished"
    with live.db.read_only() as s:
        assert s.scalars(select(Resident.id).where(Resident.id_number == idn)).all() == [int(p.id)]
        assert len(s.scalars(select(ObservationRow.id)).all()) == 1
