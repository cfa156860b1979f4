"""The synthetic county's programme history (stage 'programs') on the tiny profile, both engines."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from rhip.kit.pagination import PageRequest
from rhip.programs import worklist as wl
from rhip.programs.models import Enrollment, FollowUp, ProgramFact, ProgramItem
from rhip.records.models import Condition, Encounter
from rhip.registry.models import Resident
from rhip.security.service import system_principal
from rhip.synth.profiles import get_profile
from rhip.synth.programs import Window
from rhip.synth.runner import run


@pytest.fixture
def tiny(db):
    return {r.stage: r for r in run(db, get_profile("tiny"), 11)}


def test_programme_history_is_consistent(db, tiny):
    st = tiny["programs"]
    assert st.rows > 0 and st.stats["followups"] > 0 and st.stats["linked"] > 0
    w = Window.for_year(get_profile("tiny").as_of_year)
    with db.read_only() as s:
        by_program = Counter(s.scalars(select(Enrollment.program)))
        assert {"hypertension", "diabetes", "elderly", "child", "pregnancy"} <= set(by_program)
        # every hypertension enrolment rests on an I10 condition of someone aged 35+
        for e, birth, code in s.execute(
                select(Enrollment, Resident.birth_date, Condition.code)
                .join(Resident, Resident.id == Enrollment.resident_id)
                .join(Condition, Condition.id == func.cast(func.substr(Enrollment.source_ref, 11), Condition.id.type))
                .where(Enrollment.program == "hypertension")):
            assert code.startswith("I1") and e.start_date.year - birth.year >= 35
        # follow-ups point at encounters of the same resident, inside the window; done items at their follow-up
        orphans = s.scalar(select(func.count()).select_from(FollowUp).outerjoin(
            Encounter, Encounter.id == FollowUp.encounter_id).where(
            (Encounter.id.is_(None)) | (Encounter.resident_id != FollowUp.resident_id)))
        assert orphans == 0
        span = s.execute(select(func.min(FollowUp.visit_date), func.max(FollowUp.visit_date))).one()
        assert w.start <= span[0] and span[1] <= w.end
        done = s.execute(select(ProgramItem.done_on, FollowUp.visit_date).join(
            FollowUp, FollowUp.id == ProgramItem.followup_id)).all()
        assert done and all(a == b for a, b in done)
        steps = Counter(s.scalars(select(FollowUp.next_step).where(FollowUp.program == "hypertension")))
        assert steps["routine"] > steps["adjust_recheck"] > 0 and steps["refer"] > 0
        years = {y for (y,) in s.execute(select(ProgramFact.year).distinct())}
        assert years == {w.start.year, w.start.year + 1, w.end.year}
        managed, per_spec = s.execute(select(func.count(), func.sum(func.cast(ProgramFact.managed_per_spec,
                                                                             ProgramFact.followups.type)))
                                      .where(ProgramFact.program == "hypertension",
                                             ProgramFact.year == w.start.year)).one()
        assert 0.3 < per_spec / managed < 0.95       # realistic 规范管理率: neither nobody nor everybody


def test_demo_worklist_looks_like_a_county(db, tiny):
    as_of = Window.for_year(get_profile("tiny").as_of_year).end + (date(2026, 1, 4) - date(2026, 1, 1))
    with db.unit_of_work() as s:
        q = wl.build_query(s, org=None, as_of=as_of)
        rows = wl.page(s, system_principal("test"), q, PageRequest(1, 500)).items
    statuses = Counter(r["status"] for r in rows)
    programs = Counter(r["program"] for r in rows)
    assert statuses["due"] > statuses["overdue"] > 0
    assert {"hypertension", "elderly", "child"} <= set(programs)
    assert any(r["visit_kind"].endswith(".recheck") for r in rows)


def test_stage_facts_are_the_bulk_jobs_facts(db, tiny):
    """The workers compute the indicator facts from the rows they generate; the platform's bulk job, run over
    the loaded database, gives the same rows."""
    from rhip.programs import facts

    w = Window.for_year(get_profile("tiny").as_of_year)

    def rows():
        with db.read_only() as s:
            return sorted(tuple(r[:-1]) for r in s.execute(select(*[ProgramFact.__table__.c[c]
                                                                     for c in facts.COLUMNS])))

    staged = rows()
    assert len(staged) > 100 and {r[2] for r in staged} == set(range(w.start.year, w.end.year + 1))
    with db.unit_of_work() as s:
        for year in range(w.start.year, w.end.year + 1):
            facts.refresh(s, year, until=w.end)
    assert rows() == staged
