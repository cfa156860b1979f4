"""The synthetic county: structure, demography, identity faults, determinism, both databases."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from rhip.kit.idcard import check_id_number
from rhip.registry.models import Division, Household, Organization, Practitioner, Resident, Team, TeamVillage
from rhip.registry.rules import age_on
from rhip.synth import generate, people
from rhip.synth.layout import plan_layout
from rhip.synth.models import SynthTruth
from rhip.synth.profiles import get_profile
from rhip.synth.runner import SynthError, run

TINY = get_profile("tiny")
REF = date(2026, 7, 1)


def _residents(db) -> list[Resident]:
    with db.read_only() as s:
        return list(s.scalars(select(Resident).order_by(Resident.id)))


@pytest.fixture
def tiny(db):
    results = run(db, TINY, 7)
    return results


def test_structure_is_a_plausible_county(db, tiny):
    with db.read_only() as s:
        levels = Counter(s.scalars(select(Division.level)))
        kinds = Counter(s.scalars(select(Organization.kind)))
        villages = list(s.scalars(select(Division.code).where(Division.level == "village")))
        n_prac = s.scalar(select(func.count()).select_from(Practitioner))
        served = set(s.scalars(select(TeamVillage.division_code)))
        teams = s.scalar(select(func.count()).select_from(Team))
    assert levels == {"county": 1, "township": 2, "village": 6}
    assert all(len(c) == 12 and c.startswith("411530") for c in villages)
    for k in ("county_hospital", "tcm_hospital", "mch_centre", "cdc", "supervision", "commission"):
        assert kinds[k] == 1
    assert kinds["township_centre"] == 2
    assert kinds["village_clinic"] == sum(1 for c in villages if int(c[9:]) >= 200)
    assert n_prac > 20 and teams == 2
    assert served == set(villages)  # every village is served by a family-doctor team


def test_people_are_consistent_with_their_id_numbers(db, tiny):
    rows = _residents(db)
    assert len(rows) > TINY.usual_residents
    for r in rows:
        if r.id_number_status in ("valid", "legacy15"):
            chk = check_id_number(r.id_number)
            assert chk.valid, (r.id_number, chk.problems)
            assert chk.birth_date == r.birth_date and chk.sex == r.sex
            assert r.id_number.startswith("411530")
        if r.id_number_status == "legacy15":
            assert len(r.id_number_raw) == 15 and check_id_number(r.id_number_raw).normalized == r.id_number
        if r.id_number_status == "invalid":
            assert r.id_number is None and not check_id_number(r.id_number_raw).valid
        if r.id_number_status == "missing":
            assert r.id_number is None and r.id_number_raw is None
    primary = [r.id_number for r in rows if r.id_number and r.source == "synth"]
    assert len(primary) == len(set(primary))  # no two people share a number


def test_record_numbers_and_households(db, tiny):
    rows = _residents(db)
    assert all(len(r.record_no) == 17 and r.record_no.startswith(r.village_code) for r in rows)
    assert len({r.record_no for r in rows}) == len(rows)
    with db.read_only() as s:
        heads = dict(s.execute(select(Household.id, Household.head_resident_id)).all())
    by_id = {r.id: r for r in rows}
    assert all(by_id[h].relation_to_head == "02" and by_id[h].household_id == hid for hid, h in heads.items())


def test_statuses_and_dates(db, tiny):
    rows = _residents(db)
    st = Counter(r.status for r in rows)
    assert st["alive"] and st["deceased"] and st["moved_out"]
    for r in rows:
        if r.status == "alive":
            assert r.status_date is None
        else:
            assert r.birth_date < r.status_date <= REF
    away = [r for r in rows if r.status == "alive" and not r.usual_local]
    assert away and all(18 <= age_on(r.birth_date, REF) <= 56 for r in away if r.source == "synth")


def test_duplicates_have_ground_truth_and_realistic_faults(db, tiny):
    rows = {r.id: r for r in _residents(db)}
    with db.read_only() as s:
        truth = list(s.scalars(select(SynthTruth)))
    assert truth
    for t in truth:
        dup, orig = rows[t.resident_id], rows[t.person_id]
        assert dup.source == "synth-dup" and orig.source == "synth"
        assert dup.sex == orig.sex
        faults = set(t.faults.split(","))
        if "name_typo" in faults:
            assert dup.name != orig.name and len(dup.name) == len(orig.name)
        if "same_id" in faults:  # the person's true number (their first registration may lack it)
            assert dup.id_number == (orig.id_number or dup.id_number)
            assert check_id_number(dup.id_number).birth_date == orig.birth_date
        if "id_typo" in faults:
            assert dup.id_number_status == "invalid" and dup.id_number_raw != orig.id_number
        if "date_swap" in faults:
            assert (dup.birth_date.month, dup.birth_date.day) == (orig.birth_date.day, orig.birth_date.month)


def test_rerun_reuses_and_a_different_seed_is_refused(db, tiny):
    again = run(db, TINY, 7)
    assert all(r.skipped for r in again)
    with pytest.raises(SynthError, match="seed 7"):
        run(db, TINY, 8)


def test_same_seed_same_people_on_both_databases(db, tiny):
    """The content is a function of the seed alone: this digest is identical on SQLite and PostgreSQL."""
    rows = _residents(db)
    sample = [(r.id, r.name, r.id_number, r.birth_date.isoformat(), r.village_code, r.status) for r in rows[:50]]
    digest = hash(tuple(sample))
    layout = plan_layout(TINY, random.Random("7:layout"))
    generated = [row for kind, *rest in generate.iter_chunks(TINY, layout, 7) if kind == "rows" for row in rest[1]]
    expected = [(r[0], r[2], r[3], r[7], r[13], r[17]) for r in generated[:50]]
    assert sample == expected and digest == hash(tuple(expected))


def test_generation_is_deterministic_and_seed_dependent():
    layout = plan_layout(TINY, random.Random("3:layout"))
    a = [r for k, *rest in generate.iter_chunks(TINY, layout, 3) if k == "rows" for r in rest[1]]
    b = [r for k, *rest in generate.iter_chunks(TINY, layout, 3) if k == "rows" for r in rest[1]]
    c = [r for k, *rest in generate.iter_chunks(TINY, layout, 4) if k == "rows" for r in rest[1]]
    assert a == b and a != c


def test_demo_profile_shape():
    """The demo county's demography, generated in memory at 1/10 scale (same shares as 280,000)."""
    profile = get_profile("demo", 28_000)
    layout = plan_layout(profile, random.Random("42:layout"))
    parts = []
    n_rows = n_hh = 0
    for item in people._chunks_in_process(profile, layout, 42, 20_000):
        if item[0] == "done":
            parts.append(item[2])
        else:
            n_hh += len(item[1])
            n_rows += len(item[2])
    assert len(parts) == generate.PARTS
    stats = generate.PeopleStats.total(parts)
    assert 0.17 <= stats.elderly65_usual / stats.usual <= 0.20
    assert 0.04 <= stats.child0_6_usual / stats.usual <= 0.10
    assert 2.2 <= stats.usual / n_hh <= 3.2
    assert stats.deceased > 0 and stats.moved_out > 0 and stats.away > 0.1 * stats.usual
    assert 0.005 <= stats.duplicates / n_rows <= 0.02


def test_clinical_history_is_plausible_and_consistent(db, tiny):
    from rhip.records.models import Condition, Encounter, Observation, ObservationComponent
    from rhip.registry.models import Organization

    with db.read_only() as s:
        encounters = list(s.scalars(select(Encounter)))
        tiers = dict(s.execute(select(Organization.id, Organization.tier)).all())
        conditions = list(s.scalars(select(Condition)))
        owner = {e.id: e.resident_id for e in encounters}
        observations = list(s.scalars(select(Observation)))
        bp = {}
        for c in s.scalars(select(ObservationComponent)):
            bp.setdefault(c.observation_id, {})[c.code] = c.value
        births = dict(s.execute(select(Resident.id, Resident.birth_date)).all())
    assert encounters and conditions and observations
    primary = sum(tiers[e.org_id] in ("village", "township") for e in encounters) / len(encounters)
    assert 0.6 <= primary <= 0.9  # 基层诊疗量占比 around the ≥ 65 % target
    assert {c.code for c in conditions if c.category == "problem-list-item"} <= {"I10", "E11.9", "J44.9", "I69.3"}
    assert all(births[c.resident_id] < c.onset_date for c in conditions)
    assert all(owner[o.encounter_id] == o.resident_id for o in observations)
    assert all(v["8480-6"] > v["8462-4"] for v in bp.values()) and bp
    assert {e.kind for e in encounters} >= {"followup", "outpatient"}


def test_synthetic_patient_everything_through_fhir(client, db, tiny):
    from rhip.records.models import Encounter
    from rhip.security import service as sec

    with db.unit_of_work() as s:
        sec.create_user(s, username="admin2", display_name="a", role="administrator", password="Test-Passw0rd!")
        token = sec.create_token(s, "admin2", "t")[0]
        rid = s.scalar(select(Encounter.resident_id).where(Encounter.kind == "followup").limit(1))
    every = client.get(f"/fhir/Patient/{rid}/$everything", headers={"Authorization": f"Bearer {token}"}).json()
    kinds = {e["resource"]["resourceType"] for e in every["entry"]}
    assert {"Patient", "Encounter", "Condition", "Observation"} <= kinds
