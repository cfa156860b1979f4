"""Helpers of the programme tests: facts written directly, the county enrolled, follow-ups through the API."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from rhip.programs.models import Enrollment
from rhip.records.models import Condition
from tests.factories import auth

ON = date(2026, 3, 1)


def add_condition(db, resident_id: int, code: str, onset: date, cid: str = "c1") -> None:
    now = datetime(2026, 1, 1)
    with db.unit_of_work() as s:
        s.add(Condition(resident_id=resident_id, source_system="test", source_id=cid, version=1, created_at=now,
                        updated_at=now, code_system="http://hl7.org/fhir/sid/icd-10", code=code, display=code,
                        category="problem-list-item", clinical_status="active", verification_status="confirmed",
                        onset_date=onset, recorded_date=onset))


def programs_of(db, resident_id: int) -> dict[str, Enrollment]:
    with db.read_only() as s:
        return {e.program: e for e in s.scalars(select(Enrollment).where(Enrollment.resident_id == resident_id))}


def post_followup(client, county, resident: str, program: str, visit: str, answers: dict, who="village_doctor",
                  **extra):
    return client.post("/api/programs/followups", headers=auth(county, who), json={
        "resident_id": county.residents[resident], "program": program, "visit_date": visit,
        "answers": {"way": "clinic", "adherence": "regular", **answers}, **extra})


