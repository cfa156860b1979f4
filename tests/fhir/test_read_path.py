"""The read path made cheaper keeps its guarantees: every read and search is audited with all its subjects,
$everything is one audited event naming the counts, and the access log still names the user."""

from __future__ import annotations

import json
import logging

from sqlalchemy import select

from rhip.security.models import AuditEvent, AuditSubject
from tests.fhir.support import fh
from tests.fhir.test_records import bp, encounter


def _last(db, action: str) -> tuple[AuditEvent, set[int]]:
    with db.read_only() as s:
        ev = s.scalar(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc()))
        return ev, set(s.scalars(select(AuditSubject.resident_id).where(AuditSubject.event_id == ev.id)))


def test_a_search_audits_every_patient_returned(client, county, db):
    b = client.get("/fhir/Patient", params={"_count": 50}, headers=fh(county)).json()
    ev, subjects = _last(db, "resident.search")
    assert subjects == {int(e["resource"]["id"]) for e in b["entry"]} and len(subjects) == 5
    assert ev.resident_count == 5 and ev.username == "admin" and ev.channel == "api"


def test_a_read_is_audited_against_the_patient(client, county, db):
    rid = county.residents["li"]
    assert client.get(f"/fhir/Patient/{rid}", headers=fh(county)).status_code == 200
    ev, subjects = _last(db, "resident.read")
    assert subjects == {rid} and ev.outcome == "ok"


def test_everything_is_one_audited_event_with_the_counts(client, county, db):
    h = fh(county)
    enc = client.post("/fhir/Encounter", json=encounter(county), headers=h).json()
    for i in range(3):
        assert client.post("/fhir/Observation", json=bp(county, enc["id"], source=f"E{i}"), headers=h).status_code == 201
    zhang = county.residents["zhang"]
    b = client.get(f"/fhir/Patient/{zhang}/$everything", headers=h).json()
    assert b["total"] == 5 and [e["resource"]["resourceType"] for e in b["entry"]] == \
        ["Patient", "Encounter", "Observation", "Observation", "Observation"]
    ev, subjects = _last(db, "resident.everything")
    assert subjects == {zhang} and json.loads(ev.detail) == {"Encounter": 1, "Observation": 3}
    with db.read_only() as s:  # one event for the whole request: no separate read of the Patient
        assert s.scalars(select(AuditEvent.action).where(AuditEvent.id >= ev.id)).all() == ["resident.everything"]
    out = client.get(f"/fhir/Patient/{county.residents['out']}/$everything", headers=fh(county, "village_doctor"))
    assert out.status_code == 404


def test_the_access_log_names_the_user_but_not_the_query(client, county, caplog):
    with caplog.at_level(logging.INFO, logger="rhip.access"):
        client.get("/fhir/Patient", params={"phone": "13812345678"}, headers=fh(county, "manager"))
    lines = [r.getMessage() for r in caplog.records if r.name == "rhip.access"]
    assert lines and " manager GET /fhir/Patient 200 " in lines[-1] and "13812345678" not in lines[-1]


def test_everything_renders_each_resource_as_its_read_does(client, county):
    """$everything renders from plain rows with the parts read by patient; a read renders the stored record:
    both give the same resource (components of a blood pressure, results of a report, a document's data)."""
    from tests.fhir.test_reports_documents import _obs, _post, document, report

    h = fh(county)
    enc = client.post("/fhir/Encounter", json=encounter(county), headers=h).json()
    client.post("/fhir/Observation", json=bp(county, enc["id"], source="B1"), headers=h)
    o1, o2 = _obs(client, county, "O1"), _obs(client, county, "O2")
    _post(client, county, "DiagnosticReport", report(county, [o2, o1]))
    _post(client, county, "DocumentReference", document(county))
    b = client.get(f"/fhir/Patient/{county.residents['zhang']}/$everything", headers=h).json()
    types = {e["resource"]["resourceType"] for e in b["entry"]}
    assert types == {"Patient", "Encounter", "Observation", "DiagnosticReport", "DocumentReference"}
    for e in b["entry"]:
        r = e["resource"]
        assert client.get(f"/fhir/{r['resourceType']}/{r['id']}", headers=h).json() == r
        assert e["fullUrl"].endswith(f"/fhir/{r['resourceType']}/{r['id']}")
    report_entry = next(e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "DiagnosticReport")
    assert report_entry["result"] == [{"reference": f"Observation/{o2}"}, {"reference": f"Observation/{o1}"}]
    assert any(len(e["resource"].get("component", [])) == 2 for e in b["entry"])
