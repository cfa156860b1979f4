"""FHIR CareTeam over the family-doctor teams: read, search by _id / participant / patient, scope, audit,
and a truthful CapabilityStatement."""

from __future__ import annotations

from sqlalchemy import select

from rhip.fhir.validation import validate
from rhip.registry.models import Practitioner, Team
from rhip.security.models import AuditEvent
from tests.factories import auth
from tests.fhir.support import fh


def _ids(db):
    with db.read_only() as s:
        team = s.scalar(select(Team.id).where(Team.code == "T01"))
        doc = s.scalar(select(Practitioner.id).where(Practitioner.name == "赵村医"))
        gp = s.scalar(select(Practitioner.id).where(Practitioner.name == "钱全科"))
    return team, doc, gp


def test_read_care_team(client, county, db):
    team, doc, gp = _ids(db)
    r = client.get(f"/fhir/CareTeam/{team}", headers=fh(county))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    body = validate(r.json(), "CareTeam")
    assert body["name"] == "城关镇家庭医生一队" and body["status"] == "active"
    assert body["managingOrganization"][0] == {"reference": f"Organization/{county.org['thc1']}", "display": "城关镇卫生院"}
    roles = {p["member"]["reference"]: p["role"][0]["coding"][0]["code"] for p in body["participant"]}
    assert roles == {f"Practitioner/{gp}": "leader", f"Practitioner/{doc}": "village_doctor"}
    assert "王庄村" in body["note"][0]["text"]
    missing = client.get("/fhir/CareTeam/999", headers=fh(county))
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"


def test_search_by_id_participant_and_patient(client, county, db):
    team, doc, _ = _ids(db)
    assert client.get("/fhir/CareTeam", params={"_id": team}, headers=fh(county)).json()["total"] == 1
    by_member = client.get("/fhir/CareTeam", params={"participant": f"Practitioner/{doc}"}, headers=fh(county)).json()
    assert [e["resource"]["id"] for e in by_member["entry"]] == [str(team)]
    zhang = county.residents["zhang"]
    none = client.get("/fhir/CareTeam", params={"patient": f"Patient/{zhang}"}, headers=fh(county)).json()
    assert none["total"] == 0  # not signed yet
    signed = client.post("/api/contracts", headers=auth(county, "admin"), json={
        "resident_id": zhang, "team_id": team, "doctor_id": doc, "packages": ["basic"],
        "consent_date": _today(), "consent_method": "written"})
    assert signed.status_code == 201, signed.text
    found = client.get("/fhir/CareTeam", params={"patient": f"Patient/{zhang}"}, headers=fh(county)).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [str(team)]
    with db.read_only() as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "careteam.search")
                       .order_by(AuditEvent.id.desc())).first()
    assert ev.outcome == "ok" and ev.resident_count == 1
    # a patient outside the user's scope: not disclosed, refusal audited
    out = client.get("/fhir/CareTeam", params={"patient": f"Patient/{zhang}"}, headers=fh(county, "township"))
    assert out.status_code == 404 and out.json()["resourceType"] == "OperationOutcome"
    bad = client.get("/fhir/CareTeam", params={"subject": "Patient/1"}, headers=fh(county))
    assert bad.status_code == 400


def _today() -> str:
    from rhip.kit import clock

    return clock.now().date().isoformat()


def test_capability_statement_lists_care_team(client, county):
    cs = client.get("/fhir/metadata", headers=fh(county)).json()
    entry = [r for r in cs["rest"][0]["resource"] if r["type"] == "CareTeam"]
    assert entry and {p["name"] for p in entry[0]["searchParam"]} == {"_id", "participant", "patient"}
    assert [i["code"] for i in entry[0]["interaction"]] == ["read", "search-type"]
