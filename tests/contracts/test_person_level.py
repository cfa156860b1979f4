"""One contract in force per person (MPI), not per registration: the rule (table-driven) and the services on
both engines — a second registration of a signed person cannot sign, and a merge ends the duplicate's
contract."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from rhip.contracts.models import Contract
from rhip.contracts.rules_person import MERGED, end_on_merge, may_sign
from tests.contracts.conftest import sign_body
from tests.factories import auth
from tests.mpi.support import index_and_check_linked, second_registration


@pytest.mark.parametrize("replaced_by, others, code", [
    (None, [], None),                                   # nobody else signed: may sign
    (None, [12], "contract.person_signed"),             # the person's other registration has a contract
    (None, [15, 12], "contract.person_signed"),
    (7, [], "contract.merged_registration"),            # merged into 7: sign there
    (7, [12], "contract.merged_registration"),
])
def test_may_sign(replaced_by, others, code):
    refusal = may_sign(replaced_by, others)
    assert (refusal.code if refusal else None) == code
    if refusal:
        assert str(replaced_by or min(others)) in refusal.zh and refusal.en


@pytest.mark.parametrize("merged, survivor, ends", [
    (True, True, True), (True, False, False), (False, True, False), (False, False, False)])
def test_end_on_merge(merged, survivor, ends):
    assert end_on_merge(merged, survivor) is ends


def test_second_registration_of_a_signed_person_cannot_sign(client, setup, db):
    st = setup
    dup = second_registration(db, st.county)
    index_and_check_linked(db, st.county)
    h = auth(st.county, "village_doctor")
    assert client.post("/api/contracts", json=sign_body(st), headers=h).status_code == 201
    r = client.post("/api/contracts", json=sign_body(st, "zhang2", packages=["basic"]), headers=h)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "contract.person_signed" and str(st.county.residents["zhang"]) in r.json()["message_zh"]
    with db.read_only() as s:
        assert s.scalar(select(Contract).where(Contract.resident_id == dup)) is None


def test_merge_ends_the_duplicate_contract(client, setup, db):
    st = setup
    dup = second_registration(db, st.county)
    h = auth(st.county, "village_doctor")
    # signed twice before the MPI knew the two registrations are one person
    first = client.post("/api/contracts", json=sign_body(st), headers=h).json()
    second = client.post("/api/contracts", json=sign_body(st, "zhang2", packages=["basic"]), headers=h).json()
    index_and_check_linked(db, st.county)
    r = client.post("/api/mpi/merges", json={"survivor": st.county.residents["zhang"], "merged": dup,
                                            "reason": "同一人"}, headers=auth(st.county, "admin"))
    assert r.status_code == 201, r.text
    with db.read_only() as s:
        gone, kept = s.get(Contract, second["id"]), s.get(Contract, first["id"])
    assert (gone.status, gone.end_reason, gone.ended_on) == ("terminated", MERGED, date(2026, 3, 1))
    assert kept.status == "active"
    # the merged registration cannot sign again
    r = client.post("/api/contracts", json=sign_body(st, "zhang2", packages=["basic"]), headers=h)
    assert r.status_code == 409 and r.json()["code"] == "contract.merged_registration", r.text
