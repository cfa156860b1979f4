"""Users, passwords, scope, tokens and the append-only audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from rhip.kit.errors import Forbidden, NotAuthenticated, ValidationFailed
from rhip.security import service as sec
from rhip.security.models import AuditEvent
from rhip.security.rules import Scope, division_prefix, password_problems
from tests.factories import COUNTY, PASSWORD, T1, V11, auth


@pytest.mark.parametrize("code,prefix", [("411530000000", "411530"), ("411530101000", "411530101"),
                                         ("411530101201", "411530101201")])
def test_division_prefix(code, prefix):
    assert division_prefix(code) == prefix


@pytest.mark.parametrize("scope,village,covered", [
    (Scope(everything=True), V11, True),
    (Scope(prefixes=frozenset({"411530"})), V11, True),
    (Scope(prefixes=frozenset({"411530201"})), V11, False),
    (Scope(prefixes=frozenset({V11})), V11, True),
    (Scope(), V11, False),
])
def test_scope_covers(scope, village, covered):
    assert scope.covers(village) is covered


@pytest.mark.parametrize("pw,ok", [("short1A!", False), ("alllowercaseletters", False), ("Good-Passw0rd", True),
                                   ("admin-Passw0rd", False)])
def test_password_rules(pw, ok):
    assert (password_problems(pw, "admin") == []) is ok


def test_passwords_are_argon2id_hashes(db, county):
    from rhip.security.models import User

    with db.read_only() as s:
        u = s.get(User, county.users["admin"])
        assert u.password_hash.startswith("$argon2id$")
        assert PASSWORD not in u.password_hash


def test_authenticate_and_lockout(db, county):
    with db.unit_of_work() as s:
        assert sec.authenticate(s, "admin", PASSWORD).username == "admin"
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            with db.unit_of_work() as s:
                try:
                    sec.authenticate(s, "manager", "wrong-Passw0rd")
                finally:
                    s.commit()  # the failure counter must persist even though the sign-in failed
    with pytest.raises(Forbidden):
        with db.unit_of_work() as s:
            sec.authenticate(s, "manager", PASSWORD)


def test_unknown_user_cannot_sign_in(db, county):
    with pytest.raises(NotAuthenticated):
        with db.unit_of_work() as s:
            sec.authenticate(s, "nobody", PASSWORD)


def test_weak_password_is_refused_with_reasons(db, county):
    with pytest.raises(ValidationFailed) as e:
        with db.unit_of_work() as s:
            sec.create_user(s, username="weak", display_name="", role="village_doctor", password="abc")
    assert {fe.field for fe in e.value.errors} == {"password"}


def test_village_doctor_scope_comes_from_team_villages(db, county):
    from rhip.security.models import User

    with db.read_only() as s:
        p = sec.principal_for(s, s.get(User, county.users["village_doctor"]), channel="api", client_addr=None)
    assert p.scope.prefixes == frozenset({V11})
    assert p.can("resident.write") and not p.can("users.manage")


def test_revoked_and_expired_tokens_fail(client, county, db):
    from datetime import datetime, timedelta

    from sqlalchemy import update

    from rhip.security.models import ApiToken

    assert client.get("/api/me", headers=auth(county, "manager")).json()["role"] == "commission_manager"
    with db.unit_of_work() as s:
        s.execute(update(ApiToken).values(expires_at=datetime.now() - timedelta(seconds=1)))
    assert client.get("/api/me", headers=auth(county, "manager")).status_code == 401


def test_audit_trail_is_append_only(db, county, client):
    client.get("/api/residents", headers=auth(county, "admin"))
    for stmt in ("UPDATE audit_event SET outcome = 'ok'", "DELETE FROM audit_event", "DELETE FROM audit_subject"):
        with pytest.raises(Exception) as e:
            with db.engine.begin() as conn:
                conn.execute(text(stmt))
        assert "append-only" in str(e.value)


def test_audit_api_for_managers_only(client, county):
    client.get(f"/api/residents/{county.residents['zhang']}", headers=auth(county, "admin"))
    r = client.get("/api/audit", params={"resident": county.residents["zhang"]}, headers=auth(county, "manager"))
    assert r.status_code == 200
    assert any(e["action"] == "resident.read" and e["username"] == "admin" for e in r.json()["items"])
    assert client.get("/api/audit", headers=auth(county, "village_doctor")).status_code == 403


def test_admin_creates_user_and_token_via_api(client, county):
    h = auth(county, "admin")
    r = client.post("/api/users", json={"username": "his_county", "display_name": "县医院HIS", "role": "hospital_doctor",
                                        "divisions": [COUNTY]}, headers=h)
    assert r.status_code == 201, r.text
    tok = client.post("/api/users/his_county/tokens", json={"name": "HIS"}, headers=h).json()["token"]
    me = client.get("/api/me", headers={"Authorization": f"Bearer {tok}"}).json()
    assert me["role"] == "hospital_doctor" and me["scope"] == ["411530"]
    dup = client.post("/api/users", json={"username": "his_county", "role": "hospital_doctor"}, headers=h)
    assert dup.status_code == 409
    bad = client.post("/api/users", json={"username": "x1", "role": "king", "divisions": [T1 + "9"]}, headers=h)
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"role", "divisions"}


def test_failed_multi_row_write_leaves_no_rows(db, county):
    """A write that fails half-way rolls back every row it wrote (one transaction)."""
    from sqlalchemy import func, select

    before = None
    with db.read_only() as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(RuntimeError):
        with db.unit_of_work() as s:
            who = sec.system_principal("test")
            sec.audit(s, who, "test.one")
            sec.audit(s, who, "test.two")
            raise RuntimeError("boom")
    with db.read_only() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before
