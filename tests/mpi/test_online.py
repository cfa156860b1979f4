"""MPI on both engines: matching on write (registry API and FHIR), links, review queue, merge/unmerge,
$match, bad input, scope and audit."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from rhip.mpi.bulk import index_registry
from rhip.mpi.models import MpiBlock, MpiLink, MpiReview
from rhip.mpi.service import params
from rhip.security.models import AuditEvent, AuditSubject
from tests.factories import T1, V11, V12, V21, auth

FH = {"Content-Type": "application/fhir+json"}


def _index(db) -> None:
    with db.engine.begin() as conn:
        index_registry(conn, params())


@pytest.fixture
def indexed(county, db):
    _index(db)
    return county


def _events(db, action):
    with db.read_only() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _subjects(db, event_id):
    with db.read_only() as s:
        return sorted(s.scalars(select(AuditSubject.resident_id).where(AuditSubject.event_id == event_id)))


def _empi(client, c, rid, who="admin"):
    r = client.get(f"/api/mpi/residents/{rid}/identity", headers=auth(c, who))
    assert r.status_code == 200, r.text
    return r.json()


def _register(client, c, **fields):
    body = {"sex": "2", "village_code": V12, **fields}
    r = client.post("/api/residents", json=body, headers=auth(c, "admin"))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_index_gives_every_registration_a_person_and_hashed_keys(indexed, db, client):
    with db.read_only() as s:
        links = list(s.scalars(select(MpiLink)))
        keys = list(s.scalars(select(MpiBlock.key)))
    assert len(links) == 5 and len({x.person_id for x in links}) == 5
    assert all(isinstance(k, int) for k in keys) and keys
    ident = _empi(client, indexed, indexed.residents["zhang"])
    assert len(ident["empi"]) == 32 and ident["records"][0]["source_system"] == "rhip.registry"


def test_homophone_second_registration_is_linked_automatically(indexed, db, client):
    zhang = indexed.residents["zhang"]
    new = _register(client, indexed, name="张莉", birth_date="1958-03-14", phone="13812345678")
    a, b = _empi(client, indexed, zhang), _empi(client, indexed, new)
    assert a["empi"] == b["empi"]
    rec = {x["resident_id"]: x for x in b["records"]}
    assert rec[new]["how"] == "auto" and rec[new]["score"] > params().match_threshold
    ev = [e for e in _events(db, "mpi.match") if new in _subjects(db, e.id)][-1]
    assert json.loads(ev.detail)["result"] == "linked" and _subjects(db, ev.id) == sorted([zhang, new])
    # FHIR read shows the other registration of the same person
    p = client.get(f"/fhir/Patient/{new}", headers=auth(indexed, "admin")).json()
    assert p["link"] == [{"other": {"reference": f"Patient/{zhang}"}, "type": "seealso"}]


def test_unrelated_person_gets_a_new_identity(indexed, client):
    new = _register(client, indexed, name="欧阳娜娜", birth_date="1990-05-06", phone="13600001234")
    ident = _empi(client, indexed, new)
    assert [x["resident_id"] for x in ident["records"]] == [new]
    assert ident["records"][0]["how"] == "new"


def _possible(client, c):
    """Same surname, birth date, sex and village as 王建国 but another given name: never linked
    automatically (twins look like this) — queued."""
    return _register(client, c, name="王金刚", sex="1", birth_date="1955-08-01", village_code=V11)


def test_possible_match_is_queued_with_field_comparison(indexed, db, client):
    new = _possible(client, indexed)
    wang = indexed.residents["wang"]
    assert _empi(client, indexed, new)["empi"] != _empi(client, indexed, wang)["empi"]
    r = client.get("/api/mpi/reviews", headers=auth(indexed, "admin"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 1
    item = body["items"][0]
    assert {item["a"]["id"], item["b"]["id"]} == {wang, new}
    levels = {x["field"]: x for x in item["comparison"]}
    assert levels["name"]["level"] == "same_surname_only" and levels["birth_date"]["level"] == "exact"
    assert levels["name"]["weight"] < 0 < levels["birth_date"]["weight"]
    assert "*" in (item["a"]["id_number_masked"] or "*")
    counts = client.get("/api/mpi/reviews/counts", headers=auth(indexed, "admin")).json()
    assert counts == [{"township": T1[:9], "name": "城关镇", "pending": 1}]
    ev = _events(db, "mpi.review.list")[-1]
    assert _subjects(db, ev.id) == sorted([wang, new])


def test_decision_link_joins_identities_and_is_remembered(indexed, db, client):
    new = _possible(client, indexed)
    rid = client.get("/api/mpi/reviews", headers=auth(indexed, "admin")).json()["items"][0]["id"]
    r = client.post(f"/api/mpi/reviews/{rid}/decision", json={"decision": "link", "reason": "同一人，电话核实"},
                    headers=auth(indexed, "admin"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "linked" and r.json()["decided_by"] == "admin"
    assert _empi(client, indexed, new)["empi"] == _empi(client, indexed, indexed.residents["wang"])["empi"]
    again = client.post(f"/api/mpi/reviews/{rid}/decision", json={"decision": "distinct", "reason": "改主意"},
                        headers=auth(indexed, "admin"))
    assert again.status_code == 409
    ev = _events(db, "mpi.review.decide")[-1]
    assert json.loads(ev.detail)["decision"] == "link"
    assert _subjects(db, ev.id) == sorted([indexed.residents["wang"], new])


def test_decision_distinct_is_not_proposed_again(indexed, db, client):
    new = _possible(client, indexed)
    rid = client.get("/api/mpi/reviews", headers=auth(indexed, "admin")).json()["items"][0]["id"]
    r = client.post(f"/api/mpi/reviews/{rid}/decision", json={"decision": "distinct", "reason": "兄弟二人"},
                    headers=auth(indexed, "admin"))
    assert r.status_code == 200, r.text
    # a later change of the record does not bring the pair back
    upd = client.patch(f"/api/residents/{new}", json={"phone": "13911112222"}, headers=auth(indexed, "admin"))
    assert upd.status_code == 200, upd.text
    assert client.get("/api/mpi/reviews", headers=auth(indexed, "admin")).json()["total"] == 0
    with db.read_only() as s:
        assert [x.status for x in s.scalars(select(MpiReview))] == ["distinct"]
    assert _empi(client, indexed, new)["empi"] != _empi(client, indexed, indexed.residents["wang"])["empi"]


def test_decision_needs_reason_and_known_decision(indexed, client):
    _possible(client, indexed)
    rid = client.get("/api/mpi/reviews", headers=auth(indexed, "admin")).json()["items"][0]["id"]
    r = client.post(f"/api/mpi/reviews/{rid}/decision", json={"decision": "link", "reason": " "},
                    headers=auth(indexed, "admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = client.post(f"/api/mpi/reviews/{rid}/decision", json={"decision": "maybe", "reason": "不确定"},
                    headers=auth(indexed, "admin"))
    assert r.status_code == 422


def test_review_queue_is_scoped_and_needs_permission(indexed, client):
    _possible(client, indexed)  # a pair in township 1
    # township staff of township 2 see nothing of it
    r = client.get("/api/mpi/reviews", headers=auth(indexed, "township"))
    assert r.status_code == 200 and r.json()["total"] == 0
    assert client.get("/api/mpi/reviews/counts", headers=auth(indexed, "township")).json() == []
    rid = client.get("/api/mpi/reviews", headers=auth(indexed, "admin")).json()["items"][0]["id"]
    assert client.get(f"/api/mpi/reviews/{rid}", headers=auth(indexed, "township")).status_code == 404
    # a village doctor may register residents but not review identities
    assert client.get("/api/mpi/reviews", headers=auth(indexed, "village_doctor")).status_code == 403


def test_merge_and_unmerge_keep_every_record(indexed, db, client):
    zhang, li = indexed.residents["zhang"], indexed.residents["li"]
    r = client.post("/api/mpi/merges", json={"survivor": zhang, "merged": li, "reason": "测试合并"},
                    headers=auth(indexed, "admin"))
    assert r.status_code == 201, r.text
    merge_id = r.json()["id"]
    ident = _empi(client, indexed, li)
    rec = {x["resident_id"]: x for x in ident["records"]}
    assert rec[li]["status"] == "replaced" and rec[li]["replaced_by"] == zhang
    assert rec[zhang]["status"] == "active"
    h = auth(indexed, "admin")
    assert client.get(f"/fhir/Patient/{li}", headers=h).json()["link"] == [
        {"other": {"reference": f"Patient/{zhang}"}, "type": "replaced-by"}]
    assert client.get(f"/fhir/Patient/{zhang}", headers=h).json()["link"] == [
        {"other": {"reference": f"Patient/{li}"}, "type": "replaces"}]
    assert client.get(f"/api/residents/{li}", headers=h).status_code == 200  # the row is still there
    # merging again is refused
    again = client.post("/api/mpi/merges", json={"survivor": zhang, "merged": li, "reason": "再次"}, headers=h)
    assert again.status_code == 409
    r = client.post(f"/api/mpi/merges/{merge_id}/undo", json={"reason": "合并错误"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["undone_by"] == "admin"
    assert _empi(client, indexed, li)["empi"] != _empi(client, indexed, zhang)["empi"]
    assert "link" not in client.get(f"/fhir/Patient/{li}", headers=h).json()
    assert client.post(f"/api/mpi/merges/{merge_id}/undo", json={"reason": "再撤销"}, headers=h).status_code == 409
    for action in ("mpi.merge", "mpi.unmerge"):
        ev = _events(db, action)[-1]
        assert _subjects(db, ev.id) == sorted([zhang, li])
    # the undone pair is remembered as two people
    with db.read_only() as s:
        assert [x.status for x in s.scalars(select(MpiReview))] == ["distinct"]


def test_merge_out_of_scope_is_refused_and_audited(indexed, db, client):
    # township staff serve township 2 only; 张丽 lives in township 1
    r = client.post("/api/mpi/merges", json={"survivor": indexed.residents["out"], "merged": indexed.residents["zhang"],
                                             "reason": "越权"}, headers=auth(indexed, "township"))
    assert r.status_code == 404
    ev = _events(db, "mpi.merge")[-1]
    assert ev.outcome == "denied"


def _params_body(patient: dict, **extra) -> dict:
    prm = [{"name": "resource", "resource": {"resourceType": "Patient", **patient}}]
    if "only" in extra:
        prm.append({"name": "onlyCertainMatches", "valueBoolean": extra["only"]})
    if "count" in extra:
        prm.append({"name": "count", "valueInteger": extra["count"]})
    return {"resourceType": "Parameters", "parameter": prm}


def test_fhir_match_returns_graded_bundle(indexed, db, client):
    h = {**auth(indexed, "admin"), **FH}
    body = _params_body({"name": [{"text": "张莉"}], "gender": "female", "birthDate": "1958-03-14",
                         "telecom": [{"system": "phone", "value": "13812345678"}]})
    r = client.post("/fhir/Patient/$match", json=body, headers=h)
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["resourceType"] == "Bundle" and b["type"] == "searchset" and b["total"] >= 1
    top = b["entry"][0]
    assert top["resource"]["id"] == str(indexed.residents["zhang"])
    assert top["search"]["mode"] == "match" and 0.99 <= top["search"]["score"] <= 1
    assert top["search"]["extension"] == [{"url": "http://hl7.org/fhir/StructureDefinition/match-grade",
                                           "valueCode": "certain"}]
    ev = _events(db, "mpi.match_query")[-1]
    assert indexed.residents["zhang"] in _subjects(db, ev.id)
    # a weaker query: probable, dropped with onlyCertainMatches
    weak = _params_body({"name": [{"text": "王金刚"}], "gender": "male", "birthDate": "1955-08-01",
                         "address": [{"extension": [{"url": "urn:rhip:fhir:StructureDefinition:division-code",
                                                     "valueCode": V11}]}]})
    grades = [e["search"]["extension"][0]["valueCode"] for e in client.post("/fhir/Patient/$match", json=weak,
                                                                              headers=h).json()["entry"]]
    assert grades and "certain" not in grades
    only = _params_body(weak["parameter"][0]["resource"], only=True)
    assert client.post("/fhir/Patient/$match", json=only, headers=h).json()["total"] == 0


def test_fhir_match_is_scoped(indexed, client):
    h = {**auth(indexed, "township"), **FH}  # township 2: 张丽 is not theirs
    body = _params_body({"name": [{"text": "张丽"}], "gender": "female", "birthDate": "1958-03-14"})
    r = client.post("/fhir/Patient/$match", json=body, headers=h)
    assert r.status_code == 200 and r.json()["total"] == 0


@pytest.mark.parametrize("patient, where, text", [
    ({"name": [{"text": "###"}], "birthDate": "1958-03-14"}, "Patient.name", "no Chinese characters"),
    ({"name": [{"text": "张丽"}], "birthDate": "2999-01-01"}, "Patient.birthDate", "impossible"),
    ({"name": [{"text": "张丽"}], "identifier": [{"system": "urn:oid:2.16.156.10011.1.1", "value": "ABC123"}]},
     "Patient.identifier", "18 characters"),
    ({"gender": "female"}, "Patient.name", "at least a name"),
])
def test_fhir_match_bad_input_is_explained(indexed, client, patient, where, text):
    r = client.post("/fhir/Patient/$match", json=_params_body(patient), headers={**auth(indexed, "admin"), **FH})
    assert r.status_code in (400, 422), r.text
    issue = r.json()["issue"][0]
    assert issue["expression"] == [where] and text in issue["diagnostics"]


def test_fhir_match_bad_parameters(indexed, client):
    h = {**auth(indexed, "admin"), **FH}
    assert client.post("/fhir/Patient/$match", json={"resourceType": "Patient"}, headers=h).status_code == 400
    bad_date = _params_body({"name": [{"text": "张丽"}], "birthDate": "1958-02-30"})
    r = client.post("/fhir/Patient/$match", json=bad_date, headers=h)
    assert r.status_code in (400, 422) and r.json()["resourceType"] == "OperationOutcome"
    r = client.post("/fhir/Patient/$match", json=_params_body({"name": [{"text": "张丽"}]}, count=500), headers=h)
    assert r.status_code == 422 and "count" in r.json()["issue"][0]["diagnostics"]


def test_api_match_bad_input(indexed, client):
    r = client.post("/api/mpi/match", json={"name": "", "id_number": "12345X6789"}, headers=auth(indexed, "admin"))
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"name", "id_number"}
    ok = client.post("/api/mpi/match", json={"name": "李秀英", "birth_date": "1949-12-31"},
                     headers=auth(indexed, "admin"))
    assert ok.status_code == 200 and ok.json()[0]["resident"]["id"] == indexed.residents["li"]
    assert ok.json()[0]["resident"]["id_number_masked"].count("*") >= 8


def test_fhir_create_patient_is_matched(indexed, client):
    h = {**auth(indexed, "admin"), **FH}
    body = {"resourceType": "Patient", "name": [{"use": "official", "text": "李秀英"}], "gender": "female",
            "birthDate": "1949-12-31", "telecom": [{"system": "phone", "value": "13900001111"}],
            "address": [{"extension": [{"url": "urn:rhip:fhir:StructureDefinition:division-code",
                                        "valueCode": V21}]}]}
    r = client.post("/fhir/Patient", json=body, headers=h)
    assert r.status_code == 201, r.text
    new = int(r.json()["id"])
    assert _empi(client, indexed, new)["empi"] == _empi(client, indexed, indexed.residents["li"])["empi"]


def test_update_that_makes_a_match_links_a_lone_record(indexed, client):
    new = _register(client, indexed, name="刘强", sex="1", birth_date="1982-03-08", village_code=V21)
    out = indexed.residents["out"]
    assert _empi(client, indexed, new)["empi"] != _empi(client, indexed, out)["empi"]
    r = client.patch(f"/api/residents/{new}", json={"birth_date": "1980-07-07", "phone": "13700002222"},
                     headers=auth(indexed, "admin"))
    assert r.status_code == 200, r.text
    assert _empi(client, indexed, new)["empi"] == _empi(client, indexed, out)["empi"]


def test_synth_stage_resolves_the_second_registrations(db):
    """The demo's 'mpi' stage on the tiny county: every registration indexed, duplicates linked, scored
    against synth_truth; re-running skips it."""
    from sqlalchemy import func

    from rhip.registry.models import Resident
    from rhip.synth.profiles import get_profile
    from rhip.synth.runner import run

    results = run(db, get_profile("tiny"), 7, stages=["structure", "people", "mpi"])
    stage = next(r for r in results if r.stage == "mpi")
    truth = stage.stats["truth"]
    assert truth["true_pairs"] > 0 and truth["precision"] >= 0.9 and truth["recall"] >= 0.9
    with db.read_only() as s:
        residents = s.scalar(select(func.count()).select_from(Resident))
        links = s.scalar(select(func.count()).select_from(MpiLink))
        persons = s.scalar(select(func.count(func.distinct(MpiLink.person_id))))
    assert links == residents == stage.rows
    assert persons == residents - stage.stats["linked"]
    again = run(db, get_profile("tiny"), 7, stages=["mpi"])
    assert again[0].skipped


def test_fhir_create_links_the_facility_patient_number(indexed, client):
    h = {**auth(indexed, "admin"), **FH}
    system = "urn:rhip:sid:patient:CH411530"
    body = {"resourceType": "Patient", "identifier": [{"system": system, "value": "MRN-0001"}],
            "name": [{"use": "official", "text": "赵六"}], "gender": "male", "birthDate": "1970-01-02",
            "address": [{"extension": [{"url": "urn:rhip:fhir:StructureDefinition:division-code",
                                        "valueCode": V21}]}]}
    r = client.post("/fhir/Patient", json=body, headers=h)
    assert r.status_code == 201, r.text
    new = int(r.json()["id"])
    records = _empi(client, indexed, new)["records"]
    assert {(x["source_system"], x["source_id"]) for x in records} == {("rhip.registry", str(new)),
                                                                      (system, "MRN-0001")}
    # the same hospital number for somebody else is refused
    body2 = {**body, "name": [{"use": "official", "text": "钱七"}], "birthDate": "1990-03-04"}
    r = client.post("/fhir/Patient", json=body2, headers=h)
    assert r.status_code == 409, r.text


def test_bulk_import_matches_each_patient(indexed, db, client, tmp_path):
    from rhip.fhir.bulk import import_files
    from rhip.security.service import system_principal

    p = {"resourceType": "Patient", "id": "his-1", "name": [{"use": "official", "text": "张莉"}],
         "gender": "female", "birthDate": "1958-03-14", "telecom": [{"system": "phone", "value": "13812345678"}],
         "address": [{"extension": [{"url": "urn:rhip:fhir:StructureDefinition:division-code", "valueCode": V12}]}]}
    path = tmp_path / "Patient.ndjson"
    path.write_text(json.dumps(p, ensure_ascii=False) + "\n", encoding="utf-8")
    report = import_files(db, system_principal("test"), [path])
    assert report.created == {"Patient": 1} and not report.rejected
    with db.read_only() as s:
        new = s.scalar(select(MpiLink.resident_id).order_by(MpiLink.id.desc()).limit(1))
    assert _empi(client, indexed, new)["empi"] == _empi(client, indexed, indexed.residents["zhang"])["empi"]


def test_pending_pair_leaves_the_queue_once_the_records_are_one_person(indexed, client):
    new = _possible(client, indexed)
    h = auth(indexed, "admin")
    assert client.get("/api/mpi/reviews", headers=h).json()["total"] == 1
    r = client.post("/api/mpi/merges", json={"survivor": indexed.residents["wang"], "merged": new,
                                             "reason": "核实为同一人"}, headers=h)
    assert r.status_code == 201, r.text
    assert client.get("/api/mpi/reviews", headers=h).json()["total"] == 0
    assert client.get("/api/mpi/reviews/counts", headers=h).json() == []
