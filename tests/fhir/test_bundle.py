"""batch and transaction Bundles, and Patient/$everything."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from rhip.records.models import Encounter, Observation
from rhip.registry.models import Resident
from rhip.security.models import AuditEvent
from tests.fhir.test_records import bp, encounter
from tests.fhir.support import fh

GOLDEN = Path(__file__).parent / "golden"
FHIR = "application/fhir+json"


def counts(db) -> tuple[int, int, int]:
    with db.read_only() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Resident, Encounter, Observation))


def new_patient_transaction(county, n_obs=1, bad_at=None):
    patient = json.loads((GOLDEN / "patient_in.json").read_text())
    enc = encounter(county, source="TX-ENC")
    enc["subject"] = {"reference": "urn:uuid:11111111-1111-1111-1111-111111111111"}
    entries = [
        # deliberately not in dependency order: the Observation refers to entries that come later
        *[{"fullUrl": f"urn:uuid:obs-{k}", "request": {"method": "POST", "url": "Observation"},
           "resource": {**bp(county, None, 400 if k == bad_at else 150, 90, f"TX-BP-{k}"),
                        "subject": {"reference": "urn:uuid:11111111-1111-1111-1111-111111111111"},
                        "encounter": {"reference": "urn:uuid:22222222-2222-2222-2222-222222222222"}}}
          for k in range(n_obs)],
        {"fullUrl": "urn:uuid:22222222-2222-2222-2222-222222222222", "request": {"method": "POST", "url": "Encounter"},
         "resource": enc},
        {"fullUrl": "urn:uuid:11111111-1111-1111-1111-111111111111", "request": {"method": "POST", "url": "Patient"},
         "resource": patient},
    ]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def test_transaction_resolves_urn_uuid_references_in_any_order(client, county, db):
    r = client.post("/fhir", json=new_patient_transaction(county), headers=fh(county))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["type"] == "transaction-response" and len(out["entry"]) == 3
    assert [e["response"]["status"] for e in out["entry"]] == ["201 Created"] * 3
    obs, enc, patient = (e["resource"] for e in out["entry"])
    assert obs["subject"]["reference"] == f"Patient/{patient['id']}"
    assert obs["encounter"]["reference"] == f"Encounter/{enc['id']}"
    assert enc["subject"]["reference"] == f"Patient/{patient['id']}"


def test_prefer_return_minimal_leaves_the_resources_out_of_the_transaction_response(client, county, db):
    before = counts(db)
    r = client.post("/fhir", json=new_patient_transaction(county, n_obs=2),
                    headers={**fh(county), "Prefer": "return=minimal"})
    assert r.status_code == 200, r.text
    out = r.json()["entry"]
    assert all("resource" not in e for e in out)
    assert [e["response"]["status"] for e in out] == ["201 Created"] * 4
    assert all(e["response"]["etag"] == 'W/"1"' for e in out)
    locations = [e["response"]["location"] for e in out]
    assert [loc.split("/")[0] for loc in locations] == ["Observation", "Observation", "Encounter", "Patient"]
    assert counts(db) == (before[0] + 1, before[1] + 1, before[2] + 2)
    patient = locations[3].split("/_history")[0]
    for loc in locations[:2]:  # what was stored is what the full response would have shown
        obs = client.get(f"/fhir/{loc.split('/_history')[0]}", headers=fh(county)).json()
        assert obs["subject"]["reference"] == patient and obs["meta"]["versionId"] == "1"


def test_one_bad_entry_among_99_good_rejects_the_whole_transaction(client, county, db):
    before = counts(db)
    r = client.post("/fhir", json=new_patient_transaction(county, n_obs=98, bad_at=57), headers=fh(county))
    assert r.status_code == 422, r.text
    issue = r.json()["issue"][0]
    assert issue["expression"][0].startswith("Bundle.entry[57]") and "entry 57" in issue["diagnostics"]
    assert counts(db) == before


def test_unresolvable_reference_is_named(client, county, db):
    bundle = new_patient_transaction(county)
    bundle["entry"][0]["resource"]["encounter"] = {"reference": "urn:uuid:not-in-this-bundle"}
    r = client.post("/fhir", json=bundle, headers=fh(county))
    assert r.status_code == 422
    assert r.json()["issue"][0]["expression"] == ["Bundle.entry[0].resource.encounter.reference"]
    assert counts(db)[0] == 5


def test_batch_entries_are_independent(client, county, db):
    good = bp(county, None, 150, 90, "B-1")
    bad = bp(county, None, 400, 90, "B-2")
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "POST", "url": "Observation"}, "resource": good},
        {"request": {"method": "POST", "url": "Observation"}, "resource": bad},
        {"request": {"method": "GET", "url": f"Patient/{county.residents['zhang']}"}},
    ]}
    r = client.post("/fhir", json=bundle, headers=fh(county))
    assert r.status_code == 200, r.text
    statuses = [e["response"]["status"] for e in r.json()["entry"]]
    assert statuses[0] == "201 Created" and statuses[1].startswith("422") and statuses[2] == "200 OK"
    assert r.json()["entry"][1]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert counts(db)[2] == 1


def test_transaction_outside_scope_writes_nothing_and_is_audited(client, county, db):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "POST", "url": "Observation"}, "resource": bp(county, None, 140, 85, "S-1")},
        {"request": {"method": "POST", "url": "Observation"},
         "resource": bp(county, None, 140, 85, "S-2", rid_key="out")},
    ]}
    before = counts(db)
    r = client.post("/fhir", json=bundle, headers=fh(county, "village_doctor"))
    assert r.status_code == 404 and r.json()["resourceType"] == "OperationOutcome"
    assert counts(db) == before
    with db.read_only() as s:
        assert s.scalars(select(AuditEvent.action).where(AuditEvent.outcome == "denied")).all()[-1] == \
            "observation.write"


def test_bad_bundles(client, county):
    h = fh(county)
    assert client.post("/fhir", json={"resourceType": "Bundle", "type": "collection"}, headers=h).status_code == 400
    r = client.post("/fhir", json={"resourceType": "Bundle", "type": "batch", "entry": [{"request": {"url": "X"}}]},
                    headers=h)
    assert r.status_code == 400 and r.json()["issue"][0]["expression"] == ["Bundle.entry[0].request"]


def test_patient_everything(client, county):
    h = fh(county)
    out = client.post("/fhir", json=new_patient_transaction(county, n_obs=3), headers=h).json()
    pid = out["entry"][-1]["resource"]["id"]
    every = client.get(f"/fhir/Patient/{pid}/$everything", headers=h).json()
    kinds = [e["resource"]["resourceType"] for e in every["entry"]]
    assert kinds[0] == "Patient" and kinds.count("Encounter") == 1 and kinds.count("Observation") == 3
    assert client.get(f"/fhir/Patient/{county.residents['out']}/$everything",
                      headers=fh(county, "village_doctor")).status_code == 404
