"""Enrolment, follow-up forms, worklists and facts on the small fixed county, through the services and the API,
on both engines."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from rhip.programs import enrollment as enrol
from rhip.programs.models import FollowUp, ProgramFact, ProgramItem
from rhip.records.models import Encounter, Observation, ObservationComponent
from rhip.registry.models import Resident, Team
from rhip.security.models import AuditEvent
from rhip.security.service import system_principal
from tests.factories import V11, auth
from tests.programs.support import ON, post_followup, programs_of


def test_automatic_enrolment_from_the_facts(db, enrolled):
    c = enrolled
    zhang = programs_of(db, c.residents["zhang"])
    assert set(zhang) == {"hypertension", "elderly"}
    assert zhang["hypertension"].basis == "auto" and zhang["hypertension"].reason_code == "condition"
    assert zhang["hypertension"].source_ref.startswith("Condition/")
    assert zhang["hypertension"].start_date == date(2019, 4, 2) and zhang["hypertension"].schedule_version == "2017"
    assert set(programs_of(db, c.residents["child"])) == {"child"}
    assert set(programs_of(db, c.residents["out"])) == set()        # 45, no diagnosis
    with db.read_only() as s:
        quarters = s.scalars(select(ProgramItem.kind).where(ProgramItem.enrollment_id == zhang["hypertension"].id)
                             .order_by(ProgramItem.window_start)).all()
    assert quarters[:4] == ["hypertension.2026q1", "hypertension.2026q2", "hypertension.2026q3", "hypertension.2026q4"]
    # recomputing changes nothing; a death ends the enrolments on its date
    with db.unit_of_work() as s:
        assert enrol.recompute(s, system_principal("test"), list(c.residents.values()), on=ON).count == 0
        wang = s.get(Resident, c.residents["wang"])
        wang.status, wang.status_date = "deceased", date(2026, 2, 10)
    with db.unit_of_work() as s:
        enrol.recompute(s, system_principal("test"), [c.residents["wang"]], on=ON)
    e = programs_of(db, c.residents["wang"])["elderly"]
    assert (e.status, e.end_date, e.end_reason) == ("ended", date(2026, 2, 10), "death")


@pytest.mark.parametrize("answers, field, fragment", [
    ({"sbp": 400, "dbp": 90}, "sbp", "收缩压 400"),
    ({"sbp": 130, "dbp": 140}, "sbp", "应高于舒张压"),
    ({"sbp": 130}, "dbp", "请填写舒张压"),
    ({"sbp": "abc", "dbp": 80}, "sbp", "应为数字"),
    ({"sbp": 130, "dbp": 80, "adherence": "sometimes"}, "adherence", "无效"),
])
def test_implausible_forms_are_refused_with_clear_messages(client, db, enrolled, answers, field, fragment):
    r = post_followup(client, enrolled, "zhang", "hypertension", "2026-03-10", answers)
    assert r.status_code == 422, r.text
    body = r.json()
    assert any(e["field"] == field and fragment in e["message_zh"] for e in body["errors"]), body
    with db.read_only() as s:  # nothing was stored
        assert s.scalar(select(func.count()).select_from(FollowUp)) == 0
        assert s.scalar(select(func.count()).select_from(Encounter)) == 0


def test_followups_classify_and_plan_the_next_step(client, db, enrolled):
    c = enrolled
    # 67 years old: the (verify) 65+ threshold <150/90 applies — 150/85 is not below it
    r = post_followup(client, c, "zhang", "hypertension", "2026-03-10", {"sbp": 150, "dbp": 85, "weight": 61,
                                                                         "heart_rate": 76})
    assert r.status_code == 201, r.text
    first = r.json()
    assert (first["control_status"], first["next_step"], first["next_visit_due"]) == (
        "uncontrolled", "adjust_recheck", "2026-03-24")
    assert first["item_kind"] == "hypertension.2026q1"
    # the second consecutive uncontrolled reading: referral suggested, check back within 2 weeks
    second = post_followup(client, c, "zhang", "hypertension", "2026-03-20", {"sbp": 152, "dbp": 92}).json()
    assert second["next_step"] == "refer" and "uncontrolled_twice" in [x["code"] for x in second["reasons"]]
    # a 65-year-old at 149/89 is controlled: routine visit in 3 months
    third = post_followup(client, c, "zhang", "hypertension", "2026-04-01", {"sbp": 149, "dbp": 89}).json()
    assert (third["control_status"], third["next_step"], third["next_visit_due"]) == (
        "controlled", "routine", "2026-07-01")
    with db.read_only() as s:
        enc = s.get(Encounter, first["encounter_id"])
        assert (enc.kind, enc.resident_id, enc.reason) == ("followup", c.residents["zhang"], "高血压患者随访")
        obs = {o.code: o for o in s.scalars(select(Observation).where(Observation.encounter_id == enc.id))}
        assert set(obs) == {"85354-9", "29463-7", "8867-4"}
        comps = {x.code: x.value for x in s.scalars(select(ObservationComponent)
                                                    .where(ObservationComponent.observation_id == obs["85354-9"].id))}
        assert comps == {"8480-6": 150, "8462-4": 85}
        items = {(i.kind, i.window_start): i for i in s.scalars(select(ProgramItem).where(
            ProgramItem.resident_id == c.residents["zhang"], ProgramItem.program == "hypertension"))}
        assert items[("hypertension.2026q1", date(2026, 1, 1))].done_on == date(2026, 3, 10)
        rechecks = sorted((k[1], i.done_on) for k, i in items.items() if k[0] == "hypertension.recheck")
        assert rechecks == [(date(2026, 3, 11), date(2026, 3, 20)), (date(2026, 3, 21), date(2026, 4, 1))]
        fact = s.get(ProgramFact, (c.residents["zhang"], "hypertension", 2026))
        assert (fact.followups, fact.managed, fact.managed_per_spec, fact.latest_control_status) == (
            3, True, False, "controlled")
        actions = set(s.scalars(select(AuditEvent.action)))
        assert {"program.followup.create", "encounter.create", "observation.create"} <= actions
    listed = client.get(f"/api/programs/followups?resident_id={c.residents['zhang']}",
                        headers=auth(c, "village_doctor")).json()
    assert [f["visit_date"] for f in listed] == ["2026-04-01", "2026-03-20", "2026-03-10"]


def test_followup_refusals(client, enrolled):
    c = enrolled
    out = post_followup(client, c, "out", "hypertension", "2026-03-10", {"sbp": 130, "dbp": 80})
    assert out.status_code == 404                       # outside the village doctor's scope
    r = post_followup(client, c, "wang", "hypertension", "2026-03-10", {"sbp": 130, "dbp": 80})
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "enrollment.none"
    r = post_followup(client, c, "zhang", "asthma", "2026-03-10", {})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "program"
    r = post_followup(client, c, "zhang", "hypertension", "2026-03-10", {"sbp": 130, "dbp": 80}, who="manager")
    assert r.status_code == 403


def test_manual_enrolment_and_exit(client, db, enrolled):
    c = enrolled
    h = auth(c, "village_doctor")
    r = client.post("/api/programs/enrollments", headers=h, json={
        "resident_id": c.residents["wang"], "program": "diabetes", "start_date": "2026-02-01", "reason": ""})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = client.post("/api/programs/enrollments", headers=h, json={
        "resident_id": c.residents["wang"], "program": "diabetes", "start_date": "2026-02-01",
        "reason": "县医院确诊，转回社区管理"})
    assert r.status_code == 201, r.text
    e = r.json()
    assert (e["basis"], e["reason_text"], e["status"]) == ("manual", "县医院确诊，转回社区管理", "active")
    again = client.post("/api/programs/enrollments", headers=h, json={
        "resident_id": c.residents["wang"], "program": "diabetes", "start_date": "2026-02-01", "reason": "x"})
    assert again.status_code == 409
    # a manual enrolment survives recomputation from the facts
    with db.unit_of_work() as s:
        enrol.recompute(s, system_principal("test"), [c.residents["wang"]], on=ON)
    assert programs_of(db, c.residents["wang"])["diabetes"].status == "active"
    r = client.post(f"/api/programs/enrollments/{e['id']}/end", headers=h,
                    json={"end_date": "2026-05-01", "reason": "moved_out"})
    assert r.status_code == 200 and r.json()["end_reason"] == "moved_out"
    with db.read_only() as s:
        left = s.scalars(select(ProgramItem.status).where(ProgramItem.enrollment_id == e["id"],
                                                          ProgramItem.window_start > date(2026, 5, 1))).all()
    assert left and set(left) == {"cancelled"}


def worklist(client, county, who="village_doctor", **params):
    return client.get("/api/worklists", headers=auth(county, who), params=params)


def test_worklist_as_of_a_date(client, db, enrolled):
    c = enrolled
    r = worklist(client, c, org=V11, as_of="2026-05-20")
    assert r.status_code == 200, r.text
    rows = r.json()["items"]
    keys = [(x["resident_id"], x["visit_kind"], x["status"]) for x in rows]
    zhang, child = c.residents["zhang"], c.residents["child"]
    # zhang's first quarter was missed (overdue since 31 March), the second is due; the child's 4-year check
    # (3 February ± 1 month) is overdue
    assert (zhang, "hypertension.2026q1", "overdue") in keys and (zhang, "hypertension.2026q2", "due") in keys
    assert (child, "child.y4", "overdue") in keys
    q1 = next(x for x in rows if x["visit_kind"] == "hypertension.2026q1")
    assert (q1["days_overdue"], q1["window_end"], q1["due_date"]) == (50, "2026-03-31", "2026-01-01")
    statuses = [x["status"] for x in rows]
    assert statuses == sorted(statuses, key=["overdue", "due", "upcoming"].index)   # most urgent first
    overdue = [x["days_overdue"] for x in rows if x["status"] == "overdue"]
    assert overdue == sorted(overdue, reverse=True)
    assert all(x["village_code"] == V11 for x in rows)
    assert "****" in next(x["phone"] for x in rows if x["resident_id"] == zhang)   # masked in lists
    # a visit on the last day of the window fulfils it: the quarter leaves the list
    post_followup(client, c, "zhang", "hypertension", "2026-06-30", {"sbp": 128, "dbp": 78})
    later = worklist(client, c, org=V11, as_of="2026-06-30").json()["items"]
    assert not [x for x in later if x["visit_kind"] in ("hypertension.2026q1", "hypertension.2026q2")]


def test_worklist_orgs_scope_and_paging(client, db, enrolled):
    c = enrolled
    with db.read_only() as s:
        team = s.scalar(select(Team.id))
    by_team = worklist(client, c, org=f"team:{team}", as_of="2026-05-20").json()
    by_village = worklist(client, c, org=V11, as_of="2026-05-20").json()
    assert by_team["total"] == by_village["total"] > 0
    township = worklist(client, c, who="admin", org="411530101", as_of="2026-05-20").json()
    assert township["total"] > by_village["total"]          #李 in the township's other village
    paged = worklist(client, c, org=V11, as_of="2026-05-20", page_size=2, page=2).json()
    assert (paged["page"], len(paged["items"]), paged["pages"]) == (2, 2, -(-by_village["total"] // 2))
    assert worklist(client, c, org="999", as_of="2026-05-20").status_code == 422
    assert worklist(client, c, org="team:999", as_of="2026-05-20").status_code == 422
    assert worklist(client, c, program="asthma").status_code == 422
    # township staff of the other township sees none of these residents; the supervisor may not read programmes
    assert worklist(client, c, who="township", org=V11, as_of="2026-05-20").json()["total"] == 0
    assert worklist(client, c, who="supervision", as_of="2026-05-20").status_code == 403
    only = worklist(client, c, org=V11, as_of="2026-05-20", program="child", status="overdue").json()["items"]
    assert only and {(x["program"], x["status"]) for x in only} == {("child", "overdue")}
    with db.read_only() as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "worklist.read")).all()
    assert ev and max(e.resident_count for e in ev) >= 2


def test_facts_summary(client, db, enrolled):
    c = enrolled
    for visit in ("2026-01-10", "2026-04-10", "2026-07-10", "2026-10-10"):
        assert post_followup(client, c, "zhang", "hypertension", visit, {"sbp": 132, "dbp": 80}).status_code == 201
    summary = {x["program"]: x for x in client.get("/api/programs/facts/summary?year=2026",
                                                   headers=auth(c, "admin")).json()}
    assert summary["hypertension"] == {"program": "hypertension", "managed": 1, "managed_per_spec": 1,
                                       "controlled": 1}


def test_writing_facts_recomputes_enrolment(client, db, county):
    """A diagnosis written through the records API enrols at once; a recorded death ends the enrolments."""
    c = county
    h = auth(c, "village_doctor")
    r = client.post("/fhir/Condition", headers={**h, "Content-Type": "application/fhir+json"}, json={
        "resourceType": "Condition", "subject": {"reference": f"Patient/{c.residents['wang']}"},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "E11.9"}]},
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                       "code": "active"}]},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                  "code": "problem-list-item"}]}],
        "onsetDateTime": "2025-09-01", "recordedDate": "2025-09-01"})
    assert r.status_code == 201, r.text
    got = programs_of(db, c.residents["wang"])
    assert got["diabetes"].basis == "auto" and got["diabetes"].source_ref == f"Condition/{r.json()['id']}"
    r = client.patch(f"/api/residents/{c.residents['wang']}", headers=auth(c, "admin"),
                     json={"status": "deceased", "status_date": "2026-01-05"})
    assert r.status_code == 200, r.text
    assert {(p, e.status, e.end_reason) for p, e in programs_of(db, c.residents["wang"]).items()} == {
        ("diabetes", "ended", "death"), ("elderly", "ended", "death")}
