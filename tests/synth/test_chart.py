"""The synthetic county's charts: immunizations by the national schedule, lab panels and exam reports,
discharge summaries, medicines and allergies — plausible by the same rules the API enforces, on both databases."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from rhip.programs.rules import VisitStatus, immunizations_due
from rhip.records.models import Condition, Encounter, Observation, ObservationComponent
from rhip.records.models_immunization import AllergyIntolerance, Immunization
from rhip.records.models_medication import MedicationRequest, MedicationStatement
from rhip.records.models_reports import DiagnosticReport, DiagnosticReportResult, DocumentReference
from rhip.records.rules import validate_against_birth, validate_record
from rhip.registry.models import Resident
from rhip.registry.rules import age_on
from rhip.synth import clinical, vaccination
from rhip.synth.profiles import get_profile
from rhip.synth.runner import run

TINY = get_profile("tiny")
REF = date(2026, 7, 1)
RECORD_TYPES = {Encounter: "Encounter", Condition: "Condition", Observation: "Observation",
                Immunization: "Immunization", AllergyIntolerance: "AllergyIntolerance",
                MedicationRequest: "MedicationRequest", MedicationStatement: "MedicationStatement",
                DiagnosticReport: "DiagnosticReport", DocumentReference: "DocumentReference"}


@pytest.fixture
def tiny(db):
    return run(db, TINY, 7)


def _fields(row) -> dict:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def test_every_generated_record_passes_the_api_rules(db, tiny):
    """Each generated row goes through records.rules exactly as a record written through the API would."""
    with db.read_only() as s:
        births = dict(s.execute(select(Resident.id, Resident.birth_date)).all())
        components: dict[int, list[dict]] = {}
        for c in s.scalars(select(ObservationComponent)):
            components.setdefault(c.observation_id, []).append({"code": c.code, "value": c.value})
        checked = Counter()
        for model, rtype in RECORD_TYPES.items():
            for row in s.scalars(select(model)):
                fields = _fields(row)
                errors = validate_record(rtype, fields, components.get(row.id, []) if rtype == "Observation" else [])
                errors += validate_against_birth(rtype, fields, births[row.resident_id])
                assert not errors, (rtype, fields, [e.message_en for e in errors])
                checked[rtype] += 1
    assert all(checked[t] > 0 for t in RECORD_TYPES.values()), checked


def test_reports_documents_and_medicines_hang_together(db, tiny):
    with db.read_only() as s:
        enc = {e.id: e for e in s.scalars(select(Encounter))}
        obs = {o.id: (o.resident_id, o.encounter_id) for o in s.scalars(select(Observation))}
        reports = list(s.scalars(select(DiagnosticReport)))
        results = list(s.scalars(select(DiagnosticReportResult)))
        docs = list(s.scalars(select(DocumentReference)))
        diagnoses = {c.encounter_id: c for c in s.scalars(select(Condition).where(
            Condition.category == "encounter-diagnosis"))}
        requests = list(s.scalars(select(MedicationRequest)))
    by_id = {r.id: r for r in reports}
    assert {r.category for r in reports} == {"LAB", "EC", "US", "RAD"}
    for r in results:  # a result is an observation of the report's patient, taken in the report's encounter
        rep = by_id[r.report_id]
        assert obs[r.observation_id] == (rep.resident_id, rep.encounter_id)
    for r in reports:
        assert enc[r.encounter_id].resident_id == r.resident_id and r.issued >= r.effective_at
        assert r.conclusion
    labs = [r for r in reports if r.category == "LAB"]
    panels = Counter(r.display for r in labs)
    assert {"血常规", "肝功能", "肾功能", "血脂", "尿常规"} <= set(panels)
    inpatient = {e.id for e in enc.values() if e.kind == "inpatient"}
    assert inpatient and {d.encounter_id for d in docs} == inpatient  # one discharge summary per stay
    for d in docs:
        e = enc[d.encounter_id]
        text = d.data.decode("utf-8")
        assert d.type_code == "18842-5" and d.size == len(d.data) and d.sha1 == hashlib.sha1(d.data).hexdigest()
        assert "出院小结" in text and diagnoses[e.id].display in text and e.reason == diagnoses[e.id].display
        assert e.period_start.date().isoformat() in text and e.period_end.date().isoformat() in text
    assert {r.intent for r in requests} == {"order"}
    assert all(enc[r.encounter_id].resident_id == r.resident_id for r in requests)


def test_children_are_immunized_by_the_schedule(db, tiny):
    with db.read_only() as s:
        births = dict(s.execute(select(Resident.id, Resident.birth_date)).all())
        doses: dict[int, list[tuple[str, int, date]]] = {}
        for im in s.scalars(select(Immunization).where(Immunization.vaccine_system == "urn:rhip:cs:vaccine")):
            doses.setdefault(im.resident_id, []).append((im.vaccine_code, im.dose_number, im.occurrence_date))
            assert im.lot_number and im.org_id and (im.site or im.vaccine_code == "bOPV")
        adults = list(s.scalars(select(Immunization).where(Immunization.vaccine_system == "http://hl7.org/fhir/sid/cvx")))
    assert doses and adults
    assert {a.vaccine_code for a in adults} <= {"141", "33"}  # influenza for the 60+, PPSV23 for the 65+
    assert all(age_on(births[a.resident_id], REF) >= 60 and REF - timedelta(days=365) <= a.occurrence_date <= REF
               for a in adults)
    assert all(age_on(births[rid], REF) <= 6 for rid in doses)  # the programme's children
    for rid, given in doses.items():
        schedule = vaccination.schedule_for(births[rid])
        due = {(d.vaccine, d.dose_no): d for d in immunizations_due(births[rid], given, REF, schedule)}
        for vaccine, dose_no, when in given:
            d = due[(vaccine, dose_no)]
            assert d.status == VisitStatus.DONE and when >= d.due_date, (rid, vaccine, dose_no, when, d.due_date)


def test_immunization_coverage_is_realistic():
    """Over many children: doses are given on or after their due dates (by the programme's rules), and the
    coverage of doses due at least two months ago is 95–99.5 %."""
    rng = random.Random(11)
    end = REF
    due_count = given_count = 0
    for i in range(1500):
        birth = end - timedelta(days=int(rng.random() * 7 * 365))
        doses = vaccination.child_doses(rng, birth, end, born_at=1, clinic=2)
        given = [(v, n, d) for v, n, d, _ in doses]
        for d in immunizations_due(birth, given, end, vaccination.schedule_for(birth)):
            if d.due_date <= end - timedelta(days=60):
                due_count += 1
                given_count += d.status == VisitStatus.DONE
            if d.given_on:
                assert d.given_on >= d.due_date
        assert all(org == (1 if (v, n) in (("HepB", 1), ("BCG", 1)) else 2) for v, n, _, org in doses)
    assert 0.95 <= given_count / due_count <= 0.995, given_count / due_count


def test_busy_patients_have_a_few_hundred_resources(client, db, tiny):
    from rhip.fhir.validation import model_class
    from rhip.security import service as sec

    with db.unit_of_work() as s:
        sec.create_user(s, username="chart_admin", display_name="a", role="administrator", password="Test-Passw0rd!")
        token = sec.create_token(s, "chart_admin", "t")[0]
        busiest = s.execute(select(Observation.resident_id, func.count()).group_by(Observation.resident_id)
                            .order_by(func.count().desc()).limit(1)).one()[0]
    every = client.get(f"/fhir/Patient/{busiest}/$everything", headers={"Authorization": f"Bearer {token}"}).json()
    kinds = Counter(e["resource"]["resourceType"] for e in every["entry"])
    assert every["total"] >= 150, kinds
    for e in every["entry"]:  # what the API returns of generated records is valid FHIR R4
        model_class(e["resource"]["resourceType"]).model_validate(e["resource"])
    assert {"Encounter", "Condition", "Observation", "DiagnosticReport", "DocumentReference", "MedicationRequest",
            "MedicationStatement"} <= set(kinds)


def _facilities() -> clinical.Facilities:
    return clinical.Facilities({"411530100200": 10, "411530100201": 11}, {"411530100": 5}, [1, 2, 3],
                               {1: [101, 102], 2: [103], 3: [104], 5: [105, 106], 10: [107], 11: [108]}, [1, 3],
                               {1: "青岚县人民医院", 2: "青岚县中医院", 3: "青岚县妇幼保健院"})


def _people(n: int) -> list[tuple]:
    rng = random.Random(5)
    return [(i + 1, REF - timedelta(days=int(rng.random() * 90 * 365)), "1" if i % 2 else "2",
             "411530100200" if i % 3 else "411530100201", "alive", None) for i in range(n)]


def test_charts_are_deterministic_and_seed_dependent():
    def gen(seed):
        rows, stats = clinical.Rows(), clinical.ClinicalStats()
        clinical.generate(seed, REF, _people(600), _facilities(), rows, stats)
        return rows, stats

    (a, sa), (b, _), (c, _) = gen(3), gen(3), gen(4)
    assert a == b and a != c
    assert sa.reports and sa.immunizations and sa.documents and sa.medication_requests
    ids = [r[0] for r in a.observation]
    assert len(ids) == len(set(ids))  # chart observation ids never collide with visit observation ids
