"""The stored ``program_item.closes_on`` (decision 0010) against the worklist rule it replaces, written out
here as the reference: an item is work as of D unless cancelled, done by D, its enrolment ended before D, or a
later item of the same service has opened by D and been done or closed by D (elderly: has opened)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from rhip.programs import enrollment as enrol
from rhip.programs import repository as repo
from rhip.programs.models import Enrollment, ProgramItem
from rhip.programs.rules_plan import fresh_closing_dates
from rhip.registry.models import Resident
from rhip.security.rules import Scope
from rhip.security.service import system_principal
from rhip.synth.profiles import get_profile
from rhip.synth.programs import Window
from rhip.synth.runner import run
from tests.programs.support import post_followup

EVERYWHERE = Scope(everything=True)


def reference_ids(s, as_of: date, village: str | None = None, horizon: int = 30, lookback: int = 365) -> set[int]:
    i, later = ProgramItem, aliased(ProgramItem)
    q = (select(i.id).join(Enrollment, Enrollment.id == i.enrollment_id)
         .join(Resident, Resident.id == i.resident_id).where(
        Resident.village_code == village if village else i.id > 0,
        i.status != "cancelled",
        or_(i.done_on.is_(None), i.done_on > as_of),
        i.window_start <= as_of + timedelta(days=horizon),
        i.window_end >= as_of - timedelta(days=lookback),
        Enrollment.start_date <= as_of,
        or_(Enrollment.end_date.is_(None), Enrollment.end_date >= as_of),
        ~exists().where(later.enrollment_id == i.enrollment_id, later.service == i.service,
                        later.window_start > i.window_end, later.window_start <= as_of,
                        or_(and_(later.done_on.is_not(None), later.done_on <= as_of), later.window_end < as_of,
                            i.program == "elderly"))))
    return set(s.scalars(q))


def stored_ids(s, as_of: date, village: str | None = None) -> set[int]:
    """The county's worklist (read through the (closes_on, window_start) ranges) or a village's (through each
    resident's open items)."""
    rows, total = repo.worklist(s, repo.WorklistQuery(as_of=as_of, prefix=village), EVERYWHERE)
    assert total == len(rows)
    return {r[0] for r in rows}


def stored_closes(s) -> dict[int, date]:
    return {k: v for k, v in s.execute(select(ProgramItem.id, ProgramItem.closes_on))}


@pytest.fixture
def tiny(db):
    run(db, get_profile("tiny"), 5)
    return Window.for_year(get_profile("tiny").as_of_year)


def test_stored_closing_dates_give_the_reference_worklist_on_every_date(db, tiny):
    with db.read_only() as s:
        assert s.scalar(select(func.count()).select_from(ProgramItem)) > 1000
        villages = list(s.scalars(select(Resident.village_code).group_by(Resident.village_code)
                                  .order_by(func.count().desc()).limit(3)))
        d, checked, nonempty = tiny.start, 0, 0
        while d <= tiny.end + timedelta(days=400):
            want = reference_ids(s, d)
            assert stored_ids(s, d) == want, d
            for v in villages:
                assert stored_ids(s, d, v) == reference_ids(s, d, v), (d, v)
            checked += 1
            nonempty += bool(want)
            d += timedelta(days=23)
        assert checked > 40 and nonempty > 30


def test_every_write_keeps_the_stored_dates_current(client, db, enrolled):
    """Follow-ups (done items, rechecks, a second reading the same day), manual enrolment and exit: after each,
    the stored column equals a fresh recomputation and the worklist equals the reference."""
    c = enrolled
    zhang = c.residents["zhang"]
    for visit, bp in (("2026-03-10", (150, 85)), ("2026-03-20", (152, 92)), ("2026-03-20", (149, 89)),
                      ("2026-04-01", (149, 89))):
        r = post_followup(client, c, "zhang", "hypertension", visit, {"sbp": bp[0], "dbp": bp[1]})
        assert r.status_code == 201, r.text
    who = system_principal("test")
    with db.unit_of_work() as s:
        e = enrol.enroll_manually(s, who, c.residents["li"], "tb", date(2026, 2, 1), "县疾控中心通知")
        enrol.end_enrollment(s, who, e.id, date(2026, 3, 15), "treatment_completed")
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(ProgramItem).where(ProgramItem.resident_id == zhang,
                                                                            ProgramItem.status == "done")) >= 3
        before = stored_closes(s)
        repo.refresh_closes_on(s)
        assert stored_closes(s) == before
        for d in (date(2026, 1, 5), date(2026, 3, 10), date(2026, 3, 21), date(2026, 4, 1), date(2026, 6, 30),
                  date(2026, 10, 2), date(2027, 1, 3)):
            assert stored_ids(s, d) == reference_ids(s, d), d


@pytest.mark.parametrize("program, windows, ended, want", [
    # quarterly follow-ups: each closes the day after the next one's window
    ("hypertension", [("fu", date(2026, 1, 1), date(2026, 3, 31)), ("fu", date(2026, 4, 1), date(2026, 6, 30)),
                      ("fu", date(2026, 7, 1), date(2026, 9, 30))],
     None, [date(2026, 7, 1), date(2026, 10, 1), date(9999, 12, 31)]),
    # the elderly's annual service: closed as soon as the next one opens
    ("elderly", [("annual", date(2026, 1, 1), date(2026, 12, 31)), ("annual", date(2027, 1, 1), date(2027, 12, 31))],
     None, [date(2027, 1, 1), date(9999, 12, 31)]),
    # another service, or a later window overlapping this one, does not close it; the enrolment's end does
    ("child", [("visit", date(2026, 1, 1), date(2026, 2, 28)), ("checkup", date(2026, 3, 1), date(2026, 3, 31)),
               ("visit", date(2026, 2, 1), date(2026, 4, 30))],
     date(2026, 5, 10), [date(2026, 5, 11), date(2026, 5, 11), date(2026, 5, 11)]),
    ("diabetes", [("fu", date(2026, 1, 1), date(2026, 3, 31)), ("fu", date(2026, 4, 1), date(2026, 6, 30))],
     date(2026, 8, 31), [date(2026, 7, 1), date(2026, 9, 1)]),
])
def test_fresh_closing_dates(program, windows, ended, want):
    assert fresh_closing_dates(program, windows, ended) == want


def test_automatic_enrolments_store_what_the_database_rule_gives(db, enrolled):
    """apply_small computes the new items' closes_on in Python: a full recomputation by the SQL rule changes
    nothing, for every programme the small county's residents are enrolled in."""
    with db.unit_of_work() as s:
        programs = set(s.scalars(select(ProgramItem.program).group_by(ProgramItem.program)))
        assert {"hypertension", "elderly", "child"} <= programs
        before = stored_closes(s)
        assert any(v != date(9999, 12, 31) for v in before.values())
        repo.refresh_closes_on(s)
        assert stored_closes(s) == before
