"""Synth stage "contracts" on both databases: shares a real county reports, one active contract per person,
consistent chains of renewals, transfers and terminations, key populations with reasons."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from rhip.contracts import fulfilment, rules
from rhip.contracts.models import Contract, ContractPackage, KeyPopulation
from rhip.mpi.models import MpiLink
from rhip.records.models import Encounter
from rhip.registry.models import Resident, TeamMember, TeamVillage
from rhip.security.service import system_principal
from rhip.synth.profiles import get_profile
from rhip.synth.runner import run

TINY = get_profile("tiny")
REF = date(2026, 7, 1)


@pytest.fixture
def tiny(db):
    return run(db, TINY, 7)


def test_signing_shares_and_one_active_contract(db, tiny):
    assert [r.stage for r in tiny][-1] == "contracts"
    stats = tiny[-1].stats
    # the issue: about two thirds of (living usual) residents sign, about nine in ten of key populations
    assert 0.65 <= stats["signing_rate"] <= 0.68
    assert 0.88 <= stats["key_signing_rate"] <= 0.92
    with db.read_only() as s:
        rows = {a.key: a for a in fulfilment.facts(s, system_principal("test"), REF)}
        # the same rates recounted from the database: contracts in force among living usual residents,
        # one registration per person (the first one the MPI links)
        person = dict(s.execute(select(MpiLink.resident_id, MpiLink.person_id)).all())
        first: dict[int, int] = {}
        for rid in sorted(person):
            first.setdefault(person[rid], rid)
        usual = {rid for rid, in s.execute(select(Resident.id).where(Resident.status == "alive",
                                                                      Resident.usual_local.is_(True)))
                 if first.get(person.get(rid)) == rid}
        key = set(s.scalars(select(KeyPopulation.resident_id))) & usual
        in_force = set(s.scalars(select(Contract.resident_id).where(Contract.status == "active")))
    assert abs(len(usual & in_force) / len(usual) - stats["signing_rate"]) < 0.002
    assert abs(len(key & in_force) / len(key) - stats["key_signing_rate"]) < 0.002
    # the platform's indicator counts every living registration, people working away included (few sign)
    residents = sum(a.residents for a in rows.values())
    signed = sum(a.signed for a in rows.values())
    key_residents = sum(a.key_residents for a in rows.values())
    key_signed = sum(a.key_signed for a in rows.values())
    assert 0.5 <= signed / residents < stats["signing_rate"]
    assert 0.8 <= key_signed / key_residents <= stats["key_signing_rate"]
    with db.read_only() as s:
        active = list(s.scalars(select(Contract.resident_id).where(Contract.status == "active")))
        per_resident = Counter(active)
        assert per_resident and max(per_resident.values()) == 1
        per_person = Counter(person[rid] for rid in active)
        assert max(per_person.values()) == 1  # a second registration of a person signs nothing
        assert tiny[-1].stats["second_registrations"] > 0
        statuses = Counter(s.scalars(select(Contract.status)))
        assert statuses["renewed"] > statuses["active"]  # renewals over several years
        assert statuses["expired"] and statuses["terminated"] and statuses["transferred"]


def test_chains_packages_and_teams_are_consistent(db, tiny):
    with db.read_only() as s:
        contracts = {c.id: c for c in s.scalars(select(Contract))}
        served = {(t, v) for t, v in s.execute(select(TeamVillage.team_id, TeamVillage.division_code))}
        members = {(t, p) for t, p in s.execute(select(TeamMember.team_id, TeamMember.practitioner_id))}
        village = dict(s.execute(select(Resident.id, Resident.village_code)).all())
        packages: dict[int, list[str]] = {}
        for cid, code in s.execute(select(ContractPackage.contract_id, ContractPackage.package_code)):
            packages.setdefault(cid, []).append(code)
        populations: dict[int, set[str]] = {}
        for rid, p in s.execute(select(KeyPopulation.resident_id, KeyPopulation.population)):
            populations.setdefault(rid, set()).add(p)
    for c in contracts.values():
        assert (c.team_id, c.doctor_id) in members
        assert c.consent_date <= c.start_date <= c.end_date
        assert packages[c.id].count("basic") == 1
        if c.status != "transferred":
            assert (c.team_id, village[c.resident_id]) in served
        if c.previous_id is not None:
            prev = contracts[c.previous_id]
            assert prev.resident_id == c.resident_id
            if prev.status == "renewed":
                assert c.start_date == prev.end_date + timedelta(days=1)
            else:
                assert prev.status == "transferred" and prev.ended_on < c.start_date and c.fee_fen == 0
        if c.status == "terminated":
            assert c.end_reason in rules.TERMINATION_REASONS and c.ended_on is not None
    for c in contracts.values():
        if c.status == "active" and "hypertension" in populations.get(c.resident_id, set()):
            assert "hypertension" in packages[c.id]


def test_key_populations_and_home_visits(db, tiny):
    with db.read_only() as s:
        reasons = {(p, r) for p, r in s.execute(select(KeyPopulation.population, KeyPopulation.reason_zh))}
        visits = s.scalar(select(func.count()).select_from(Encounter).where(Encounter.kind == "home_visit"))
    assert any(p == "elderly65" and r.startswith("年龄 ") for p, r in reasons)
    assert any(p == "hypertension" and r.startswith("I10 诊断于 ") for p, r in reasons)
    assert visits > 0
