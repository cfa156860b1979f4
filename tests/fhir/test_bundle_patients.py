"""The new Patients of a transaction Bundle are registered together (registry.create_residents, MPI matching in
one pass): the outcome must be the one-by-one outcome — same numbers, same MPI links and review pairs, same
audit, same response — and a refused Patient must give the same error as before."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from datetime import date

import pytest
from sqlalchemy import select

from rhip.fhir import bundle as bundle_mod
from rhip.kit.idcard import make_id_number
from rhip.mpi.bulk import index_registry
from rhip.mpi.models import MpiLink, MpiReview
from rhip.mpi.service import params
from rhip.registry.models import Resident
from rhip.security import service as sec
from rhip.security.models import AuditEvent, AuditSubject
from tests.factories import V11, V12
from tests.fhir.support import fh

GOLDEN = Path(__file__).parent / "golden"
DIV = "urn:rhip:fhir:StructureDefinition:division-code"


def _patient(name, gender, birth, village, phone=None, id_number=None):
    p = {"resourceType": "Patient", "name": [{"text": name}], "gender": gender, "birthDate": birth,
         "address": [{"extension": [{"url": DIV, "valueCode": village}]}]}
    if phone:
        p["telecom"] = [{"system": "phone", "value": phone}]
    if id_number:
        p["identifier"] = [{"system": "urn:oid:2.16.156.10011.1.1", "value": id_number}]
    return p


def _transaction(patients: list[dict]) -> dict:
    entries = []
    for k, p in enumerate(patients):
        entries.append({"fullUrl": f"urn:uuid:p{k}", "request": {"method": "POST", "url": "Patient"}, "resource": p})
        entries.append({"request": {"method": "POST", "url": "Encounter"}, "resource": {
            "resourceType": "Encounter", "identifier": [{"system": "urn:test:his", "value": f"E{k}"}],
            "status": "finished", "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                            "code": "AMB"},
            "subject": {"reference": f"urn:uuid:p{k}"}, "period": {"start": "2026-05-02T09:30:00+08:00"}}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def _people() -> list[dict]:
    golden = json.loads((GOLDEN / "patient_in.json").read_text())
    return [
        _patient("张莉", "female", "1958-03-14", V12, "13812345678"),  # the county's 张丽 registered again
        golden,
        # the same person as the one before, registered again in the same Bundle without her ID number
        _patient("欧阳晓燕", "female", "1988-07-15", "411530101201", "13912345678"),
        _patient("李建国", "male", "1970-01-01", V11),
        _patient("王芳", "female", "1990-02-03", V11, "13700000001", make_id_number("411530", date(1990, 2, 3), 24)),
    ]


def _snapshot(s, response: dict, before: int) -> dict:
    """What the transaction did, with ids replaced by record numbers (ids differ between runs on PostgreSQL)."""
    no = {rid: rno for rid, rno in s.execute(select(Resident.id, Resident.record_no))}
    new = sorted(rid for rid in no if rid > before)
    links = {x.resident_id: x for x in s.scalars(select(MpiLink).where(MpiLink.resident_id.is_not(None)))}
    groups: dict[int, set] = {}
    for x in links.values():
        groups.setdefault(x.person_id, set()).add(no[x.resident_id])
    reviews = sorted((no[r.resident_a], no[r.resident_b], r.status, round(r.score, 9))
                     for r in s.scalars(select(MpiReview)))
    events = []
    for e in s.scalars(select(AuditEvent).where(AuditEvent.action.in_(("resident.create", "mpi.match")))
                       .order_by(AuditEvent.id)):
        subjects = sorted(no[r] for r in s.scalars(select(AuditSubject.resident_id)
                                                   .where(AuditSubject.event_id == e.id)))
        detail = json.loads(e.detail)
        events.append((e.action, subjects, detail.get("count"),
                       [{k: v for k, v in item.items() if k != "record_no"} for item in detail.get("items", [])]))
    out = []
    for entry in response["entry"]:
        r = copy.deepcopy(entry["resource"])
        if r["resourceType"] == "Patient":
            r.pop("id"), r["meta"].pop("lastUpdated")
            out.append(r)
    return {"new": [(no[r], links[r].how, round(links[r].score or 0, 9),
                     sorted(groups[links[r].person_id])) for r in new],
            "reviews": reviews, "events": events, "patients": out}


def _run(db, county, body: dict) -> dict:
    with db.sessions() as s, s.begin():
        user = sec.token_user(s, county.tokens["admin"])
        who = sec.principal_for(s, user, channel="api", client_addr=None)
        before = max(s.scalars(select(Resident.id)))
        response = bundle_mod.process(s, who, copy.deepcopy(body), "https://testserver/fhir")
        s.flush()
        snap = _snapshot(s, response, before)
        s.rollback()
    return snap


@pytest.fixture
def indexed(county, db):
    with db.engine.begin() as conn:
        index_registry(conn, params())
    return county


def test_patients_registered_together_as_one_by_one(indexed, db, monkeypatch):
    body = _transaction(_people())
    real = bundle_mod.registry.create_residents
    batches = []
    monkeypatch.setattr(bundle_mod.registry, "create_residents",
                        lambda *a, **k: batches.append(real(*a, **k)) or batches[-1])
    together = _run(db, indexed, body)
    assert len(batches) == 1 and len(batches[0]) == 5  # all five went through the batch path
    calls = []
    monkeypatch.setattr(bundle_mod.registry, "create_residents",
                        lambda *a, **k: calls.append(1) or None)  # the batch path declines: one by one
    one_by_one = _run(db, indexed, body)
    monkeypatch.setattr(bundle_mod.registry, "create_residents", real)
    assert calls == [1]
    assert together == one_by_one
    hows = [h for _, h, _, _ in together["new"]]
    assert hows[0] == "auto" and any(g for _, _, _, g in together["new"][:1] if len(g) == 2)  # 张莉 joins 张丽
    second, third = together["new"][1], together["new"][2]
    assert third[1] == "auto" and second[0] in third[3]  # matched to the registration just before, same Bundle
    assert hows[3] == hows[4] == "new"


def test_a_refused_patient_is_named_as_before(indexed, client):
    people = _people()
    people[3] = _patient("李建国", "male", "1970-01-01", "411530999999")  # no such village
    r = client.post("/fhir", json=_transaction(people), headers=fh(indexed))
    assert r.status_code == 422, r.text
    issue = r.json()["issue"][0]
    assert issue["expression"][0].startswith("Bundle.entry[6]") and "411530999999" in issue["diagnostics"]


def test_the_same_id_number_twice_in_one_bundle_is_refused_on_the_second(indexed, client, db):
    people = _people()
    people[3] = copy.deepcopy(people[1])
    r = client.post("/fhir", json=_transaction(people), headers=fh(indexed))
    assert r.status_code == 422, r.text
    issue = r.json()["issue"][0]
    assert issue["expression"][0].startswith("Bundle.entry[6]") and "already registered" in issue["diagnostics"]
    with db.read_only() as s:
        assert s.scalar(select(Resident).where(Resident.name == "张莉")) is None  # nothing written


def test_a_bundle_of_new_patients_is_written(indexed, client, db):
    r = client.post("/fhir", json=_transaction(_people()), headers=fh(indexed))
    assert r.status_code == 200, r.text
    ids = [e["resource"]["id"] for e in r.json()["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert len(ids) == 5
    for rid in ids:
        p = client.get(f"/fhir/Patient/{rid}", headers=fh(indexed))
        assert p.status_code == 200
    enc = client.get(f"/fhir/Encounter?patient={ids[4]}", headers=fh(indexed)).json()
    assert enc["total"] == 1
