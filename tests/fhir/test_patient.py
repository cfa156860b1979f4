"""FHIR Patient over the registry: capability, read, search, create, update, errors as OperationOutcome."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from rhip.fhir import identifiers as ids
from rhip.fhir.validation import validate
from rhip.kit.idcard import make_id_number
from rhip.registry.models import Resident
from rhip.security.models import AuditEvent, AuditSubject
from tests.factories import V11, V21, auth
from tests.fhir.support import fh

GOLDEN = Path(__file__).parent / "golden"
FHIR = "application/fhir+json"


def _id_number(db, rid):
    with db.read_only() as s:
        return s.get(Resident, rid).id_number


def _outcome(r, status):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(FHIR)
    body = r.json()
    assert body["resourceType"] == "OperationOutcome" and body["issue"]
    return body["issue"]


def test_capability_statement_lists_exactly_what_works(client):
    cs = client.get("/fhir/metadata").json()
    assert cs["resourceType"] == "CapabilityStatement" and cs["fhirVersion"] == "4.0.1"
    resources = {r["type"]: r for r in cs["rest"][0]["resource"]}
    assert set(resources) == {"Patient", "Encounter", "Condition", "Observation", "Immunization",
                              "AllergyIntolerance", "MedicationRequest", "MedicationStatement", "DiagnosticReport",
                              "DocumentReference", "Organization", "Practitioner", "PractitionerRole", "Location",
                              "EpisodeOfCare", "CarePlan", "CareTeam"}
    assert {i["code"] for i in resources["Patient"]["interaction"]} == {
        "read", "vread", "history-instance", "history-type", "search-type", "create", "update"}
    assert {i["code"] for i in resources["Encounter"]["interaction"]} == {
        "read", "vread", "history-instance", "history-type", "search-type", "create", "update", "delete"}
    assert all(resources[t]["conditionalUpdate"] and resources[t]["conditionalCreate"] and resources[t]["readHistory"]
               for t in ("Patient", "Observation", "DocumentReference"))
    assert {i["code"] for i in resources["Organization"]["interaction"]} == {"read", "search-type"}
    assert {p["name"] for p in resources["Patient"]["searchParam"]} >= {"identifier", "name", "birthdate", "gender"}
    assert {i["code"] for i in cs["rest"][0]["interaction"]} == {"transaction", "batch"}
    assert resources["Patient"]["operation"][0]["name"] == "everything"


def test_read_patient_maps_registry_fields_and_is_audited(client, county, db):
    rid = county.residents["zhang"]
    r = client.get(f"/fhir/Patient/{rid}", headers=fh(county))
    assert r.status_code == 200 and r.headers["content-type"].startswith(FHIR)
    p = r.json()
    assert p["id"] == str(rid) and r.headers["etag"] == 'W/"1"'
    systems = {i["system"]: i["value"] for i in p["identifier"]}
    assert systems[ids.RESIDENT_ID_NUMBER] == _id_number(db, rid)
    assert systems[ids.HEALTH_RECORD_NUMBER].startswith(V11)
    assert p["name"][0] == {"use": "official", "text": "张丽", "family": "张", "given": ["丽"]}
    assert p["gender"] == "female" and p["birthDate"] == "1958-03-14"
    assert p["telecom"][0]["value"] == "13812345678"
    assert p["address"][0]["extension"][0]["valueCode"] == V11
    with db.read_only() as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "resident.read")).all()[-1]
        assert list(s.scalars(select(AuditSubject.resident_id).where(AuditSubject.event_id == ev.id))) == [rid]


def test_errors_are_operation_outcomes(client, county):
    assert _outcome(client.get("/fhir/Patient/1"), 401)[0]["code"] == "login"
    assert _outcome(client.get("/fhir/Patient/999999", headers=fh(county)), 404)[0]["code"] == "not-found"
    issues = _outcome(client.get("/fhir/Patient", params={"colour": "red"}, headers=fh(county)), 400)
    assert issues[0]["expression"] == ["colour"]


def test_out_of_scope_read_is_404_and_audited_as_denied(client, county, db):
    other = county.residents["out"]
    _outcome(client.get(f"/fhir/Patient/{other}", headers=fh(county, "village_doctor")), 404)
    with db.read_only() as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied")).all()[-1]
        assert ev.username == "village_doctor"
        assert list(s.scalars(select(AuditSubject.resident_id).where(AuditSubject.event_id == ev.id))) == [other]


def test_search_by_identifier_name_gender_birthdate_and_paging(client, county, db):
    h = fh(county)
    idn = _id_number(db, county.residents["li"])
    b = client.get("/fhir/Patient", params={"identifier": f"{ids.RESIDENT_ID_NUMBER}|{idn}"}, headers=h).json()
    assert b["resourceType"] == "Bundle" and b["type"] == "searchset" and b["total"] == 1
    assert b["entry"][0]["resource"]["name"][0]["text"] == "李秀英"
    legacy = idn[:6] + idn[8:17]
    assert client.get("/fhir/Patient", params={"identifier": legacy}, headers=h).json()["total"] == 1
    assert {e["resource"]["name"][0]["text"] for e in
            client.get("/fhir/Patient", params={"name": "王"}, headers=h).json()["entry"]} == {"王建国", "王小宇"}
    assert client.get("/fhir/Patient", params={"gender": "female"}, headers=h).json()["total"] == 2
    old = client.get("/fhir/Patient", params={"birthdate": "lt1956"}, headers=h).json()
    assert {e["resource"]["birthDate"] for e in old["entry"]} == {"1955-08-01", "1949-12-31"}
    both = client.get("/fhir/Patient", params=[("birthdate", "ge1950"), ("birthdate", "le1960-12")], headers=h).json()
    assert {e["resource"]["name"][0]["text"] for e in both["entry"]} == {"张丽", "王建国"}
    p1 = client.get("/fhir/Patient", params={"_count": 2}, headers=h).json()
    nxt = next(link["url"] for link in p1["link"] if link["relation"] == "next")
    p2 = client.get(nxt.replace("http://testserver", "").replace("https://testserver", ""), headers=h).json()
    assert p1["total"] == 5 and len(p2["entry"]) == 2
    assert not {e["resource"]["id"] for e in p1["entry"]} & {e["resource"]["id"] for e in p2["entry"]}
    posted = client.post("/fhir/Patient/_search", content="gender=male", headers={
        **auth(county, "admin"), "Content-Type": "application/x-www-form-urlencoded"}).json()
    assert posted["total"] == 3
    assert _outcome(client.get("/fhir/Patient", params={"birthdate": "1990-13"}, headers=h), 400)[0]["expression"] \
        == ["birthdate"]


def test_village_doctor_search_sees_only_scope(client, county):
    b = client.get("/fhir/Patient", headers=fh(county, "village_doctor")).json()
    assert {e["resource"]["name"][0]["text"] for e in b["entry"]} == {"张丽", "王建国", "王小宇"}


def _strip(p: dict) -> dict:
    p = json.loads(json.dumps(p))
    p.pop("id", None)
    p.pop("meta", None)
    p["identifier"] = [i for i in p["identifier"] if i["system"] != ids.HEALTH_RECORD_NUMBER]
    return p


def test_create_golden_round_trip_and_stored_row(client, county, db):
    body = json.loads((GOLDEN / "patient_in.json").read_text())
    r = client.post("/fhir/Patient", json=body, headers=fh(county))
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["location"].endswith(f"/fhir/Patient/{created['id']}/_history/1")
    with db.read_only() as s:
        row = s.get(Resident, int(created["id"]))
        stored = {k: getattr(row, k) for k in ("name", "id_number", "id_number_status", "sex", "phone",
                                               "village_code", "address", "ethnicity", "status", "source")}
    assert stored == {"name": "欧阳晓燕", "id_number": "411530198807150026", "id_number_status": "valid", "sex": "2",
                      "phone": "13912345678", "village_code": V11, "address": "王庄村3组27号", "ethnicity": "03",
                      "status": "alive", "source": "fhir"}
    expected = json.loads((GOLDEN / "patient_out.json").read_text())
    assert _strip(created) == expected
    read = client.get(f"/fhir/Patient/{created['id']}", headers=fh(county)).json()
    assert _strip(read) == expected
    assert validate(read, "Patient")["id"] == created["id"]  # what the server returns is valid FHIR R4


def test_conditional_create_returns_the_existing_patient(client, county):
    body = json.loads((GOLDEN / "patient_in.json").read_text())
    crit = {"If-None-Exist": f"identifier={ids.RESIDENT_ID_NUMBER}|411530198807150026"}
    first = client.post("/fhir/Patient", json=body, headers=fh(county, **crit))
    second = client.post("/fhir/Patient", json=body, headers=fh(county, **crit))
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    minimal = client.post("/fhir/Patient", json=body, headers=fh(county, Prefer="return=minimal", **crit))
    assert minimal.status_code == 200 and minimal.content == b""


@pytest.mark.parametrize("change,status,code,expression,fragment", [
    ({"gender": "man"}, 422, "code-invalid", "Patient.gender", "required value set"),
    ({"birthDate": "1988-13-15"}, 422, "value", "Patient.birthDate", ""),
    ({"colour": "red"}, 400, "structure", "Patient.colour", ""),
    ({"name": "欧阳晓燕"}, 400, "structure", "Patient.name", ""),
    ({"telecom": [{"system": "pigeon", "value": "1"}]}, 422, "code-invalid", "Patient.telecom[0].system", "pigeon"),
    ({"identifier": [{"system": ids.RESIDENT_ID_NUMBER, "value": "411530198807150021"}]}, 422, "value",
     "Patient.identifier", "check character should be"),
    ({"gender": "male"}, 422, "value", "Patient.gender", "female"),  # contradicts the ID number
    ({"address": [{"text": "某地"}]}, 422, "required", "Patient.address", "village"),
])
def test_bad_patients_are_refused_precisely_and_store_nothing(client, county, db, change, status, code, expression,
                                                              fragment):
    body = {**json.loads((GOLDEN / "patient_in.json").read_text()), **change}
    with db.read_only() as s:
        before = len(s.scalars(select(Resident.id)).all())
    issues = _outcome(client.post("/fhir/Patient", json=body, headers=fh(county)), status)
    match = [i for i in issues if i.get("expression") == [expression]]
    assert match, issues
    assert match[0]["code"] == code and fragment in match[0]["diagnostics"]
    with db.read_only() as s:
        assert len(s.scalars(select(Resident.id)).all()) == before


def test_malformed_json_and_wrong_resource_type(client, county):
    issues = _outcome(client.post("/fhir/Patient", content=b"{not json", headers=fh(county)), 400)
    assert issues[0]["code"] == "structure"
    issues = _outcome(client.post("/fhir/Patient", json={"resourceType": "Observation"}, headers=fh(county)), 400)
    assert "expected 'Patient'" in issues[0]["diagnostics"]
    assert _outcome(client.post("/fhir/Patient", content=b"<Patient/>", headers={
        **auth(county, "admin"), "Content-Type": "application/fhir+xml"}), 415)


def test_update_with_if_match(client, county, db):
    rid = county.residents["li"]
    p = client.get(f"/fhir/Patient/{rid}", headers=fh(county)).json()
    p["telecom"] = [{"system": "phone", "value": "13600009999", "use": "mobile"}]
    ok = client.put(f"/fhir/Patient/{rid}", json=p, headers=fh(county, **{"If-Match": 'W/"1"'}))
    assert ok.status_code == 200 and ok.json()["meta"]["versionId"] == "2"
    assert ok.json()["telecom"][0]["value"] == "13600009999"
    stale = client.put(f"/fhir/Patient/{rid}", json=p, headers=fh(county, **{"If-Match": 'W/"1"'}))
    assert _outcome(stale, 412)[0]["code"] == "conflict"
    p["id"] = "123"
    assert _outcome(client.put(f"/fhir/Patient/{rid}", json=p, headers=fh(county)), 400)[0]["expression"] == \
        ["Patient.id"]


def test_create_outside_scope_is_refused(client, county):
    body = json.loads((GOLDEN / "patient_in.json").read_text())
    body["address"][0]["extension"][0]["valueCode"] = V21
    body["identifier"][0]["value"] = make_id_number("411530", __import__("datetime").date(1988, 7, 15), 28)
    issues = _outcome(client.post("/fhir/Patient", json=body, headers=fh(county, "village_doctor")), 422)
    assert issues[0]["expression"] == ["Patient.address[0].extension"] and "outside your scope" in \
        issues[0]["diagnostics"]


def test_fhir_http_errors_and_query_on_create_are_operation_outcomes(client, county):
    h = fh(county)
    rid = county.residents["zhang"]
    issues = _outcome(client.request("DELETE", f"/fhir/Patient/{rid}", headers=h), 405)
    assert issues[0]["code"] == "not-supported"
    body = json.loads((GOLDEN / "patient_in.json").read_text())
    # the query of a create is its If-None-Exist criteria (conditional create): unknown parameters are named
    issues = _outcome(client.post("/fhir/Patient", params={"colour": "red"}, json=body, headers=h), 400)
    assert issues[0]["expression"] == ["colour"] and issues[0]["code"] == "not-supported"


def test_times_are_the_platforms_local_time(client, county):
    """A reading at 07:00 in Beijing belongs to that day, whatever the server's timezone."""
    from tests.fhir.test_records import bp

    h = fh(county)
    r = client.post("/fhir/Observation", json=bp(county, None, 130, 80, "TZ1", "2026-03-05T07:00:00+08:00"),
                    headers=h)
    assert r.status_code == 201 and r.json()["effectiveDateTime"] == "2026-03-05T07:00:00+08:00"
    utc = client.post("/fhir/Observation", json=bp(county, None, 130, 80, "TZ2", "2026-03-05T23:30:00Z"), headers=h)
    assert utc.json()["effectiveDateTime"] == "2026-03-06T07:30:00+08:00"
    day = client.get("/fhir/Observation", params={"patient": county.residents["zhang"], "date": "2026-03-05"},
                     headers=h).json()
    assert [e["resource"]["identifier"][0]["value"] for e in day["entry"]] == ["TZ1"]
