"""Clinical history of the synthetic county, in pure Python (no database; runs in worker processes).

For each registered person, over the 12 months before the profile's reference date:
- chronic conditions by age (hypertension I10, type 2 diabetes E11.9, COPD J44.9, stroke sequelae I69.3) at
  prevalences typical of rural China (settings below, documented);
- encounters across the tiers — village clinic, township centre, county hospitals — with about two thirds at
  primary level; quarterly public-health follow-ups for hypertension and diabetes with realistic adherence
  (some missed, some late), an annual health check for people aged 65+ and for hypertension/diabetes
  patients (:data:`HEALTH_CHECK`), and admissions;
- blood pressure (systolic/diastolic components) at follow-ups and many adult visits, fasting glucose for
  people with diabetes, weight and height at physical examinations.
- a "busy" minority — patients with two or more chronic conditions, :data:`BUSY_SHARE` of them — is admitted
  several times a year and visits more often: their charts reach a few hundred resources;
- everything else of a chart (labs and exam reports, ward vital signs, discharge summaries, medicines, allergies,
  immunizations) comes from ``synth.chart``, drawing from the person's stream after the visits.
Ids derive from the resident's id (encounter = resident × 64 + k, observation = encounter × 8 + j,
condition = resident × 8 + c; the chart's ids are listed in ``synth.chart``) and each resident has its own
random stream, so the rows do not depend on how the work is split between processes.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from rhip.synth import chart
from rhip.synth.workers import Counts

LOINC = "http://loinc.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
SOURCE = "urn:rhip:sid:synth"

# (code, display, prevalence by age band: [(min age, share)], min age)
CONDITIONS = (
    ("I10", "原发性高血压", ((35, 0.10), (45, 0.22), (55, 0.35), (65, 0.48), (75, 0.55))),
    ("E11.9", "2型糖尿病", ((35, 0.04), (45, 0.09), (55, 0.14), (65, 0.18))),
    ("J44.9", "慢性阻塞性肺疾病", ((60, 0.08),)),
    ("I69.3", "脑梗死后遗症", ((65, 0.04),)),
)
FOLLOWUP_ADHERENCE = 0.82  # share of due quarterly follow-ups that happen
BUSY_SHARE = 0.15  # of patients with two or more chronic conditions: several admissions a year
HEALTH_CHECK = 0.7  # share of people aged 65+ and of hypertension/diabetes patients with an annual health check
ENCOUNTER_COLS = ("id", "resident_id", "org_id", "practitioner_id", "source_system", "source_id", "version",
                  "created_at", "updated_at", "kind", "status", "period_start", "period_end", "reason")
CONDITION_COLS = ("id", "resident_id", "org_id", "practitioner_id", "source_system", "source_id", "version",
                  "created_at", "updated_at", "encounter_id", "code_system", "code", "display", "category",
                  "clinical_status", "verification_status", "onset_date", "recorded_date")
OBSERVATION_COLS = ("id", "resident_id", "org_id", "practitioner_id", "source_system", "source_id", "version",
                    "created_at", "updated_at", "encounter_id", "status", "category", "code_system", "code",
                    "display", "effective_at", "value", "unit", "value_text", "ref_low", "ref_high", "interpretation")
COMPONENT_COLS = ("observation_id", "seq", "code_system", "code", "display", "value", "unit")
STAGED = {"encounter": ENCOUNTER_COLS, "condition": CONDITION_COLS, "observation": OBSERVATION_COLS,
          "observation_component": COMPONENT_COLS, **chart.STAGED}


@dataclass
class Facilities:
    """Who serves whom: organization ids by village/township, with a few practitioners each."""

    village_clinic: dict[str, int]  # village code → clinic org id
    township_centre: dict[str, int]  # township code (9 digits) → centre org id
    county: list[int]  # county hospital, TCM hospital, MCH centre
    staff: dict[int, list[int]]  # org id → practitioner ids
    delivery: list[int] = field(default_factory=list)  # county hospital and MCH centre: where children are born
    names: dict[int, str] = field(default_factory=dict)  # org id → name (for document headers)


@dataclass
class ClinicalStats(Counts):
    residents: int = 0
    encounters: int = 0
    primary_encounters: int = 0
    conditions: int = 0
    observations: int = 0
    hypertension: int = 0
    diabetes: int = 0
    busy: int = 0
    admissions: int = 0
    ward_observations: int = 0
    reports: int = 0
    report_observations: int = 0
    documents: int = 0
    medication_requests: int = 0
    medication_statements: int = 0
    allergies: int = 0
    immunizations: int = 0


@dataclass
class Rows:
    encounter: list = field(default_factory=list)
    condition: list = field(default_factory=list)
    observation: list = field(default_factory=list)
    observation_component: list = field(default_factory=list)
    immunization: list = field(default_factory=list)
    allergy_intolerance: list = field(default_factory=list)
    medication_request: list = field(default_factory=list)
    medication_statement: list = field(default_factory=list)
    diagnostic_report: list = field(default_factory=list)
    diagnostic_report_result: list = field(default_factory=list)
    document_reference: list = field(default_factory=list)


def _prevalence(bands, age: int) -> float:
    share = 0.0
    for lo, p in bands:
        if age >= lo:
            share = p
    return share


def resident_rng(seed: int, resident_id: int) -> random.Random:
    return random.Random(int.from_bytes(hashlib.blake2b(f"{seed}:c:{resident_id}".encode(), digest_size=8).digest(),
                                        "big"))


def _same(data: bytes):
    return data


def generate(seed: int, ref: date, residents: list[tuple], fac: Facilities, rows: Rows, stats: ClinicalStats,
             bytea=_same) -> None:
    """Append the clinical rows of ``residents`` — (id, birth date, sex, village code, status, status date) —
    to ``rows``. ``bytea`` turns document bytes into the staging's form (see kit.staging.bytea)."""
    start = ref - timedelta(days=365)
    county = frozenset(fac.county)
    for rid, birth, sex, village, status, status_date in residents:
        stats.residents += 1
        rng = resident_rng(seed, rid)
        rand = rng.random
        age = ref.year - birth.year - ((ref.month, ref.day) < (birth.month, birth.day))
        end = min(ref, status_date) if status != "alive" and status_date else ref
        if end <= start or age < 0:
            continue
        created = f"{start.isoformat()} 08:00:00"
        clinic = fac.village_clinic.get(village)
        centre = fac.township_centre.get(village[:9])
        primary = [o for o in (clinic, centre) if o]
        chronic: list[str] = []
        chronic_displays: list[str] = []
        for ci, (code, display, bands) in enumerate(CONDITIONS):
            if rand() < _prevalence(bands, age):
                chronic.append(code)
                chronic_displays.append(display)
                onset = birth + timedelta(days=int(365.25 * (35 + rand() * max(1, age - 35))))
                onset = min(onset, end - timedelta(days=30))
                org = primary[0] if primary else fac.county[0]
                rows.condition.append((rid * 8 + ci, rid, org, None, SOURCE, f"C{rid * 8 + ci}", 1, created, created,
                                       None, ICD10, code, display, "problem-list-item", "active", "confirmed",
                                       onset.isoformat(), onset.isoformat()))
                stats.conditions += 1
        hypertensive, diabetic = "I10" in chronic, "E11.9" in chronic
        stats.hypertension += hypertensive
        stats.diabetes += diabetic
        visits: list[tuple[str, date, int | None]] = []  # (kind, day, org)
        if hypertensive or diabetic:  # quarterly public-health follow-ups, mostly by the village doctor
            for q in range(4):
                if rand() < FOLLOWUP_ADHERENCE:
                    day = start + timedelta(days=q * 91 + int(rand() * 100))
                    visits.append(("followup", day, clinic or centre or fac.county[0]))
        busy = len(chronic) >= 2 and rand() < BUSY_SHARE
        stats.busy += busy
        lam = 0.8 + (1.2 if age <= 6 else 0) + (1.5 if age >= 60 else 0) + 1.0 * len(chronic) + (5 if busy else 0)
        for _ in range(_poisson(rng, lam)):
            r = rand()
            org = (clinic if r < 0.40 and clinic else centre if r < 0.68 and centre else
                   fac.county[int(rand() * len(fac.county))])
            visits.append(("outpatient" if rand() > 0.06 else "emergency", start + timedelta(days=int(rand() * 365)),
                           org))
        if (age >= 65 or hypertensive or diabetic) and rand() < HEALTH_CHECK:
            visits.append(("physical_exam", start + timedelta(days=int(rand() * 365)), centre or fac.county[0]))
        if busy:  # several admissions, spread over the year so that stays never overlap
            n = min(6, 2 + _poisson(rng, 1.5))
            for i in range(n):
                visits.append(("inpatient", start + timedelta(days=int((i + rand() * 0.7) * 350 / n)),
                               fac.county[int(rand() * 2)]))
        elif rand() < (0.04 + 0.10 * (age >= 65) + 0.05 * len(chronic)):
            visits.append(("inpatient", start + timedelta(days=int(rand() * 350)), fac.county[int(rand() * 2)]))
        charted: list[tuple] = []  # (row index, encounter id, kind, org, practitioner, start, end, at county level)
        for k, (kind, day, org) in enumerate(sorted(visits, key=lambda v: v[1])[:63]):
            if day > end:
                continue
            eid = rid * 64 + k
            t0 = datetime(day.year, day.month, day.day, 8 + int(rand() * 9), int(rand() * 60))
            t1 = t0 + (timedelta(days=2 + int(rand() * 10)) if kind == "inpatient" else timedelta(minutes=10 + int(rand() * 40)))
            if kind == "inpatient":
                t1 = min(t1, datetime(end.year, end.month, end.day, 9, 0))  # died or left: the stay ends then
                if t1 <= t0:
                    continue
                stats.admissions += 1
            staff = fac.staff.get(org) or [None]
            doc = staff[int(rand() * len(staff))]
            reason = "高血压随访" if kind == "followup" and hypertensive else "糖尿病随访" if kind == "followup" else None
            rows.encounter.append((eid, rid, org, doc, SOURCE, f"E{eid}", 1, created, created, kind, "finished",
                                   t0.isoformat(sep=" "), t1.isoformat(sep=" "), reason))
            stats.encounters += 1
            stats.primary_encounters += org in primary
            charted.append((len(rows.encounter) - 1, eid, kind, org, doc, t0, t1, org in county))
            j = 0
            when = (t0 + timedelta(minutes=5)).isoformat(sep=" ")
            if kind in ("followup", "physical_exam", "inpatient") or (age >= 35 and rand() < 0.5):
                base_s = 118 + 0.45 * max(0, age - 30) + (18 if hypertensive else 0)
                sbp = round(rng.gauss(base_s, 13))
                dbp = round(min(sbp - 15, rng.gauss(74 + (8 if hypertensive else 0), 8)))
                sbp, dbp = max(80, min(240, sbp)), max(45, min(140, dbp))
                oid = eid * 8 + j
                rows.observation.append((oid, rid, org, doc, SOURCE, f"O{oid}", 1, created, created, eid, "final",
                                         "vital-signs", LOINC, "85354-9", "血压", when, None, None, None, None, None,
                                         None))
                rows.observation_component.append((oid, 1, LOINC, "8480-6", "收缩压", sbp, "mm[Hg]"))
                rows.observation_component.append((oid, 2, LOINC, "8462-4", "舒张压", dbp, "mm[Hg]"))
                stats.observations += 1
                j += 1
            if diabetic and kind in ("followup", "physical_exam", "inpatient"):
                glu = round(max(3.0, min(25.0, rng.gauss(7.6, 1.8))), 1)
                oid = eid * 8 + j
                rows.observation.append((oid, rid, org, doc, SOURCE, f"O{oid}", 1, created, created, eid, "final",
                                         "laboratory", LOINC, "1558-6", "空腹血糖", when, glu, "mmol/L", None, 3.9,
                                         6.1, "H" if glu > 6.1 else "N"))
                stats.observations += 1
                j += 1
            if kind == "physical_exam":
                height = round(rng.gauss(165 if sex == "1" else 154, 6), 1)
                weight = round(max(35.0, rng.gauss(64 if sex == "1" else 56, 9)), 1)
                for code, display, value, unit in (("29463-7", "体重", weight, "kg"), ("8302-2", "身高", height, "cm")):
                    oid = eid * 8 + j
                    rows.observation.append((oid, rid, org, doc, SOURCE, f"O{oid}", 1, created, created, eid,
                                             "final", "vital-signs", LOINC, code, display, when, value, unit, None,
                                             None, None, None))
                    stats.observations += 1
                    j += 1
        # The rest of the chart draws from the same stream after the visits, so the visits never depend on it.
        ch = chart.Chart(rng, chart.Ctx(rid, birth, sex, age, chronic, chronic_displays, start, end, created, SOURCE,
                                        clinic, centre, fac.names, fac.staff, fac.delivery), rows, stats, bytea)
        ch.person_rows()
        for index, *visit in charted:
            chart_reason = ch.encounter(*visit)
            if chart_reason:
                rows.encounter[index] = rows.encounter[index][:-1] + (chart_reason,)


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method; lam is small here."""
    threshold, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= threshold:
            return k
        k += 1


def work(tasks, results, seed: int, ref: date, fac: Facilities, dialect: str, path) -> None:
    """A worker process: generate the clinical rows of each chunk of residents into its own staging."""
    import gc
    import traceback
    from functools import partial

    from rhip.kit.staging import StagingWriter
    from rhip.kit.staging import bytea as staging_bytea

    try:
        gc.disable()  # acyclic rows only (see synth.generate)
        writer = StagingWriter(dialect, path, STAGED)
        bytea = partial(staging_bytea, dialect)
        stats = ClinicalStats()
        while (chunk := tasks.get()) is not None:
            rows = Rows()
            generate(seed, ref, chunk, fac, rows, stats, bytea)
            for table in STAGED:
                writer.write(table, getattr(rows, table))
            results.put(("progress", len(chunk)))
        writer.close()
        results.put(("done", stats))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the stage
        results.put(("error", traceback.format_exc()))
