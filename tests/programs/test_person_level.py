"""Programme enrolment is per person (MPI), not per registration: the rule (table-driven) and the services on
both engines — a second registration of an enrolled person is not enrolled again (and says why), a manual
enrolment is refused, and a merge ends the duplicate's enrolment with its open items."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from rhip.programs import enrollment as enrol
from rhip.programs import repository as repo
from rhip.programs.models import Enrollment, ProgramItem
from rhip.programs.rules_enrollment import Desired
from rhip.programs.rules_person import LINKED, MERGED, HeldElsewhere, per_person
from rhip.security.models import AuditEvent
from rhip.security.service import system_principal
from tests.factories import auth
from tests.mpi.support import index_and_check_linked, second_registration
from tests.programs.support import ON, programs_of


def _d(program: str, ref: str = "Patient#birthDate") -> Desired:
    return Desired(program, date(2024, 1, 1), "age", "", "", ref)


@pytest.mark.parametrize("desired, held, replaced_by, kept, skipped", [
    # nothing held elsewhere: everything is enrolled
    (["elderly", "hypertension"], [], None, ["elderly", "hypertension"], []),
    # the person's other registration holds elderly: only hypertension is enrolled here
    (["elderly", "hypertension"], [("elderly", 7)], None, ["hypertension"], [("elderly", 7, LINKED)]),
    # another programme held elsewhere does not matter
    (["elderly"], [("diabetes", 7)], None, ["elderly"], []),
    # two other registrations hold it: the first named is reported
    (["hypertension"], [("hypertension", 7), ("hypertension", 9)], None, [], [("hypertension", 7, LINKED)]),
    # a merged registration gets nothing, whatever is held elsewhere
    (["elderly", "child"], [], 5, [], [("elderly", 5, MERGED), ("child", 5, MERGED)]),
    (["elderly"], [("elderly", 7)], 5, [], [("elderly", 5, MERGED)]),
    ([], [("elderly", 7)], None, [], []),
])
def test_per_person_rule(desired, held, replaced_by, kept, skipped):
    keep, not_made = per_person([_d(p) for p in desired], [HeldElsewhere(p, r) for p, r in held],
                                replaced_by=replaced_by)
    assert [d.program for d in keep] == kept
    assert [(n.program, n.via_resident_id, n.code) for n in not_made] == skipped
    assert all(n.reason_zh and n.reason_en and str(n.via_resident_id) in n.reason_zh for n in not_made)


def test_second_registration_is_not_enrolled_again(db, client, enrolled):
    c = enrolled
    dup = second_registration(db, c)
    index_and_check_linked(db, c)
    with db.unit_of_work() as s:
        ch = enrol.recompute(s, system_principal("test"), [dup], on=ON)
    assert programs_of(db, dup) == {}  # 68 years old, but her elderly care runs on the first registration
    assert [(rid, n.program, n.via_resident_id, n.code) for rid, n in ch.not_enrolled] == [
        (dup, "elderly", c.residents["zhang"], LINKED)]
    with db.read_only() as s:  # the reason is recorded
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "program.enrollment.recompute")
                       .order_by(AuditEvent.id.desc())).first()
    detail = json.loads(ev.detail)
    assert detail["not_enrolled"][0]["via"] == c.residents["zhang"] and "不重复纳入" in detail["not_enrolled"][0]["reason"]
    # ... and visible: the second registration lists the person's enrolments, marked as held by the other one
    r = client.get("/api/programs/enrollments", params={"resident_id": dup}, headers=auth(c, "village_doctor"))
    assert r.status_code == 200, r.text
    assert {(e["program"], e["resident_id"], e["linked"]) for e in r.json()} == {
        ("hypertension", c.residents["zhang"], True), ("elderly", c.residents["zhang"], True)}
    # a manual enrolment of the second registration is refused with the reason
    r = client.post("/api/programs/enrollments", headers=auth(c, "village_doctor"), json={
        "resident_id": dup, "program": "hypertension", "start_date": "2026-03-01", "reason": "外院确诊"})
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "enrollment.linked_registration"


def test_bulk_job_enrols_each_person_once(db, county):
    dup = second_registration(db, county)
    index_and_check_linked(db, county)
    with db.unit_of_work() as s:
        stats = enrol.recompute_all(s, system_principal("test"), ON)
    assert stats["not_enrolled_same_person"] == 1
    assert set(programs_of(db, county.residents["zhang"])) == {"elderly"}  # the earlier registration
    assert programs_of(db, dup) == {}


def test_merge_ends_the_duplicate_enrolment_and_cancels_its_items(db, client, county):
    c = county
    dup = second_registration(db, c)
    with db.unit_of_work() as s:  # enrolled before the MPI knew they are one person: twice in elderly
        enrol.recompute(s, system_principal("test"), [c.residents["zhang"], dup], on=ON)
    assert set(programs_of(db, dup)) == set(programs_of(db, c.residents["zhang"])) == {"elderly"}
    index_and_check_linked(db, c)
    r = client.post("/api/mpi/merges", json={"survivor": c.residents["zhang"], "merged": dup, "reason": "同一人"},
                    headers=auth(c, "admin"))
    assert r.status_code == 201, r.text
    gone, kept = programs_of(db, dup)["elderly"], programs_of(db, c.residents["zhang"])["elderly"]
    assert (gone.status, gone.end_reason) == ("ended", "merged") and str(c.residents["zhang"]) in gone.end_note
    assert kept.status == "active"
    with db.read_only() as s:
        statuses = dict(s.execute(select(ProgramItem.status, func.count()).where(ProgramItem.enrollment_id == gone.id)
                                  .group_by(ProgramItem.status)).all())
        kept_open = s.scalar(select(func.count()).select_from(ProgramItem).where(
            ProgramItem.enrollment_id == kept.id, ProgramItem.status == "scheduled"))
        active = s.scalar(select(func.count()).select_from(Enrollment).where(
            Enrollment.resident_id.in_([dup, c.residents["zhang"]]), Enrollment.status == "active"))
    assert statuses.get("scheduled", 0) == 0 and statuses["cancelled"] > 0
    assert kept_open > 0 and active == 1
    with db.read_only() as s:  # the duplicate's items are off every worklist: their stored closing date says so
        closes = set(s.scalars(select(ProgramItem.closes_on).where(ProgramItem.enrollment_id == gone.id,
                                                                   ProgramItem.status == "cancelled")))
    assert closes == {repo.CANCELLED_CLOSES}
    with db.unit_of_work() as s:  # a later recompute changes nothing
        assert enrol.recompute(s, system_principal("test"), [dup, c.residents["zhang"]], on=ON).count == 0
    assert programs_of(db, dup)["elderly"].status == "ended"
    # a manual enrolment of the merged registration is refused
    r = client.post("/api/programs/enrollments", headers=auth(c, "admin"), json={
        "resident_id": dup, "program": "hypertension", "start_date": "2026-03-01", "reason": "外院确诊"})
    assert r.status_code == 409 and r.json()["code"] == f"enrollment.{MERGED}", r.text
