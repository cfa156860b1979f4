"""Registry JSON API against the migrated schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from rhip.registry.models import Household, Resident
from rhip.security.models import AuditEvent, AuditSubject
from tests.factories import V11, V12, V21, auth


def _events(db, action=None, outcome=None):
    with db.read_only() as s:
        q = select(AuditEvent)
        if action:
            q = q.where(AuditEvent.action == action)
        if outcome:
            q = q.where(AuditEvent.outcome == outcome)
        return list(s.scalars(q.order_by(AuditEvent.id)))


def _subjects(db, event_id):
    with db.read_only() as s:
        return sorted(s.scalars(select(AuditSubject.resident_id).where(AuditSubject.event_id == event_id)))


def _count(db, model):
    with db.read_only() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_unauthenticated_requests_get_401(client, county):
    r = client.get("/api/residents")
    assert r.status_code == 401
    assert r.json()["code"] == "not_authenticated"
    assert client.get("/api/residents", headers={"Authorization": "Bearer rhip_wrong"}).status_code == 401


def test_search_by_id_number_masks_and_audits(client, county, db):
    r = client.get("/api/residents", params={"id_number": _id_of(db, county.residents["zhang"])},
                   headers=auth(county, "admin"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 1
    item = body["items"][0]
    assert item["name"] == "张丽"
    assert item["id_number_masked"].startswith("4115") and "*" * 10 in item["id_number_masked"]
    assert item["phone_masked"] == "138****5678"
    assert "id_number" not in item
    ev = _events(db, "resident.search")[-1]
    assert ev.username == "admin" and ev.outcome == "ok" and ev.resident_count == 1
    assert _subjects(db, ev.id) == [county.residents["zhang"]]


def _id_of(db, rid):
    with db.read_only() as s:
        return s.get(Resident, rid).id_number


def test_search_by_15_digit_legacy_number_finds_upgraded_record(client, county, db):
    idn = _id_of(db, county.residents["li"])
    legacy = idn[:6] + idn[8:17]
    r = client.get("/api/residents", params={"q": legacy}, headers=auth(county, "admin"))
    assert [i["id"] for i in r.json()["items"]] == [county.residents["li"]]


def test_search_by_name_prefix_phone_household_village_and_tag(client, county):
    h = auth(county, "admin")
    assert {i["name"] for i in client.get("/api/residents", params={"name": "王*"}, headers=h).json()["items"]} == \
        {"王建国", "王小宇"}
    assert [i["name"] for i in client.get("/api/residents", params={"q": "13900001111"}, headers=h).json()["items"]] \
        == ["李秀英"]
    hh = client.get("/api/residents", params={"household": 1, "sort": "birth_date"}, headers=h).json()
    assert [i["name"] for i in hh["items"]][0] == "王建国"
    village = client.get("/api/residents", params={"village": V12}, headers=h).json()
    assert [i["name"] for i in village["items"]] == ["李秀英"]
    elderly = client.get("/api/residents", params={"tag": "elderly65"}, headers=h).json()
    assert {i["name"] for i in elderly["items"]} == {"张丽", "王建国", "李秀英"}
    assert all("elderly65" in i["tags"] for i in elderly["items"])
    kids = client.get("/api/residents", params={"tag": "child0_6"}, headers=h).json()
    assert [i["name"] for i in kids["items"]] == ["王小宇"]


def test_pagination_and_sorting(client, county):
    h = auth(county, "admin")
    p1 = client.get("/api/residents", params={"page_size": 2, "sort": "-birth_date"}, headers=h).json()
    p2 = client.get("/api/residents", params={"page_size": 2, "page": 2, "sort": "-birth_date"}, headers=h).json()
    assert p1["total"] == 5 and p1["pages"] == 3
    births = [i["birth_date"] for i in p1["items"] + p2["items"]]
    assert births == sorted(births, reverse=True)
    assert not {i["id"] for i in p1["items"]} & {i["id"] for i in p2["items"]}
    bad = client.get("/api/residents", params={"sort": "password"}, headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "sort"


def test_detail_shows_whole_id_and_is_audited(client, county, db):
    rid = county.residents["zhang"]
    r = client.get(f"/api/residents/{rid}", headers=auth(county, "admin"))
    assert r.status_code == 200
    assert r.json()["id_number"] == _id_of(db, rid)
    assert r.json()["phone"] == "13812345678"
    assert r.headers["etag"] == 'W/"1"'
    ev = _events(db, "resident.read")[-1]
    assert _subjects(db, ev.id) == [rid]


def test_village_doctor_sees_only_team_villages(client, county, db):
    h = auth(county, "village_doctor")
    names = {i["name"] for i in client.get("/api/residents", params={"page_size": 100}, headers=h).json()["items"]}
    assert names == {"张丽", "王建国", "王小宇"}  # village V11 only
    # cannot find someone outside scope, even by exact ID number
    other = county.residents["out"]
    found = client.get("/api/residents", params={"id_number": _id_of(db, other)}, headers=h).json()
    assert found["total"] == 0
    # and cannot read them: 404 (existence not disclosed), and the attempt is audited as denied
    r = client.get(f"/api/residents/{other}", headers=h)
    assert r.status_code == 404
    denied = _events(db, "resident.read", "denied")
    assert denied and denied[-1].username == "village_doctor"
    assert _subjects(db, denied[-1].id) == [other]


def test_township_staff_scope_is_their_centres_township(client, county):
    h = auth(county, "township")
    names = {i["name"] for i in client.get("/api/residents", headers=h).json()["items"]}
    assert names == {"刘强"}


def test_supervision_staff_cannot_read_residents(client, county):
    r = client.get("/api/residents", headers=auth(county, "supervision"))
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert client.get("/api/organizations", headers=auth(county, "supervision")).status_code == 200


NEW = {"name": "陈晓明", "sex": "1", "birth_date": "1990-05-06", "village_code": V11, "phone": "13511112222"}


def test_create_resident_allocates_record_number_and_audits(client, county, db):
    r = client.post("/api/residents", json=NEW, headers=auth(county, "village_doctor"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["record_no"].startswith(V11) and len(body["record_no"]) == 17
    assert body["id_number_status"] == "missing"
    assert r.headers["location"] == f"/api/residents/{body['id']}"
    ev = _events(db, "resident.create")[-1]
    assert _subjects(db, ev.id) == [body["id"]]


def test_create_resident_rejects_bad_id_number_precisely_and_writes_nothing(client, county, db):
    before = _count(db, Resident)
    r = client.post("/api/residents", json={**NEW, "id_number": "411530199005060011"},
                    headers=auth(county, "admin"))
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "validation_failed"
    err = [e for e in body["errors"] if e["field"] == "id_number"][0]
    assert err["code"] == "id_number.check_char" and "check character should be" in err["message_en"]
    assert "校验码" in err["message_zh"]
    assert _count(db, Resident) == before


def test_create_resident_whose_sex_contradicts_id_is_rejected(client, county):
    from datetime import date

    from rhip.kit.idcard import make_id_number

    idn = make_id_number("411530", date(1990, 5, 6), 124)  # even sequence: female
    r = client.post("/api/residents", json={**NEW, "id_number": idn}, headers=auth(county, "admin"))
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert err["field"] == "sex" and "male" in err["message_en"] and "female" in err["message_en"]


def test_create_resident_outside_scope_is_refused(client, county):
    r = client.post("/api/residents", json={**NEW, "village_code": V21}, headers=auth(county, "village_doctor"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["code"] == "village_code.out_of_scope"


def test_duplicate_id_number_is_refused(client, county, db):
    r = client.post("/api/residents", json={"name": "张丽", "sex": "2", "birth_date": "1958-03-14",
                                            "village_code": V12, "id_number": _id_of(db, county.residents["zhang"])},
                    headers=auth(county, "admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "id_number.duplicate"


def test_unknown_fields_and_bad_types_are_explained(client, county):
    r = client.post("/api/residents", json={**NEW, "birth_date": "1990-13-01", "colour": "red"},
                    headers=auth(county, "admin"))
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"birth_date", "colour"} <= fields
    assert all(e["message_zh"] and e["message_en"] for e in r.json()["errors"])


def test_update_with_optimistic_locking(client, county):
    h = auth(county, "admin")
    rid = county.residents["li"]
    r = client.patch(f"/api/residents/{rid}", json={"phone": "13600003333"}, headers={**h, "If-Match": 'W/"1"'})
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["phone"] == "13600003333"
    stale = client.patch(f"/api/residents/{rid}", json={"phone": "13600004444"}, headers={**h, "If-Match": 'W/"1"'})
    assert stale.status_code == 412 and stale.json()["code"] == "version_mismatch"
    dead = client.patch(f"/api/residents/{rid}", json={"status": "deceased", "status_date": "2026-10-01", "version": 2},
                        headers=h)
    assert dead.status_code == 200 and dead.json()["status"] == "deceased"


def test_household_with_members_is_all_or_nothing(client, county, db):
    h = auth(county, "admin")
    before_r, before_h = _count(db, Resident), _count(db, Household)
    members = [
        {"name": "孙大山", "sex": "1", "birth_date": "1970-01-02", "relation_to_head": "02"},
        {"name": "周小芳", "sex": "2", "birth_date": "1972-03-04", "relation_to_head": "10"},
        {"name": "孙乐", "sex": "1", "birth_date": "2030-01-01", "relation_to_head": "20"},  # future birth date
    ]
    r = client.post("/api/households", json={"village_code": V12, "address": "李家湾村2组5号", "members": members},
                    headers=h)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "members[2].birth_date"
    assert (_count(db, Resident), _count(db, Household)) == (before_r, before_h)
    members[2]["birth_date"] = "2001-06-07"
    ok = client.post("/api/households", json={"village_code": V12, "address": "李家湾村2组5号", "members": members},
                     headers=h)
    assert ok.status_code == 201, ok.text
    body = ok.json()
    assert len(body["members"]) == 3 and body["head_resident_id"] == body["members"][0]["id"]
    got = client.get(f"/api/households/{body['id']}", headers=h).json()
    assert {m["name"] for m in got["members"]} == {"孙大山", "周小芳", "孙乐"}


def test_registry_lists(client, county):
    h = auth(county, "manager")
    divs = client.get("/api/divisions", params={"parent": "411530101000"}, headers=h).json()
    assert [d["code"] for d in divs["items"]] == [V11, V12]
    orgs = client.get("/api/organizations", params={"tier": "township"}, headers=h).json()
    assert orgs["total"] == 2 and all(o["medical_community"] == "青岚县医共体" for o in orgs["items"])
    teams = client.get("/api/teams", headers=h).json()["items"]
    assert teams[0]["villages"] == [V11] and {m["role"] for m in teams[0]["members"]} == {"leader", "village_doctor"}
    pr = client.get("/api/practitioners", params={"profession": "village_doctor"}, headers=h).json()["items"]
    assert pr[0]["name"] == "赵村医" and "*" in pr[0]["id_number_masked"]


def test_id_check_endpoint(client, county):
    r = client.get("/api/id-numbers/11010519491231002X", headers=auth(county, "manager")).json()
    assert r["valid"] and r["sex"] == "2" and r["birth_date"] == "1949-12-31"
    bad = client.get("/api/id-numbers/110105194912310021", headers=auth(county, "manager")).json()
    assert not bad["valid"] and bad["problems"][0]["code"] == "id_number.check_char"


def test_openapi_documents_the_registry(client):
    spec = client.get("/api/openapi.json").json()
    assert "/api/residents" in spec["paths"] and "/api/households" in spec["paths"]
    assert client.get("/api/docs").status_code == 200


@pytest.mark.parametrize("params,field", [({"sex": "7"}, "sex"), ({"status": "zzz"}, "status"), ({"tag": "x"}, "tag"),
                                          ({"village": "abc"}, "village"), ({"page": 0}, "page"),
                                          ({"page_size": 1000}, "page_size")])
def test_impossible_search_criteria_are_errors_not_empty_results(client, county, params, field):
    r = client.get("/api/residents", params=params, headers=auth(county, "admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == field


def test_malformed_json_and_unknown_level(client, county):
    h = auth(county, "admin")
    r = client.patch(f"/api/residents/{county.residents['li']}", content="{bad json",
                     headers={**h, "content-type": "application/json"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"
    assert client.get("/api/divisions", params={"level": "planet"}, headers=h).status_code == 422


def test_access_log_never_contains_the_query_string(client, county, db, caplog):
    import logging

    idn = _id_of(db, county.residents["zhang"])
    with caplog.at_level(logging.INFO, logger="rhip.access"):
        client.get("/api/residents", params={"id_number": idn, "phone": "13812345678"}, headers=auth(county, "admin"))
    lines = [r.getMessage() for r in caplog.records if r.name == "rhip.access"]
    assert lines and "/api/residents" in lines[-1] and " 200 " in lines[-1]
    assert idn not in "".join(lines) and "13812345678" not in "".join(lines)
