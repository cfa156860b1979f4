"""Contracts API on SQLite and PostgreSQL: life-cycle, errors, optimistic locking, scope, audit, fulfilment."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from rhip.contracts import service
from rhip.contracts.models import Contract
from rhip.registry.models import Resident
from rhip.security.models import AuditEvent, AuditSubject
from rhip.security.service import system_principal
from tests.contracts.conftest import encounter, sign_body
from tests.factories import auth


def events(db, action):
    with db.read_only() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()
        return [(e.outcome, e.username, sorted(s.scalars(select(AuditSubject.resident_id)
                                                         .where(AuditSubject.event_id == e.id)))) for e in rows]


def sign(client, st, key="village_doctor", **changes):
    return client.post("/api/contracts", json=sign_body(st, **changes), headers=auth(st.county, key))


def test_sign_read_and_audit(client, setup, db):
    st = setup
    r = sign(client, st)
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["status"] == c["status_as_of"] == "active"
    assert (c["start_date"], c["end_date"]) == ("2026-03-01", "2027-02-28")
    assert [p["code"] for p in c["packages"]] == ["basic", "hypertension"]
    assert c["fee"] == 40.0  # personal shares: 10 + 30
    assert "*" * 10 in c["id_number_masked"] and "id_number" not in c
    assert c["doctor_name"] == "赵村医" and c["team_name"] == "城关镇家庭医生一队"
    assert set(c["key_populations"]) == {"elderly65", "hypertension"}  # stored when signing
    assert r.headers["location"] == f"/api/contracts/{c['id']}" and r.headers["etag"] == 'W/"1"'
    assert events(db, "contract.create") == [("ok", "village_doctor", [st.county.residents["zhang"]])]
    got = client.get(f"/api/contracts/{c['id']}", headers=auth(st.county, "village_doctor")).json()
    assert got["fulfilment"]["promised"] == 7 and got["fulfilment"]["delivered"] == 0
    assert events(db, "contract.read")[-1][2] == [st.county.residents["zhang"]]


def test_second_active_contract_refused_by_service_and_database(client, setup, db):
    st = setup
    assert sign(client, st).status_code == 201
    r = sign(client, st, team_id=st.team2, doctor_id=st.doc2)
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "contract.already_signed" and "城关镇家庭医生一队" in body["message_zh"]
    with db.read_only() as s:
        first = s.scalar(select(Contract))
    with pytest.raises(IntegrityError):
        with db.unit_of_work() as s:
            s.add(Contract(resident_id=first.resident_id, team_id=st.team2, doctor_id=st.doc2,
                           catalogue_version="2024.1", start_date=date(2026, 3, 1), end_date=date(2027, 2, 28),
                           status="active", consent_date=date(2026, 3, 1), consent_method="written", fee_fen=0,
                           version=1, created_at=datetime(2026, 3, 1), updated_at=datetime(2026, 3, 1)))


@pytest.mark.parametrize("changes, field, code", [
    ({"doctor_id": "doc2"}, "doctor_id", "doctor.not_in_team"),
    ({"resident": "li"}, "team_id", "team.village"),
    ({"packages": ["basic", "diabetes"]}, "packages", "package.not_eligible"),
    ({"packages": ["hypertension"]}, "packages", "packages.basic"),
    ({"end_date": "2026-02-01"}, "end_date", "end_date.before_start"),
    ({"start_date": "2025-12-01", "consent_date": "2025-12-01"}, "start_date", "start_date.too_early"),
    ({"consent_method": "verbal_witnessed"}, "consent_witness", "consent_witness.required"),
    ({"consent_date": "2026-03-02"}, "consent_date", "consent_date.future"),
])
def test_sign_errors_say_what_is_wrong(client, setup, changes, field, code):
    st = setup
    changes = dict(changes)
    if changes.get("doctor_id") == "doc2":
        changes["doctor_id"] = st.doc2
    resident = changes.pop("resident", "zhang")
    r = client.post("/api/contracts", json=sign_body(st, resident, **changes), headers=auth(st.county, "admin"))
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert (field, code) in [(e["field"], e["code"]) for e in errors]
    assert all(e["message_zh"] and e["message_en"] for e in errors)


def test_team_village_error_names_the_village(client, setup):
    st = setup
    r = client.post("/api/contracts", json=sign_body(st, "li", packages=["basic"]), headers=auth(st.county, "admin"))
    assert "李家湾村" in r.json()["errors"][0]["message_zh"]


def test_renew_transfer_terminate_life_cycle(client, setup, db, frozen):
    st = setup
    h = auth(st.county, "village_doctor")
    c = sign(client, st).json()
    consent = {"consent_date": "2026-03-01", "consent_method": "e_signature"}
    early = client.post(f"/api/contracts/{c['id']}/renew", json=consent, headers=h)
    assert early.status_code == 422 and early.json()["errors"][0]["code"] == "renew.too_early"
    assert "2026-11-30" in early.json()["message_zh"]
    frozen.at = datetime(2027, 2, 1, 9)
    r = client.post(f"/api/contracts/{c['id']}/renew", json={**consent, "consent_date": "2027-02-01"}, headers=h)
    assert r.status_code == 201, r.text
    renewed = r.json()
    assert (renewed["start_date"], renewed["end_date"], renewed["previous_id"]) == ("2027-03-01", "2028-02-29", c["id"])
    old = client.get(f"/api/contracts/{c['id']}", headers=h).json()
    assert old["status"] == "renewed" and old["version"] == 2
    # as of a day in the old term it is still in force; the renewal is in force from its start
    in_force = client.get("/api/contracts", params={"in_force_on": "2027-02-15"}, headers=h).json()
    assert [i["id"] for i in in_force["items"]] == [c["id"]]
    frozen.at = datetime(2027, 4, 1, 9)
    t = client.post(f"/api/contracts/{renewed['id']}/transfer", json={"team_id": st.team1, "doctor_id": st.gp,
                                                                       "reason": "x"}, headers=h)
    assert t.status_code == 422 and t.json()["errors"][0]["code"] == "team.same"
    t = client.post(f"/api/contracts/{renewed['id']}/transfer",
                    json={"team_id": st.team2, "doctor_id": st.doc2, "reason": ""}, headers=h)
    assert [e["code"] for e in t.json()["errors"]] == ["reason.required"]
    t = client.post(f"/api/contracts/{renewed['id']}/transfer",
                    json={"team_id": st.team2, "doctor_id": st.doc2, "reason": "居民要求更换团队"}, headers=h)
    assert t.status_code == 201, t.text
    moved = t.json()
    assert (moved["team_id"], moved["start_date"], moved["end_date"], moved["fee"]) == (
        st.team2, "2027-04-01", "2028-02-29", 0.0)
    before = client.get(f"/api/contracts/{renewed['id']}", headers=h).json()
    assert (before["status"], before["ended_on"], before["end_note"]) == ("transferred", "2027-03-31", "居民要求更换团队")
    bad = client.post(f"/api/contracts/{moved['id']}/terminate", json={"reason": "other"}, headers=h)
    assert bad.json()["errors"][0]["code"] == "note.required"
    stale = client.post(f"/api/contracts/{moved['id']}/terminate", json={"reason": "resident_request"},
                        headers={**h, "If-Match": 'W/"7"'})
    assert stale.status_code == 412 and stale.json()["code"] == "version_mismatch"
    done = client.post(f"/api/contracts/{moved['id']}/terminate", json={"reason": "resident_request"},
                       headers={**h, "If-Match": 'W/"1"'})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["ended_on"], done.json()["version"]) == ("terminated", "2027-04-01", 2)
    again = client.post(f"/api/contracts/{moved['id']}/terminate", json={"reason": "resident_request"}, headers=h)
    assert again.status_code == 409 and again.json()["code"] == "contract.not_active"
    # ended contracts leave room for a new one
    frozen.at = datetime(2027, 4, 2, 9)
    assert sign(client, st, consent_date="2027-04-02").status_code == 201
    assert [e[0] for e in events(db, "contract.renew") + events(db, "contract.transfer")
            + events(db, "contract.terminate")] == ["ok", "ok", "ok"]


def test_expiry_as_of_and_by_the_job(client, setup, db, frozen):
    st = setup
    c = sign(client, st).json()
    other = sign(client, st, resident="wang", packages=["basic"]).json()
    frozen.at = datetime(2027, 3, 1, 8)
    h = auth(st.county, "admin")
    got = client.get(f"/api/contracts/{c['id']}", headers=h).json()
    assert (got["status"], got["status_as_of"]) == ("active", "expired")
    assert client.get("/api/contracts", params={"status": "expired"}, headers=h).json()["total"] == 2
    assert client.get("/api/contracts", params={"status": "active"}, headers=h).json()["total"] == 0
    with db.unit_of_work() as s:
        s.get(Resident, st.county.residents["wang"]).status = "deceased"
    with db.unit_of_work() as s:
        s.get(Resident, st.county.residents["wang"]).status_date = date(2026, 10, 1)
    with db.unit_of_work() as s:
        assert service.expire(s, system_principal("test")) == {"expired": 1, "terminated": 1}
    with db.unit_of_work() as s:
        assert service.expire(s, system_principal("test")) == {"expired": 0, "terminated": 0}
    assert client.get(f"/api/contracts/{c['id']}", headers=h).json()["status"] == "expired"
    dead = client.get(f"/api/contracts/{other['id']}", headers=h).json()
    assert (dead["status"], dead["end_reason"], dead["ended_on"]) == ("terminated", "deceased", "2026-10-01")
    # a lapsed contract can still be renewed: the new term starts today
    r = client.post(f"/api/contracts/{c['id']}/renew", json={"consent_date": "2027-03-01", "consent_method": "written"},
                    headers=h)
    assert r.status_code == 201 and r.json()["start_date"] == "2027-03-01"


def test_scope_and_permissions(client, setup, db):
    st = setup
    c = sign(client, st).json()
    # the township user serves 白塔乡 only: the contract is not disclosed, and the refusal is audited
    r = client.get(f"/api/contracts/{c['id']}", headers=auth(st.county, "township"))
    assert r.status_code == 404
    assert events(db, "contract.read")[-1][:2] == ("denied", "township")
    assert client.get("/api/contracts", headers=auth(st.county, "township")).json()["total"] == 0
    assert client.get("/api/contracts", headers=auth(st.county, "manager")).json()["total"] == 1
    assert sign(client, st, key="township", resident="wang").status_code == 404
    assert client.get("/api/contracts", headers=auth(st.county, "supervision")).status_code == 403
    assert sign(client, st, key="manager", resident="wang").status_code == 403  # read only


def test_fulfilment_counts_the_teams_services_in_the_period(client, setup, db, frozen):
    st = setup
    c = sign(client, st).json()
    zhang, org = st.county.residents["zhang"], st.county.org
    encounter(db, zhang, org["vc11"], "followup", date(2026, 4, 10), 1)  # counted (village clinic of the team)
    encounter(db, zhang, org["thc1"], "physical_exam", date(2026, 6, 1), 2)  # counted (the team's centre)
    encounter(db, zhang, org["county_hospital"], "followup", date(2026, 5, 1), 3)  # not the team's
    encounter(db, zhang, org["vc11"], "followup", date(2026, 2, 20), 4)  # before the contract
    encounter(db, zhang, org["vc11"], "outpatient", date(2026, 7, 1), 5)  # a contact
    frozen.at = datetime(2026, 11, 23, 9)
    f = client.get(f"/api/contracts/{c['id']}", headers=auth(st.county, "admin")).json()["fulfilment"]
    by = {x["service"]: (x["promised"], x["expected"], x["delivered"], x["overdue"]) for x in f["services"]}
    assert by == {"contact": (2, 1, 3, 0), "followup": (4, 2, 1, 1), "physical_exam": (1, 0, 1, 0)}
    assert (f["promised"], f["delivered"], f["signed_not_served"]) == (7, 4, False)
    assert f["rate"] == round(4 / 7, 4)


def test_signed_but_not_served_and_indicator_facts(client, setup, db, frozen):
    st = setup
    sign(client, st)
    sign(client, st, resident="child", packages=["basic", "child"])
    frozen.at = datetime(2026, 11, 23, 9)
    h = auth(st.county, "admin")
    items = client.get("/api/contracts", headers=h).json()["items"]
    assert all(i["fulfilment"]["signed_not_served"] for i in items)
    with db.unit_of_work() as s:
        from rhip.contracts import populations

        populations.refresh(s, system_principal("test"), mode="full")
    rows = {r["key"]: r for r in client.get("/api/contracts/facts", headers=h).json()["rows"]}
    t1 = rows["411530101"]
    assert (t1["residents"], t1["signed"], t1["key_residents"], t1["key_signed"]) == (4, 2, 4, 2)
    assert t1["signing_rate"] == 0.5 and t1["signed_not_served"] == 2 and t1["delivered"] == 0
    teams = {r["key"]: r for r in client.get("/api/contracts/facts", params={"by": "team"}, headers=h).json()["rows"]}
    assert teams["T01"]["signed"] == 2 and teams["T02"]["signed"] == 0 and teams["T02"]["residents"] == 4


def test_key_populations_with_reasons(client, setup, db, frozen):
    st = setup
    frozen.at = datetime(2026, 11, 23, 9)
    r = client.get(f"/api/residents/{st.county.residents['zhang']}/key-populations", headers=auth(st.county, "admin"))
    assert r.status_code == 200
    assert [(p["population"], p["reason_zh"]) for p in r.json()["populations"]] == [
        ("elderly65", "年龄 68"), ("hypertension", "I10 诊断于 2025-03-02")]
    assert events(db, "key_population.read")[-1][2] == [st.county.residents["zhang"]]
    out = client.get(f"/api/residents/{st.county.residents['zhang']}/key-populations",
                     headers=auth(st.county, "township"))
    assert out.status_code == 404


def test_refresh_recomputes_only_what_changed(setup, db, frozen):
    from rhip.contracts import populations
    from rhip.contracts.models import KeyPopulation

    who = system_principal("test")
    frozen.at = datetime(2026, 3, 1, 10)  # after the fixture wrote its facts
    with db.unit_of_work() as s:
        first = populations.refresh(s, who)
    assert first["mode"] == "full" and first["residents"] == 5
    frozen.at = datetime(2026, 3, 2, 9)
    with db.unit_of_work() as s:
        li = s.get(Resident, st_id := setup.county.residents["li"])
        li.poverty_registered, li.updated_at = True, frozen.at
    with db.unit_of_work() as s:
        second = populations.refresh(s, who)
    assert second["mode"] == "changed" and second["residents"] == 1
    with db.read_only() as s:
        got = {(k.population, k.reason_zh) for k in s.scalars(select(KeyPopulation)
                                                              .where(KeyPopulation.resident_id == st_id))}
    assert got == {("elderly65", "年龄 76"), ("poor", "建档立卡贫困人口")}
