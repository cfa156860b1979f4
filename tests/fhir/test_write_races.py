"""A write the database refuses after the checks passed — another request stored the same source record between
this request's lookup and its insert — is a 409 OperationOutcome naming the resource or the Bundle entries, and
nothing of the request is written. The race is reproduced deterministically on both engines: the other request's
record is committed first, and this request's lookup is made to miss it (as it would have, a moment earlier).
(On SQLite a real race is rarer — writers queue on the database lock — but the same lookup-then-insert gap exists
until the request's first write.)"""

from __future__ import annotations

from sqlalchemy import func, select

from rhip.fhir.mappers import RECORD_MAPPERS
from rhip.records import repository as records_repo
from rhip.records import service as records
from rhip.records.models import Encounter, Observation
from rhip.security.service import system_principal
from tests.fhir.support import fh
from tests.fhir.test_records import bp, encounter


def _store_meanwhile(db, rtype: str, resource: dict) -> None:
    """What the other request does: store ``resource`` and commit."""
    fields, comps = RECORD_MAPPERS[rtype].to_fields(resource)
    with db.unit_of_work() as s:
        records.upsert(s, system_principal("other request"), rtype, fields, comps)


def _count(db, model) -> int:
    with db.read_only() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_a_transaction_raced_on_a_source_identifier_is_409_naming_the_entry(client, county, db, monkeypatch):
    _store_meanwhile(db, "Observation", bp(county, None, 170, 100, source="RACE-1"))
    looked_up = records.prefetch_sources

    def lookup_that_misses_the_other_request(s, rtype, keys):
        looked_up(s, rtype, keys)
        s.info[records._CACHE].sources.update({(rtype, *k): None for k in keys})

    monkeypatch.setattr(records, "prefetch_sources", lookup_that_misses_the_other_request)
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "POST", "url": "Encounter"}, "resource": encounter(county, source="RACE-ENC")},
        {"request": {"method": "POST", "url": "Observation"}, "resource": bp(county, None, source="RACE-0")},
        {"request": {"method": "POST", "url": "Observation"}, "resource": bp(county, None, source="RACE-1")},
    ]}
    r = client.post("/fhir", json=bundle, headers=fh(county))
    assert r.status_code == 409, r.text
    issues = r.json()["issue"]
    assert [i["expression"] for i in issues] == [["Bundle.entry[2]"]] and issues[0]["code"] == "conflict"
    assert "RACE-1" in issues[0]["diagnostics"]
    # nothing of the Bundle was written; the other request's record stands
    assert _count(db, Encounter) == 0 and _count(db, Observation) == 1
    monkeypatch.setattr(records, "prefetch_sources", looked_up)
    again = client.post("/fhir", json=bundle, headers=fh(county))  # sent again: entry 2 updates the rival
    assert again.status_code == 200, again.text
    assert [e["response"]["status"] for e in again.json()["entry"]] == ["201 Created", "201 Created", "200 OK"]


def test_a_create_raced_on_its_source_identifier_is_409(client, county, db, monkeypatch):
    _store_meanwhile(db, "Observation", bp(county, None, 170, 100, source="RACE-2"))
    monkeypatch.setattr(records_repo, "by_source", lambda s, model, system, sid: None)  # misses the other request's
    r = client.post("/fhir/Observation", json=bp(county, None, source="RACE-2"), headers=fh(county))
    assert r.status_code == 409, r.text
    outcome = r.json()
    assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["code"] == "conflict"
    assert outcome["issue"][0]["expression"] == ["Observation"]
    assert _count(db, Observation) == 1
