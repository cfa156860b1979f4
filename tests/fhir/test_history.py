"""Versions: vread, instance history, delete (where safe) and conditional writes, for Patient and records."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text

from rhip.fhir.models import ResourceHistory
from rhip.records.models import Encounter, Observation, ObservationComponent
from rhip.security.models import AuditEvent, AuditSubject
from tests.fhir.support import fh
from tests.fhir.test_records import HIS, bp, encounter
from tests.factories import auth


def _outcome(r, status):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["resourceType"] == "OperationOutcome" and body["issue"]
    return body["issue"]


def _audited(db, action):
    with db.read_only() as s:
        return list(s.execute(select(AuditEvent.action, AuditSubject.resident_id)
                              .join(AuditSubject, AuditSubject.event_id == AuditEvent.id)
                              .where(AuditEvent.action == action)))


def test_record_versions_vread_and_history_newest_first(client, county, db):
    h = fh(county)
    enc = client.post("/fhir/Encounter", json=encounter(county), headers=h).json()
    v1 = client.post("/fhir/Observation", json=bp(county, enc["id"], 150, 95), headers=h).json()
    v2 = client.post("/fhir/Observation", json=bp(county, enc["id"], 140, 90), headers=h).json()
    put = client.put(f"/fhir/Observation/{v1['id']}", json={**bp(county, enc["id"], 130, 85), "id": v1["id"]},
                     headers={**h, "If-Match": 'W/"2"'})
    assert put.status_code == 200 and put.headers["etag"] == 'W/"3"'
    oid = v1["id"]
    for vid, sbp in (("1", 150), ("2", 140), ("3", 130)):
        r = client.get(f"/fhir/Observation/{oid}/_history/{vid}", headers=h)
        assert r.status_code == 200 and r.headers["etag"] == f'W/"{vid}"'
        assert r.json()["meta"]["versionId"] == vid and r.json()["component"][0]["valueQuantity"]["value"] == sbp
    assert client.get(f"/fhir/Observation/{oid}/_history/1", headers=h).json() == v1
    assert client.get(f"/fhir/Observation/{oid}/_history/2", headers=h).json() == v2
    assert client.get(f"/fhir/Observation/{oid}/_history/4", headers=h).status_code == 404
    hist = client.get(f"/fhir/Observation/{oid}/_history", headers=h).json()
    assert hist["type"] == "history" and hist["total"] == 3
    assert [e["resource"]["meta"]["versionId"] for e in hist["entry"]] == ["3", "2", "1"]
    assert [e["request"]["method"] for e in hist["entry"]] == ["PUT", "PUT", "POST"]
    page2 = client.get(f"/fhir/Observation/{oid}/_history?_count=2&_page=2", headers=h).json()
    assert [e["resource"]["meta"]["versionId"] for e in page2["entry"]] == ["1"]
    assert any(link["relation"] == "previous" for link in page2["link"])
    with db.read_only() as s:  # only superseded versions are stored; the live row is the current one
        assert s.scalars(select(ResourceHistory.version_id).where(ResourceHistory.resource_id == int(oid))
                         .order_by(ResourceHistory.version_id)).all() == [1, 2]
    assert ("observation.history", county.residents["zhang"]) in _audited(db, "observation.history")
    assert ("observation.vread", county.residents["zhang"]) in _audited(db, "observation.vread")


def test_patient_history_includes_registry_api_updates(client, county, db):
    rid = county.residents["li"]
    h = fh(county)
    p1 = client.get(f"/fhir/Patient/{rid}", headers=h).json()
    r = client.patch(f"/api/residents/{rid}", json={"phone": "13600003333"},
                     headers={**auth(county, "admin"), "If-Match": 'W/"1"'})
    assert r.status_code == 200, r.text
    p = client.get(f"/fhir/Patient/{rid}", headers=h).json()
    p["telecom"] = [{"system": "phone", "value": "13600009999", "use": "mobile"}]
    assert client.put(f"/fhir/Patient/{rid}", json=p, headers={**h, "If-Match": 'W/"2"'}).status_code == 200
    hist = client.get(f"/fhir/Patient/{rid}/_history", headers=h).json()
    assert [e["resource"]["meta"]["versionId"] for e in hist["entry"]] == ["3", "2", "1"]
    assert [e["resource"]["telecom"][0]["value"] for e in hist["entry"]] == ["13600009999", "13600003333",
                                                                             "13900001111"]
    assert client.get(f"/fhir/Patient/{rid}/_history/1", headers=h).json() == p1
    assert _audited(db, "patient.history") == [("patient.history", rid)]


def test_history_of_a_patient_outside_scope_is_404_and_audited_as_refused(client, county, db):
    rid = county.residents["out"]
    assert client.patch(f"/api/residents/{rid}", json={"phone": "13600003333"},
                        headers=auth(county, "admin")).status_code == 200
    h = fh(county, "village_doctor")
    _outcome(client.get(f"/fhir/Patient/{rid}/_history", headers=h), 404)
    _outcome(client.get(f"/fhir/Patient/{rid}/_history/1", headers=h), 404)
    with db.read_only() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.outcome == "denied")) == 2


def test_stale_if_match_is_412_and_changes_nothing(client, county, db):
    h = fh(county)
    enc = client.post("/fhir/Encounter", json=encounter(county), headers=h).json()
    ok = client.put(f"/fhir/Encounter/{enc['id']}", json=enc, headers={**h, "If-Match": 'W/"1"'})
    assert ok.status_code == 200
    stale = client.put(f"/fhir/Encounter/{enc['id']}", json={**enc, "status": "cancelled"},
                       headers={**h, "If-Match": 'W/"1"'})
    assert _outcome(stale, 412)[0]["code"] == "conflict"
    with db.read_only() as s:
        assert s.scalar(select(func.count()).select_from(ResourceHistory)) == 1
        assert s.get(Encounter, int(enc["id"])).status == "finished"


def test_concurrent_updates_with_the_same_if_match_one_wins(client, county, db, app):
    """Two requests both holding version 1: one gets 200, the other 412 (or waits and then gets 412); the
    history keeps exactly one copy of version 1."""
    from fastapi.testclient import TestClient

    h = fh(county)
    enc = client.post("/fhir/Encounter", json=encounter(county), headers=h).json()
    results = []

    def put(status):
        with TestClient(app, base_url="https://testserver") as c:
            results.append(c.put(f"/fhir/Encounter/{enc['id']}", json={**enc, "status": status},
                                 headers={**h, "If-Match": 'W/"1"'}).status_code)

    threads = [threading.Thread(target=put, args=(st,)) for st in ("cancelled", "entered-in-error")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 412], results
    with db.read_only() as s:
        assert s.scalar(select(Encounter.version).where(Encounter.id == int(enc["id"]))) == 2
        assert s.scalars(select(ResourceHistory.version_id)).all() == [1]


def test_delete_observation_then_gone_vread_still_works_and_recreate_gets_a_new_id(client, county, db):
    h = fh(county)
    enc = client.post("/fhir/Encounter", json=encounter(county), headers=h).json()
    obs = client.post("/fhir/Observation", json=bp(county, enc["id"]), headers=h).json()
    assert client.delete(f"/fhir/Observation/{obs['id']}", headers=h).status_code == 204
    gone = _outcome(client.get(f"/fhir/Observation/{obs['id']}", headers=h), 410)
    assert gone[0]["code"] == "deleted"
    assert client.get(f"/fhir/Observation/{obs['id']}/_history/1", headers=h).json() == obs
    _outcome(client.get(f"/fhir/Observation/{obs['id']}/_history/2", headers=h), 410)
    hist = client.get(f"/fhir/Observation/{obs['id']}/_history", headers=h).json()
    assert [(e["request"]["method"], "resource" in e) for e in hist["entry"]] == [("DELETE", False), ("POST", True)]
    assert client.delete(f"/fhir/Observation/{obs['id']}", headers=h).status_code == 204  # idempotent
    _outcome(client.put(f"/fhir/Observation/{obs['id']}", json=obs, headers=h), 410)
    again = client.post("/fhir/Observation", json=bp(county, enc["id"]), headers=h)
    assert again.status_code == 201 and again.json()["id"] != obs["id"]
    with db.read_only() as s:
        assert s.scalar(select(func.count()).select_from(ObservationComponent)
                        .where(ObservationComponent.observation_id == int(obs["id"]))) == 0
    assert _audited(db, "observation.delete") == [("observation.delete", county.residents["zhang"])]


def test_delete_refused_while_referenced_names_the_referrers(client, county, db):
    h = fh(county)
    enc = client.post("/fhir/Encounter", json=encounter(county), headers=h).json()
    obs = client.post("/fhir/Observation", json=bp(county, enc["id"]), headers=h).json()
    issues = _outcome(client.delete(f"/fhir/Encounter/{enc['id']}", headers=h), 409)
    assert f"Observation/{obs['id']}" in issues[0]["diagnostics"]
    report = {"resourceType": "DiagnosticReport", "identifier": [{"system": HIS, "value": "R1"}], "status": "final",
              "code": {"coding": [{"system": "http://loinc.org", "code": "24331-1"}]},
              "subject": {"reference": f"Patient/{county.residents['zhang']}"},
              "effectiveDateTime": "2026-03-02T10:00:00+08:00", "result": [{"reference": f"Observation/{obs['id']}"}]}
    rep = client.post("/fhir/DiagnosticReport", json=report, headers=h)
    assert rep.status_code == 201, rep.text
    issues = _outcome(client.delete(f"/fhir/Observation/{obs['id']}", headers=h), 409)
    assert f"DiagnosticReport/{rep.json()['id']}" in issues[0]["diagnostics"]
    assert client.delete(f"/fhir/DiagnosticReport/{rep.json()['id']}", headers=h).status_code == 204
    assert client.delete(f"/fhir/Observation/{obs['id']}", headers=h).status_code == 204
    assert client.delete(f"/fhir/Encounter/{enc['id']}", headers=h).status_code == 204
    with db.read_only() as s:
        assert s.scalar(select(func.count()).select_from(Encounter)) == 0


def test_patient_cannot_be_deleted_and_others_cannot_delete(client, county, db):
    rid = county.residents["zhang"]
    issues = _outcome(client.delete(f"/fhir/Patient/{rid}", headers=fh(county)), 405)
    assert "deregistered through the registry" in issues[0]["diagnostics"]
    enc = client.post("/fhir/Encounter", json=encounter(county), headers=fh(county)).json()
    _outcome(client.delete(f"/fhir/Encounter/{enc['id']}", headers=fh(county, "supervision")), 403)
    _outcome(client.delete(f"/fhir/Encounter/{enc['id']}", headers={**fh(county), "If-Match": 'W/"7"'}), 412)
    _outcome(client.delete("/fhir/Encounter/999999", headers=fh(county)), 404)
    with db.read_only() as s:
        assert s.get(Encounter, int(enc["id"])) is not None


def test_history_table_is_append_only(db, client, county):
    h = fh(county)
    enc = client.post("/fhir/Encounter", json=encounter(county), headers=h).json()
    assert client.put(f"/fhir/Encounter/{enc['id']}", json=enc, headers=h).status_code == 200
    for sql in ("UPDATE resource_history SET method = 'PUT'", "DELETE FROM resource_history"):
        with pytest.raises(Exception, match="append-only"), db.unit_of_work() as s:
            s.execute(text(sql))


def test_conditional_update_records_0_1_many(client, county, db):
    h = fh(county)
    crit = f"identifier={HIS}|V0001"
    r = client.put(f"/fhir/Encounter?{crit}", json=encounter(county), headers=h)
    assert r.status_code == 201, r.text
    again = client.put(f"/fhir/Encounter?{crit}", json=encounter(county, status="cancelled"), headers=h)
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]
    assert again.json()["meta"]["versionId"] == "2" and again.json()["status"] == "cancelled"
    stale = client.put(f"/fhir/Encounter?{crit}", json=encounter(county), headers={**h, "If-Match": 'W/"1"'})
    _outcome(stale, 412)
    client.post("/fhir/Encounter", json=encounter(county, identifier=[{"system": "urn:other", "value": "V0001"}]),
                headers=h)
    _outcome(client.put("/fhir/Encounter?identifier=V0001", json=encounter(county), headers=h), 412)
    wrong = client.put(f"/fhir/Encounter?identifier={HIS}|V0002", json=encounter(county, source="V0003"), headers=h)
    assert _outcome(wrong, 400)[0]["expression"] == ["Encounter.identifier[0]"]
    _outcome(client.put("/fhir/Encounter?status=finished", json=encounter(county), headers=h), 400)
    with db.read_only() as s:
        assert s.scalar(select(func.count()).select_from(Encounter)) == 2


def test_conditional_update_patient_by_id_number(client, county, db):
    from tests.fhir.test_patient import _id_number

    rid = county.residents["li"]
    idn = _id_number(db, rid)
    h = fh(county)
    p = client.get(f"/fhir/Patient/{rid}", headers=h).json()
    body = {k: v for k, v in p.items() if k not in ("id", "meta")}
    body["telecom"] = [{"system": "phone", "value": "13600007777"}]
    r = client.put(f"/fhir/Patient?identifier=urn:oid:2.16.156.10011.1.1|{idn}", json=body, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == str(rid) and r.json()["meta"]["versionId"] == "2"
    _outcome(client.put("/fhir/Patient?gender=female", json=body, headers=h), 412)


def test_conditional_create_for_records_with_if_none_exist(client, county, db):
    h = fh(county)
    first = client.post("/fhir/Encounter", json=encounter(county), headers=h)
    same = client.post("/fhir/Encounter", json=encounter(county, status="cancelled"),
                       headers={**h, "If-None-Exist": f"identifier={HIS}|V0001"})
    assert same.status_code == 200 and same.json() == first.json()  # the match, unchanged
    new = client.post("/fhir/Encounter", json=encounter(county, source="V0002"),
                      headers={**h, "If-None-Exist": f"identifier={HIS}|V0002"})
    assert new.status_code == 201


def test_transaction_with_conditional_update_and_delete(client, county, db):
    h = fh(county)
    enc = client.post("/fhir/Encounter", json=encounter(county), headers=h).json()
    obs = client.post("/fhir/Observation", json=bp(county, enc["id"]), headers=h).json()
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "DELETE", "url": f"Observation/{obs['id']}"}},
        {"request": {"method": "PUT", "url": f"Encounter?identifier={HIS}|V0001"},
         "resource": encounter(county, status="cancelled")},
        {"request": {"method": "PUT", "url": f"Encounter?identifier={HIS}|V0009"},
         "resource": encounter(county, source="V0009")},
    ]}
    r = client.post("/fhir", json=bundle, headers=h)
    assert r.status_code == 200, r.text
    assert [e["response"]["status"] for e in r.json()["entry"]] == ["204 No Content", "200 OK", "201 Created"]
    assert client.get(f"/fhir/Observation/{obs['id']}", headers=h).status_code == 410
    # a failing entry undoes the delete and the updates
    obs2 = client.post("/fhir/Observation", json=bp(county, enc["id"], source="BP0002"), headers=h).json()
    bad = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "DELETE", "url": f"Observation/{obs2['id']}"}},
        {"request": {"method": "DELETE", "url": f"Encounter/{enc['id']}"}}]}
    issues = _outcome(client.post("/fhir", json=bad, headers=h), 409)
    assert issues[0]["expression"] == ["Bundle.entry[1]"]
    assert client.get(f"/fhir/Observation/{obs2['id']}", headers=h).status_code == 200
    with db.read_only() as s:
        assert s.scalar(select(func.count()).select_from(Observation)) == 1


def test_a_transaction_is_audited_as_one_event_per_action_with_every_subject_and_record(client, county, db):
    from tests.fhir.test_bundle import new_patient_transaction

    with db.read_only() as s:
        before = s.scalar(select(func.max(AuditEvent.id))) or 0
    r = client.post("/fhir", json=new_patient_transaction(county, n_obs=5), headers=fh(county))
    assert r.status_code == 200, r.text
    out = {e["resource"]["resourceType"]: e["resource"]["id"] for e in r.json()["entry"]}
    obs_ids = sorted(int(e["resource"]["id"]) for e in r.json()["entry"]
                     if e["resource"]["resourceType"] == "Observation")
    with db.read_only() as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.id > before).order_by(AuditEvent.id)))
        by_action = {e.action: e for e in events}
        assert sorted(by_action) == ["encounter.create", "observation.create", "resident.create"]
        assert len(events) == 3
        obs_event = by_action["observation.create"]
        import json as _json

        detail = _json.loads(obs_event.detail)
        assert detail["bundle"] == "transaction" and detail["count"] == 5
        assert sorted(item["id"] for item in detail["items"]) == obs_ids
        subjects = s.scalars(select(AuditSubject.resident_id).where(AuditSubject.event_id == obs_event.id)).all()
        assert subjects == [int(out["Patient"])]


def test_transaction_rows_written_together_are_the_ones_returned(client, county, db):
    """Records created in a transaction are inserted per table at the end (ids known in advance); a report in
    the same Bundle still sees its result Observations, and every returned id holds what was returned."""
    from tests.fhir.test_bundle import new_patient_transaction

    b = new_patient_transaction(county, n_obs=4)
    b["entry"].append({"request": {"method": "POST", "url": "DiagnosticReport"}, "resource": {
        "resourceType": "DiagnosticReport", "identifier": [{"system": HIS, "value": "TX-R1"}], "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "24331-1"}]},
        "subject": {"reference": "urn:uuid:11111111-1111-1111-1111-111111111111"},
        "effectiveDateTime": "2026-03-02T10:00:00+08:00",
        "result": [{"reference": "urn:uuid:obs-2"}, {"reference": "urn:uuid:obs-0"}]}})
    r = client.post("/fhir", json=b, headers=fh(county))
    assert r.status_code == 200, r.text
    out = [e["resource"] for e in r.json()["entry"]]
    obs = [o for o in out if o["resourceType"] == "Observation"]
    report = next(o for o in out if o["resourceType"] == "DiagnosticReport")
    assert [x["reference"] for x in report["result"]] == [f"Observation/{obs[2]['id']}", f"Observation/{obs[0]['id']}"]
    for o in obs + [report]:
        assert client.get(f"/fhir/{o['resourceType']}/{o['id']}", headers=fh(county)).json() == o
    with db.read_only() as s:
        assert s.scalar(select(func.count()).select_from(ObservationComponent)) == 8


def test_the_same_source_record_twice_in_one_transaction_is_created_then_updated(client, county, db):
    h = fh(county)
    enc = client.post("/fhir/Encounter", json=encounter(county), headers=h).json()
    b = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "POST", "url": "Observation"}, "resource": bp(county, enc["id"], 150, 95, "DUP")},
        {"request": {"method": "POST", "url": "Observation"}, "resource": bp(county, enc["id"], 140, 85, "DUP")}]}
    r = client.post("/fhir", json=b, headers=h)
    assert r.status_code == 200, r.text
    assert [e["response"]["status"] for e in r.json()["entry"]] == ["201 Created", "200 OK"]
    first, second = (e["resource"] for e in r.json()["entry"])
    assert first["id"] == second["id"] and second["meta"]["versionId"] == "2"
    assert client.get(f"/fhir/Observation/{first['id']}/_history/1", headers=h).json() == first
    with db.read_only() as s:
        assert s.scalar(select(func.count()).select_from(Observation)) == 1


def test_post_with_criteria_in_the_query_is_a_conditional_create(client, county):
    """POST Type?criteria (fhirpy's get_or_create) works like If-None-Exist; both at once must agree."""
    h = fh(county)
    criteria = {"identifier": f"{HIS}|Q1"}
    first = client.post("/fhir/Observation", params=criteria, json=bp(county, None, 150, 95, source="Q1"), headers=h)
    assert first.status_code == 201, first.text
    second = client.post("/fhir/Observation", params=criteria, json=bp(county, None, 140, 90, source="Q1"), headers=h)
    assert second.status_code == 200 and second.json() == first.json()
    clash = client.post("/fhir/Observation", params=criteria, json=bp(county, None, source="Q1"),
                        headers={**h, "If-None-Exist": f"identifier={HIS}|Q2"})
    assert _outcome(clash, 400)[0]["code"] == "invalid"
    agree = client.post("/fhir/Observation", params=criteria, json=bp(county, None, source="Q1"),
                        headers={**h, "If-None-Exist": f"identifier={HIS}|Q1"})
    assert agree.status_code == 200
    assert _outcome(client.post(f"/fhir/Observation/{first.json()['id']}", params=criteria, json={}, headers=h),
                    405)
