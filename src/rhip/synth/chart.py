"""The rest of a synthetic person's chart, after their encounters (see ``synth.clinical``): reasons for admission,
lab panels and exam reports, ward vital signs, discharge summaries, medication requests and statements,
allergies and immunizations. Pure Python; runs in the worker processes of the clinical stage.

The chart draws from the person's random stream after their visits are made, so the encounters, conditions and
visit observations do not depend on it. Ids derive from the resident's or encounter's id:

================================  ====================================
observation (report results and   2**40 + encounter × 256 + j
ward vital signs)
condition (encounter diagnosis)   2**40 + encounter × 4
diagnostic_report                 encounter × 16 + r
document_reference                encounter
medication_request                encounter × 8 + m
medication_statement              resident × 8 + m
allergy_intolerance               resident × 8 + a
immunization                      resident × 64 + n (see synth.vaccination)
================================  ====================================
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rhip.synth import care, labs, vaccination

BIG = 1 << 40
LOINC = labs.LOINC
ICD10 = "http://hl7.org/fhir/sid/icd-10"
DOC_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"

IMMUNIZATION_COLS = ("id", "resident_id", "org_id", "practitioner_id", "source_system", "source_id", "version",
                     "created_at", "updated_at", "status", "vaccine_system", "vaccine_code", "vaccine_display",
                     "dose_number", "occurrence_date", "lot_number", "site")
ALLERGY_COLS = ("id", "resident_id", "org_id", "practitioner_id", "source_system", "source_id", "version",
                "created_at", "updated_at", "code_system", "code", "display", "clinical_status",
                "verification_status", "type", "category", "criticality", "recorded_date", "reaction")
_DOSAGE = ("code_system", "code", "display", "dosage_text", "dose_value", "dose_unit", "frequency", "period",
           "period_unit", "route", "reason_code", "reason_text")
MED_REQUEST_COLS = ("id", "resident_id", "org_id", "practitioner_id", "source_system", "source_id", "version",
                    "created_at", "updated_at", "encounter_id", "status", "intent", "authored_on") + _DOSAGE
MED_STATEMENT_COLS = ("id", "resident_id", "org_id", "practitioner_id", "source_system", "source_id", "version",
                      "created_at", "updated_at", "encounter_id", "status", "effective_start",
                      "effective_end") + _DOSAGE
REPORT_COLS = ("id", "resident_id", "org_id", "practitioner_id", "source_system", "source_id", "version",
               "created_at", "updated_at", "encounter_id", "status", "category", "code_system", "code", "display",
               "effective_at", "issued", "conclusion", "conclusion_system", "conclusion_code", "conclusion_display")
REPORT_RESULT_COLS = ("report_id", "seq", "observation_id")
DOCUMENT_COLS = ("id", "resident_id", "org_id", "practitioner_id", "source_system", "source_id", "version",
                 "created_at", "updated_at", "encounter_id", "status", "doc_status", "type_system", "type_code",
                 "type_display", "category_system", "category", "category_display", "date", "content_type",
                 "language", "title", "creation", "data", "url", "size", "sha1")
STAGED = {"immunization": IMMUNIZATION_COLS, "allergy_intolerance": ALLERGY_COLS,
          "medication_request": MED_REQUEST_COLS, "medication_statement": MED_STATEMENT_COLS,
          "diagnostic_report": REPORT_COLS, "diagnostic_report_result": REPORT_RESULT_COLS,
          "document_reference": DOCUMENT_COLS}

INPATIENT_PANELS = ("cbc", "liver", "kidney", "lipids", "urine")
EXAM_PANELS = ("cbc", "urine", "liver", "kidney", "lipids")
RECHECK_PANELS = ("cbc", "kidney")
CHRONIC_PANELS: tuple = ()  # younger chronic patients: glucose or HbA1c only
CHILD_PANELS = ("cbc", "urine")  # (children's own reference intervals are not modelled: adult ones are printed)


@dataclass
class Ctx:
    """One person, as the chart needs them."""

    rid: int
    birth: date
    sex: str
    age: int
    chronic: list[str]
    chronic_displays: list[str]
    start: date
    end: date
    created: str
    source: str
    clinic: int | None  # village clinic
    centre: int | None  # township centre
    org_names: dict[int, str]
    staff: dict[int, list[int]]
    delivery: list[int]  # where children are born


def _ts(d: datetime) -> str:
    return d.isoformat(sep=" ")


class Chart:
    """Appends the chart rows of one person to ``rows`` (a synth.clinical.Rows) and counts them in ``stats``."""

    def __init__(self, rng: random.Random, c: Ctx, rows, stats, bytea):
        self.rng, self.c, self.rows, self.stats, self.bytea = rng, c, rows, stats, bytea
        self.person = labs.Person(c.sex, c.age, "E11.9" in c.chronic, "I10" in c.chronic)
        self.allergies: list[str] = []
        self.drugs = care.regimen(rng, c.chronic)

    # ------------------------------------------------------------------ per person
    def person_rows(self) -> None:
        c, rng, rows = self.c, self.rng, self.rows
        who = c.centre or c.clinic
        staff = c.staff.get(who) or [None] if who else [None]
        for a, (code, display, category, share, reactions) in enumerate(care.ALLERGIES):
            if rng.random() < share and c.age >= 1:
                self.allergies.append(code)
                aid = c.rid * 8 + a
                recorded = c.birth + timedelta(days=int(rng.random() * max(1, (c.start - c.birth).days)))
                rows.allergy_intolerance.append((
                    aid, c.rid, who, staff[int(rng.random() * len(staff))], c.source, f"AL{aid}", 1, c.created,
                    c.created, care.SNOMED, code, display, "active", "confirmed", "allergy", category,
                    "high" if code == "91936005" and rng.random() < 0.3 else "low", recorded.isoformat(),
                    reactions[int(rng.random() * len(reactions))]))
                self.stats.allergies += 1
        for m, (cond, drug) in enumerate(self.drugs[:8]):
            mid = c.rid * 8 + m
            since = c.start - timedelta(days=30 + int(rng.random() * 1500))
            since = max(since, c.birth + timedelta(days=365 * 30))
            since = min(since, c.end)
            rows.medication_statement.append((
                mid, c.rid, who, staff[int(rng.random() * len(staff))], c.source, f"MS{mid}", 1, c.created,
                c.created, None, "active", since.isoformat(), None) + self._dosage(drug, cond))
            self.stats.medication_statements += 1
        born_at = c.delivery[int(rng.random() * len(c.delivery))] if c.delivery else c.centre
        for row in vaccination.rows(rng, c.rid, c.birth, c.age, c.start, c.end, born_at, c.centre, c.staff,
                                    c.created, c.source):
            rows.immunization.append(row)
            self.stats.immunizations += 1

    def _dosage(self, drug: care.Drug, cond: str | None) -> tuple:
        reason = dict(zip(self.c.chronic, self.c.chronic_displays)).get(cond) if cond else None
        return (care.ATC, drug.code, drug.display, drug.text, drug.dose, drug.unit, drug.per_day, 1, "d", drug.route,
                cond, reason)

    # ------------------------------------------------------------------ per encounter
    def encounter(self, eid: int, kind: str, org: int, doc: int | None, t0: datetime, t1: datetime,
                  county: bool) -> str | None:
        """Rows that belong to one encounter; returns the encounter's reason when the chart sets one."""
        rng = self.rng
        if kind == "followup":
            renew = [(cond, d) for cond, d in self.drugs if cond in ("I10", "E11.9")][:2]
            self._requests(eid, org, doc, t0 + timedelta(minutes=8), renew, "completed")
        elif kind == "physical_exam":
            self._health_check(eid, org, doc, t0)
        elif kind == "inpatient":
            return self._stay(eid, org, doc, t0, t1)
        elif county and kind in ("outpatient", "emergency"):
            r = rng.random()
            seq = _Seq()
            if r < (0.5 if kind == "emergency" else 0.1):
                self._panel(eid, org, doc, t0 + timedelta(minutes=20), "cbc", seq)
            if kind == "emergency" and self.c.age >= 40 and rng.random() < 0.5:
                self._exam(eid, org, doc, t0 + timedelta(minutes=30), "ecg", None, seq)
        return None

    def _health_check(self, eid, org, doc, t0) -> None:
        """Annual health check: for the 65+ the national spec's blood and urine tests, ECG and abdominal
        ultrasound; for younger hypertension and diabetes patients glucose (HbA1c for diabetes) and an ECG."""
        seq = _Seq()
        when = t0.replace(hour=7, minute=30) if t0.hour > 7 else t0
        elderly = self.c.age >= 65
        panels = (EXAM_PANELS if elderly else CHRONIC_PANELS) + (("hba1c",) if self.person.diabetic else ("glucose",))
        for p in panels:
            self._panel(eid, org, doc, when, p, seq)
        self._exam(eid, org, doc, t0 + timedelta(minutes=40), "ecg", None, seq)
        if elderly:
            self._exam(eid, org, doc, t0 + timedelta(minutes=60), "us", None, seq)

    def _stay(self, eid, org, doc, t0, t1) -> str:
        c, rng = self.c, self.rng
        reason = care.admission_reason(rng, c.age, c.sex, c.chronic)
        code, display, orders = reason
        infection = code[:3] in care.INFECTIONS
        cid = BIG + eid * 4
        self.rows.condition.append((cid, c.rid, org, doc, c.source, f"C{cid}", 1, c.created, c.created, eid, ICD10,
                                    code, display, "encounter-diagnosis", "resolved" if code != "I10" else "active",
                                    "confirmed", t0.date().isoformat(), t0.date().isoformat()))
        self.stats.conditions += 1
        seq = _Seq()
        first_morning = (t0 + timedelta(days=1)).replace(hour=6, minute=30)
        if t0.hour < 10 or first_morning > t1:
            first_morning = t0 + timedelta(hours=1)
        abnormal: list[str] = []
        child = c.age < 14
        panels = CHILD_PANELS if child else INPATIENT_PANELS + (("hba1c",) if self.person.diabetic else ())
        for p in panels:
            abnormal += self._panel(eid, org, doc, first_morning, p, seq, infection)
        findings = []
        exams = [("cxr", t0 + timedelta(hours=2))] if not child or code[:1] == "J" else []
        if not child:
            exams.append(("ecg", t0 + timedelta(hours=2, minutes=30)))
        if code[:3] in ("K81", "K35", "K52", "E11") or (not child and rng.random() < 0.25):
            exams.append(("us", first_morning + timedelta(hours=3)))
        for exam, at in exams:
            findings.append(f"{labs.EXAMS[exam][1]}：{self._exam(eid, org, doc, at, exam, code, seq)}")
        days = (t1.date() - t0.date()).days
        day = t0.date()
        while day < t1.date():  # ward rounds: blood pressure every morning for hypertension, temperature while
            if day > t0.date():  # an infection is being treated (the first three days)
                fever = infection and (day - t0.date()).days <= 3
                self._ward_vitals(eid, org, doc, datetime(day.year, day.month, day.day, 7, 0), seq, fever,
                                  temperature=fever)
            day += timedelta(days=1)
        if days >= 4:
            recheck = (t1 - timedelta(days=1)).replace(hour=6, minute=30)
            for p in RECHECK_PANELS:
                self._panel(eid, org, doc, recheck, p, seq)
        drugs = [d if not (d.code.startswith("J01C") and "91936005" in self.allergies) else care.AZITHROMYCIN
                 for d in orders]
        self._requests(eid, org, doc, t0 + timedelta(minutes=45), [(None, d) for d in drugs], "completed",
                       reason=(code, display))
        home = [(cond, d) for cond, d in self.drugs]
        self._requests(eid, org, doc, t1 - timedelta(hours=2), home, "active", offset=4)
        self._discharge_summary(eid, org, doc, t0, t1, reason, findings + abnormal, drugs, [d for _, d in home])
        return display

    # ------------------------------------------------------------------ building blocks
    def _panel(self, eid, org, doc, when: datetime, panel: str, seq: "_Seq", infection: bool = False) -> list[str]:
        """One lab panel: a DiagnosticReport and its result Observations. Returns the abnormal results as text."""
        rng, c, rows = self.rng, self.c, self.rows
        code, display, analytes = labs.PANELS[panel]
        rep = seq.report(eid)
        at = _ts(when)
        abnormal = []
        for a in analytes:
            v, lo, hi, interp = labs.value(rng, a, self.person, infection)
            oid = seq.observation(eid)
            rows.observation.append((oid, c.rid, org, doc, c.source, f"O{oid}", 1, c.created, c.created, eid, "final",
                                     "laboratory", LOINC, a.code, a.display, at, v, a.unit, None, lo, hi, interp))
            rows.diagnostic_report_result.append((rep, seq.results, oid))
            if interp != "N":
                unit = labs.UNIT_TEXT.get(a.unit, a.unit or "")
                abnormal.append(f"{a.display}{v:g}{unit}{'↑' if interp == 'H' else '↓'}")
        if panel == "urine":
            for qcode, qdisplay, probs in labs.URINE_QUALITATIVE:
                text, interp = labs.qualitative(rng, probs, self.person)
                oid = seq.observation(eid)
                rows.observation.append((oid, c.rid, org, doc, c.source, f"O{oid}", 1, c.created, c.created, eid,
                                         "final", "laboratory", LOINC, qcode, qdisplay, at, None, None, text, None,
                                         None, interp))
                rows.diagnostic_report_result.append((rep, seq.results, oid))
                if interp != "N":
                    abnormal.append(f"{qdisplay}{text}")
        issued = when + timedelta(hours=2, minutes=int(rng.random() * 240))
        rows.diagnostic_report.append((rep, c.rid, org, doc, c.source, f"DR{rep}", 1, c.created, c.created, eid,
                                       "final", "LAB", LOINC, code, display, at, _ts(issued),
                                       "、".join(abnormal) if abnormal else "未见异常", None, None, None))
        self.stats.reports += 1
        self.stats.report_observations += seq.results
        return [f"{display}：{'、'.join(abnormal)}"] if abnormal else []

    def _exam(self, eid, org, doc, when: datetime, exam: str, reason: str | None, seq: "_Seq") -> str:
        c = self.c
        code, display, category, _ = labs.EXAMS[exam]
        conclusion = labs.exam_conclusion(self.rng, exam, reason)
        rep = seq.report(eid)
        issued = when + timedelta(minutes=20 + int(self.rng.random() * 180))
        self.rows.diagnostic_report.append((rep, c.rid, org, doc, c.source, f"DR{rep}", 1, c.created, c.created, eid,
                                            "final", category, LOINC, code, display, _ts(when), _ts(issued),
                                            conclusion, None, None, None))
        self.stats.reports += 1
        return conclusion

    def _ward_vitals(self, eid, org, doc, at: datetime, seq: "_Seq", fever: bool, temperature: bool) -> None:
        rng, c, rows = self.rng, self.c, self.rows
        when = _ts(at)
        if self.person.hypertensive:
            self._ward_bp(eid, org, doc, when, seq)
        if not temperature:
            return
        temp = round(rng.gauss(38.3 if fever else 36.6, 0.5 if fever else 0.25), 1)
        oid = seq.observation(eid)
        rows.observation.append((oid, c.rid, org, doc, c.source, f"O{oid}", 1, c.created, c.created, eid, "final",
                                 "vital-signs", LOINC, "8310-5", "体温", when, max(35.0, min(41.0, temp)), "Cel", None,
                                 None, None, None))
        self.stats.ward_observations += 1

    def _ward_bp(self, eid, org, doc, when: str, seq: "_Seq") -> None:
        rng, c, rows = self.rng, self.c, self.rows
        sbp = round(rng.gauss(120 + 0.4 * max(0, c.age - 30) + (14 if self.person.hypertensive else 0), 12))
        dbp = round(min(sbp - 20, rng.gauss(74 + (6 if self.person.hypertensive else 0), 7)))
        sbp, dbp = max(85, min(220, sbp)), max(45, min(130, dbp))
        oid = seq.observation(eid)
        rows.observation.append((oid, c.rid, org, doc, c.source, f"O{oid}", 1, c.created, c.created, eid, "final",
                                 "vital-signs", LOINC, "85354-9", "血压", when, None, None, None, None, None, None))
        rows.observation_component.append((oid, 1, LOINC, "8480-6", "收缩压", sbp, "mm[Hg]"))
        rows.observation_component.append((oid, 2, LOINC, "8462-4", "舒张压", dbp, "mm[Hg]"))
        self.stats.ward_observations += 1

    def _requests(self, eid, org, doc, at: datetime, drugs: list, status: str, *, reason=None, offset: int = 0
                  ) -> None:
        c = self.c
        for m, (cond, drug) in enumerate(drugs[:4]):
            mid = eid * 8 + offset + m
            dosage = self._dosage(drug, cond)
            if reason is not None:
                dosage = dosage[:10] + reason
            self.rows.medication_request.append((mid, c.rid, org, doc, c.source, f"MR{mid}", 1, c.created,
                                                 c.created, eid, status, "order", _ts(at)) + dosage)
            self.stats.medication_requests += 1

    def _discharge_summary(self, eid, org, doc, t0, t1, reason, findings, orders, home) -> None:
        c = self.c
        text = care.discharge_summary(
            admitted=t0.date().isoformat(), discharged=t1.date().isoformat(), days=max(1, (t1.date() - t0.date()).days),
            reason=reason, chronic_displays=c.chronic_displays, findings=findings, orders=orders, home_drugs=home,
            org_name=c.org_names.get(org, ""))
        data = text.encode("utf-8")
        when = t1 + timedelta(hours=1)
        self.rows.document_reference.append((
            eid, c.rid, org, doc, c.source, f"DOC{eid}", 1, c.created, c.created, eid, "current", "final", LOINC,
            "18842-5", "出院小结", DOC_CATEGORY, "clinical-note", "临床记录", _ts(when), "text/plain; charset=utf-8",
            "zh-CN", "出院小结", _ts(t1), self.bytea(data), None, len(data), hashlib.sha1(data).hexdigest()))
        self.stats.documents += 1


class _Seq:
    """Numbers the reports, results and observations of one encounter."""

    __slots__ = ("reports", "observations", "results")

    def __init__(self):
        self.reports = self.observations = self.results = 0

    def report(self, eid: int) -> int:
        self.results = 0
        self.reports += 1
        if self.reports > 15:
            raise ValueError(f"encounter {eid} has more than 15 reports")
        return eid * 16 + self.reports

    def observation(self, eid: int) -> int:
        self.observations += 1
        self.results += 1
        if self.observations > 255:
            raise ValueError(f"encounter {eid} has more than 255 chart observations")
        return BIG + eid * 256 + self.observations
