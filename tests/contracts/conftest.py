"""Contracts fixtures: the small fixed county plus a second team, a diagnosis and a frozen clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pytest
from sqlalchemy import select

from rhip.kit import clock
from rhip.records.models import Condition, Encounter
from rhip.registry.models import Practitioner, PractitionerOrg, Team, TeamMember, TeamVillage
from tests.factories import V11, V12

TODAY = datetime(2026, 3, 1, 9, 30)


@dataclass
class Setup:
    county: object
    team1: int
    team2: int
    gp: int  # leader of team 1
    vdoc: int  # village doctor of team 1
    doc2: int  # member of team 2 only


@pytest.fixture
def frozen(monkeypatch):
    """The platform's clock, settable: ``frozen.at = datetime(...)``."""
    class Clock:
        at = TODAY

    monkeypatch.setattr(clock, "now", lambda: Clock.at)
    return Clock


@pytest.fixture
def setup(db, county, frozen) -> Setup:
    with db.unit_of_work() as s:
        team1 = s.scalar(select(Team).where(Team.code == "T01"))
        gp = s.scalar(select(Practitioner.id).where(Practitioner.name == "钱全科"))
        vdoc = s.scalar(select(Practitioner.id).where(Practitioner.name == "赵村医"))
        doc2 = Practitioner(name="孙医生", sex="1", birth_date=date(1980, 1, 1), profession="physician",
                            qualification="licensed_physician")
        s.add(doc2)
        s.flush()
        s.add(PractitionerOrg(practitioner_id=doc2.id, org_id=county.org["thc1"], is_primary=True))
        team2 = Team(code="T02", name="城关镇家庭医生二队", org_id=county.org["thc1"])
        s.add(team2)
        s.flush()
        s.add_all([TeamMember(team_id=team2.id, practitioner_id=doc2.id, role="leader"),
                   TeamVillage(team_id=team2.id, division_code=V11), TeamVillage(team_id=team2.id, division_code=V12)])
        s.add(Condition(resident_id=county.residents["zhang"], org_id=county.org["vc11"], source_system="test",
                        source_id="c1", version=1, created_at=TODAY, updated_at=TODAY, code_system="icd-10",
                        code="I10", display="原发性高血压", category="problem-list-item", clinical_status="active",
                        verification_status="confirmed", onset_date=date(2025, 3, 2), recorded_date=date(2025, 3, 2)))
        return Setup(county, team1.id, team2.id, gp, vdoc, doc2.id)


def encounter(db, resident_id: int, org_id: int, kind: str, day: date, n: int) -> None:
    at = datetime(day.year, day.month, day.day, 10)
    with db.unit_of_work() as s:
        s.add(Encounter(resident_id=resident_id, org_id=org_id, source_system="test", source_id=f"e{n}", version=1,
                        created_at=at, updated_at=at, kind=kind, status="finished", period_start=at, period_end=at))


def sign_body(st: Setup, resident: str = "zhang", **changes) -> dict:
    body = {"resident_id": st.county.residents[resident], "team_id": st.team1, "doctor_id": st.vdoc,
            "packages": ["basic", "hypertension"], "consent_date": "2026-03-01", "consent_method": "written"}
    body.update(changes)
    return body
