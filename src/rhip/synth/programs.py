"""Programme history of the synthetic county, in pure Python (runs in worker processes; no database).

For each registered person, over the history window (1 January two years before the profile's year to
``HISTORY_END`` of that year):

* the facts that enrol key populations beyond what the clinical stage recorded: severe mental illness
  (F20/F31/F06, ≈ 5.5‰ of people aged 15+), tuberculosis notices from the CDC (A15, ≈ 1.5‰ over the window)
  and registered pregnancies (Z34, onset = last menstrual period) of women aged 20–42, with the delivery (O80)
  when it falls inside the window;
* the enrolments those facts call for (``programs.rules_enrollment`` — the same rules the platform runs), each
  with its schedule planned from the window's start (``programs.rules_plan``);
* follow-ups with realistic adherence: most scheduled visits happen inside their window, some late (point
  visits), some missed; people registered here but living elsewhere are seen far less. Blood pressure and
  glucose drift around a per-patient level, so some readings are uncontrolled: the rules then ask for a
  recheck within 2 weeks (usually done), and a second uncontrolled reading leads to a referral suggestion.
  Each follow-up is an Encounter (+ Observations) and a ``program_followup`` row classified by the rules.
  Inside the clinical stage's window its quarterly follow-ups and 65+ examinations are the visits (linked, not
  duplicated).
Ids: enrolment = resident × 16 + k; item = enrolment × 64 + j; follow-up = enrolment × 64 + j; encounter =
``ID_BASE`` + follow-up id, observation = encounter × 8 + j; conditions ``ID_BASE`` + resident × 8 + c — apart
from the clinical stage's ids. Each resident has its own random stream.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from rhip.kit import clock
from rhip.programs.facts import COLUMNS as FACT_COLS
from rhip.programs.facts import fact_rows
from rhip.programs.rules_chronic import (
    DiabetesFollowUp, HypertensionFollowUp, assess_smi, classify_diabetes, classify_hypertension,
)
from rhip.programs.rules_common import age_on, load_schedule
from rhip.programs.rules_enrollment import ConditionFact, PersonFacts, desired_enrollments
from rhip.programs.rules_maternal import assess_pregnancy_risk
from rhip.programs.rules_plan import match_item, plan, recheck_item, schedule_version
from rhip.programs.rules_visits import Visit
from rhip.synth.workers import Counts

ID_BASE = 1 << 44
HISTORY_END = (11, 20)      # month, day of the profile's year: follow-ups are generated up to this date
HISTORY_YEARS = 2           # plus the profile's year
ICD10 = "http://hl7.org/fhir/sid/icd-10"
LOINC = "http://loinc.org"
SOURCE = "urn:rhip:sid:synth"
PROGRAM_OBS = "urn:rhip:cs:program-observation"
ADHERENCE = {"hypertension": 0.86, "diabetes": 0.84, "smi": 0.85, "tb": 0.95, "child": 0.9, "pregnancy": 0.88,
             "elderly": 0.72, "elderly.tcm": 0.62}
AWAY_ADHERENCE = 0.3        # registered here, living elsewhere
RECHECK_DONE = 0.75
LATE_SHARE = 0.12           # point visits done after their window
REASON = {"hypertension": "高血压患者随访", "diabetes": "2型糖尿病患者随访", "smi": "严重精神障碍患者随访",
          "pregnancy": "孕产妇健康管理", "child": "0～6岁儿童健康检查", "elderly": "老年人健康管理", "tb": "肺结核患者随访"}
HOME_VISITS = {"child.newborn", "pregnancy.postpartum_home", "tb.first"}

CONDITION_COLS = ("id", "resident_id", "org_id", "practitioner_id", "source_system", "source_id", "version",
                  "created_at", "updated_at", "encounter_id", "code_system", "code", "display", "category",
                  "clinical_status", "verification_status", "onset_date", "recorded_date")
ENROLLMENT_COLS = ("id", "resident_id", "program", "status", "start_date", "basis", "reason_code", "reason_text",
                   "source_ref", "anchor_date", "facts", "schedule_version", "end_date", "end_reason", "end_note",
                   "created_by", "version", "created_at", "updated_at")
ITEM_COLS = ("id", "enrollment_id", "resident_id", "program", "kind", "name_zh", "service", "due_date",
             "window_start", "window_end", "status", "done_on", "followup_id")
FOLLOWUP_COLS = ("id", "enrollment_id", "resident_id", "program", "encounter_id", "visit_date", "item_kind",
                 "face_to_face", "control_status", "next_step", "next_visit_due", "risk_grade", "risk_colour",
                 "reasons", "form", "org_id", "practitioner_id", "created_by", "created_at")
ENCOUNTER_COLS = ("id", "resident_id", "org_id", "practitioner_id", "source_system", "source_id", "version",
                  "created_at", "updated_at", "kind", "status", "period_start", "period_end", "reason")
OBSERVATION_COLS = ("id", "resident_id", "org_id", "practitioner_id", "source_system", "source_id", "version",
                    "created_at", "updated_at", "encounter_id", "status", "category", "code_system", "code",
                    "display", "effective_at", "value", "unit", "value_text", "ref_low", "ref_high", "interpretation")
COMPONENT_COLS = ("observation_id", "seq", "code_system", "code", "display", "value", "unit")
STAGED = {"condition": CONDITION_COLS, "program_enrollment": ENROLLMENT_COLS, "program_item": ITEM_COLS,
          "program_followup": FOLLOWUP_COLS, "encounter": ENCOUNTER_COLS, "observation": OBSERVATION_COLS,
          "observation_component": COMPONENT_COLS, "program_fact": FACT_COLS}


@dataclass(frozen=True)
class Window:
    start: date          # history starts (schedules planned from here)
    end: date            # history ends ("today" of the synthetic county)
    covered_from: date   # the clinical stage's window: its follow-ups are the visits there
    covered_to: date     # exclusive

    @classmethod
    def for_year(cls, year: int) -> "Window":
        ref = date(year, 7, 1)  # synth.history: the clinical stage covers the 12 months before 1 July
        return cls(date(year - HISTORY_YEARS, 1, 1), date(year, *HISTORY_END), ref - timedelta(days=365), ref)

    def covers(self, program: str, d: date) -> bool:
        return program in ("hypertension", "diabetes") and self.covered_from <= d < self.covered_to


@dataclass
class ProgramStats(Counts):
    enrollments: int = 0
    items: int = 0
    followups: int = 0
    linked: int = 0
    encounters: int = 0
    uncontrolled: int = 0
    referrals: int = 0
    conditions: int = 0


@dataclass
class Rows:
    condition: list = field(default_factory=list)
    program_enrollment: list = field(default_factory=list)
    program_item: list = field(default_factory=list)
    program_followup: list = field(default_factory=list)
    encounter: list = field(default_factory=list)
    observation: list = field(default_factory=list)
    observation_component: list = field(default_factory=list)
    program_fact: list = field(default_factory=list)


class Item:
    """A planned item of one enrolment (a plain slotted class: ≈ 250k are made per 20k residents)."""

    __slots__ = ("done_on", "due_date", "followup_id", "id", "kind", "name_zh", "service", "window_end",
                 "window_start")

    def __init__(self, id: int, kind: str, name_zh: str, service: str, due_date: date, window_start: date,
                 window_end: date):
        self.id, self.kind, self.name_zh, self.service, self.due_date = id, kind, name_zh, service, due_date
        self.window_start, self.window_end = window_start, window_end
        self.done_on: date | None = None
        self.followup_id: int | None = None


def rng_for(seed: int, rid: int) -> random.Random:
    return random.Random(int.from_bytes(hashlib.blake2b(f"{seed}:p:{rid}".encode(), digest_size=8).digest(), "big"))


def _extra_conditions(rng: random.Random, rid: int, birth: date, sex: str, w: Window, clinic: int | None,
                      created: str, rows: Rows, stats: "ProgramStats") -> list[ConditionFact]:
    out = []
    age = age_on(birth, w.end)

    def add(c: int, code: str, display: str, onset: date, recorded: date) -> None:
        cid = ID_BASE + rid * 8 + c
        rows.condition.append((cid, rid, clinic, None, SOURCE, f"PC{rid * 8 + c}", 1, created, created, None, ICD10,
                               code, display, "problem-list-item", "active", "confirmed", onset.isoformat(),
                               recorded.isoformat()))
        out.append(ConditionFact(cid, code, onset, recorded, "active"))
        stats.conditions += 1

    if age >= 15 and rng.random() < 0.0055:
        code, display = rng.choices((("F20.9", "精神分裂症"), ("F31.9", "双相情感障碍"), ("F06.9", "癫痫所致精神障碍")),
                                    (0.7, 0.2, 0.1))[0]
        onset = min(birth + timedelta(days=int(365.25 * (16 + rng.random() * max(1, min(age, 45) - 16)))),
                    w.end - timedelta(days=60))
        add(4, code, display, onset, onset)
    if rng.random() < 0.0015:
        notice = w.start + timedelta(days=int(rng.random() * ((w.end - w.start).days - 10)))
        if notice > birth:
            add(5, "A15.0", "肺结核（痰涂片阳性）", notice - timedelta(days=int(rng.random() * 10)), notice)
    if sex == "2" and 20 <= age <= 42 and rng.random() < 0.14:
        lmp = w.start - timedelta(days=200) + timedelta(days=int(rng.random() * ((w.end - w.start).days + 150)))
        registered = lmp + timedelta(weeks=6 + int(rng.random() * (8 if rng.random() < 0.88 else 14)))
        if registered <= w.end:
            add(6, "Z34.9", "正常妊娠监督", lmp, registered)
            delivery = lmp + timedelta(days=266 + int(rng.random() * 28))
            if delivery <= w.end:
                add(7, "O80.0", "单胎顺产", delivery, delivery)
    return out


def generate(seed: int, w: Window, people: list[tuple], fac, rows: Rows, stats: ProgramStats) -> None:
    """Append the programme rows of ``people``: (id, birth, sex, village, status, status date, usual local,
    [conditions (id, code, onset, recorded, clinical status)], [visits (encounter id, date, kind, org,
    practitioner, sbp, dbp, glucose)])."""
    created = f"{w.start.isoformat()} 08:00:00"
    enrolled: list[tuple] = []  # what the indicator facts need of each enrolment (see _facts)
    for rid, birth, sex, village, status, status_date, usual_local, conds, visits in people:
        rng = rng_for(seed, rid)
        clinic = fac.village_clinic.get(village)
        centre = fac.township_centre.get(village[:9])
        facts = [ConditionFact(*c) for c in conds]
        facts += _extra_conditions(rng, rid, birth, sex, w, clinic or centre, created, rows, stats)
        person = PersonFacts(birth, status, status_date, tuple(facts))
        desired = [d for d in desired_enrollments(person, w.end) if d.end_date is None or d.end_date >= w.start]
        for k, d in enumerate(desired[:16]):
            eid = rid * 16 + k
            ended = d.end_date is not None and d.end_date <= w.end
            rows.program_enrollment.append((
                eid, rid, d.program, "ended" if ended else "active", d.start_date, "auto", d.reason_code, d.reason_zh,
                d.source_ref, d.anchor_date, json.dumps(dict(d.facts)) if d.facts else None,
                schedule_version(d.program, d.anchor_date if d.program == "child" else d.start_date),
                d.end_date if ended else None, d.end_reason if ended else None, None, "synth", 1, created, created))
            stats.enrollments += 1
            fvisits, fdue = _history(rng, seed, w, rid, birth, eid, d, usual_local, visits, clinic, centre, fac,
                                     created, rows, stats)
            enrolled.append((eid, rid, d.program, village, d.start_date, d.end_date if ended else None, fvisits, fdue))
    rows.program_fact += _facts(w, enrolled, clock.now())


def _facts(w: Window, enrolled: list[tuple], now: datetime) -> list[tuple]:
    """The indicator facts (``program_fact``) of each year of the window, with the platform's own
    ``programs.facts.fact_rows`` over what was just generated — the rows ``programs.facts.refresh`` would
    compute from the database (same enrolments in the year, follow-ups in the year, main items whose window
    closed in the year by the window's end)."""
    out: list[tuple] = []
    for year in range(w.start.year, w.end.year + 1):
        jan1, dec31 = date(year, 1, 1), date(year, 12, 31)
        last = min(w.end, dec31)
        active, visits, due = [], {}, {}
        for eid, rid, program, village, start, end, fvisits, fdue in enrolled:
            if start > dec31 or (end is not None and end < jan1):
                continue
            active.append((eid, rid, program, village))
            visits[eid] = [v for v in fvisits if jan1 <= v.date <= dec31]
            due[eid] = [done for window_end, done in fdue if jan1 <= window_end <= last]
        out += fact_rows(year, w.end, active, visits, due, now)
    return out


def _history(rng, seed, w: Window, rid, birth, eid, d, usual_local, visits, clinic, centre, fac, created, rows,
             stats) -> tuple[list[Visit], list[tuple]]:
    """Schedule and follow-ups of one enrolment; returns its follow-ups and main items (window end, done?)
    as the indicator facts read them."""
    program = d.program
    through = date(w.end.year + 1, 12, 31)
    planned = _plan(program, d.anchor_date, d.facts, d.start_date, d.end_date, through, w.start)
    items = [Item(eid * 64 + j, p.kind, p.name_zh, p.service, p.due_date, p.window_start, p.window_end)
             for j, p in enumerate(planned[:40])]
    next_item = len(items)
    next_fu = 0
    last_day = min(w.end, d.end_date) if d.end_date else w.end
    base_p = ADHERENCE[program] * (1 if usual_local else AWAY_ADHERENCE / ADHERENCE[program])
    # (date, order, kind, existing visit or None)
    queue: list[tuple] = []
    rand = rng.random
    start, first = d.start_date, max(d.start_date, w.start)  # the platform's history starts at w.start
    # w.covers(program, day), inlined: the clinical stage's window, for chronic programmes only
    cov_from, cov_to = (w.covered_from, w.covered_to) if program in ("hypertension", "diabetes") else (None, None)
    late = program in ("child", "pregnancy", "tb")
    tcm_p = ADHERENCE["elderly.tcm"]
    for it in items:
        ws, we = it.window_start, it.window_end
        if (cov_from is not None and cov_from <= ws < cov_to) or ws > last_day or we < start:
            continue
        if rand() >= (tcm_p if it.kind == "elderly.tcm" else base_p):
            continue
        lo = ws if ws > first else first
        if lo > we:
            continue
        day = lo + timedelta(days=int(rand() * ((we - lo).days + 1)))
        if late and rand() < LATE_SHARE:
            day = we + timedelta(days=1 + int(rand() * 25))
        if day <= last_day and not (cov_from is not None and cov_from <= day < cov_to):
            heapq.heappush(queue, (day, len(queue), it.kind, None))
    for v in visits:
        if v[2] == "followup" and d.start_date <= v[1] <= last_day and w.covers(program, v[1]):
            heapq.heappush(queue, (v[1], len(queue), None, v))
    # per-patient level: where blood pressure / glucose sit (some patients well controlled, some not)
    level = rng.gauss(0, 1)
    adjusted = 0.0  # treatment adjusted after an uncontrolled reading: the next readings are lower
    previous = None
    risk = 0 if rng.random() < 0.6 else 1 + int(rng.random() * 2)
    seen: set[date] = set()
    fvisits: list[Visit] = []
    open_items = list(items)  # in item order; done ones are removed, rechecks appended (as match_item sees them)
    while queue and next_fu < 64:
        day, _, kind, existing = heapq.heappop(queue)
        if day in seen:
            continue  # one follow-up a day
        seen.add(day)
        chosen = match_item(open_items, day, kind)
        if kind and not chosen and program not in ("hypertension", "diabetes", "smi"):
            continue
        fid = eid * 64 + next_fu
        next_fu += 1
        age = age_on(birth, day)
        form: dict = {"way": "home" if kind in HOME_VISITS else "clinic"}
        decision = {"control_status": None, "next_step": None, "next_visit_due": None, "reasons": (),
                    "risk_grade": None, "risk_colour": None}
        if existing is not None:
            enc_id, org, doc = existing[0], existing[3], existing[4]
            sbp, dbp, glu = existing[5], existing[6], existing[7]
            stats.linked += 1
        else:
            enc_id = ID_BASE + fid
            org = clinic if (program in ("hypertension", "diabetes", "smi", "tb") or kind in HOME_VISITS) and clinic \
                else centre or clinic or fac.county[0]
            staff = fac.staff.get(org) or [None]
            doc = staff[int(rng.random() * len(staff))]
            sbp = dbp = glu = None
            if program in ("hypertension", "diabetes", "elderly", "pregnancy"):
                lv = level - adjusted
                base = (138 + 9 * lv if program in ("hypertension",) else 128 + 8 * lv if program == "diabetes"
                        else 112 if program == "pregnancy" else 130 + 0.3 * max(0, age - 65))
                sbp = round(max(85, min(230, rng.gauss(base, 11))))
                dbp = round(max(45, min(sbp - 20, rng.gauss(78 + 4 * level if program != "pregnancy" else 72, 7))))
            if program == "diabetes":
                glu = round(max(3.0, min(24.0, rng.gauss(6.9 + 1.1 * (level - adjusted), 1.3))), 1)
        if sbp is not None:
            form.update(sbp=int(sbp), dbp=int(dbp))
        if glu is not None:
            form["fasting_glucose"] = glu
        signs = ("severe_headache_dizziness",) if sbp and sbp >= 180 and rng.random() < 0.3 else ()
        if program == "hypertension" and sbp is not None and dbp is not None:
            a = classify_hypertension(HypertensionFollowUp(day, int(sbp), int(dbp), age, rng.random() < 0.01, False,
                                                           signs, previous), schedule=_schedule(program, day))
        elif program == "diabetes" and glu is not None:
            a = classify_diabetes(DiabetesFollowUp(day, glu, sbp and int(sbp), dbp and int(dbp), rng.random() < 0.01,
                                                   False, (), previous), schedule=_schedule(program, day))
        elif program == "smi":
            risk = max(0, min(5, risk + (1 if rng.random() < 0.08 else -1 if rng.random() < 0.3 else 0)))
            s = assess_smi(day, risk)
            form["risk_grade"] = risk
            decision.update(risk_grade=risk, next_step=s.next_step.value, next_visit_due=s.next_visit_due,
                            control_status="controlled" if s.stability == "stable" else "uncontrolled",
                            reasons=s.reasons)
            a = None
        else:
            a = None
        if a is not None:
            decision.update(control_status=a.control_status.value, next_step=a.next_step.value,
                            next_visit_due=a.next_visit_due, reasons=a.reasons)
            previous = a.control_status.value
            stats.uncontrolled += a.control_status.value == "uncontrolled"
            form["adherence"] = "regular" if rng.random() < 0.8 else "intermittent"
        if program == "pregnancy":
            r = assess_pregnancy_risk((), age=age)
            decision.update(risk_colour=r.colour)
        if program == "child":
            months = max(0, (day - birth).days / 30.44)
            form.update(weight=round(3.3 + 0.55 * min(months, 12) + 0.18 * max(0, months - 12) + rng.gauss(0, 0.6), 1),
                        height=round(50 + 2.2 * min(months, 12) + 0.75 * max(0, months - 12) + rng.gauss(0, 2), 1))
        stats.referrals += decision["next_step"] in ("refer", "emergency_referral")
        adjusted = 1.2 if decision["next_step"] not in (None, "routine") else max(0.0, adjusted - 0.3)
        for it in chosen:
            it.done_on, it.followup_id = day, fid
        if chosen:
            open_items = [i for i in open_items if i.done_on is None]
        start = datetime(day.year, day.month, day.day, 8 + int(rng.random() * 9), int(rng.random() * 60))
        start_text = start.isoformat(sep=" ")
        if existing is None:
            _encounter(rows, enc_id, rid, org, doc, start, start_text, program, form, created)
            stats.encounters += 1
        rows.program_followup.append((
            fid, eid, rid, program, enc_id, day, chosen[0].kind if chosen else None, True,
            decision["control_status"], decision["next_step"], decision["next_visit_due"], decision["risk_grade"],
            decision["risk_colour"], _reasons_json(decision["reasons"]),
            _form_json(form), org, doc, "synth", start_text))
        stats.followups += 1
        fvisits.append(Visit(day, chosen[0].kind if chosen else None, True, decision["control_status"]))
        if decision["next_step"] and next_item < 64:
            extra = recheck_item(program, day, decision["next_step"], decision["next_visit_due"])
            if extra is not None:
                it = Item(eid * 64 + next_item, extra.kind, extra.name_zh, extra.service, extra.due_date,
                          extra.window_start, extra.window_end)
                items.append(it)
                open_items.append(it)
                next_item += 1
                back = day + timedelta(days=4 + int(rng.random() * 10))
                if existing is None and back <= last_day and not w.covers(program, back) \
                        and rng.random() < RECHECK_DONE * (1 if usual_local else 0.4):
                    heapq.heappush(queue, (back, len(queue) + 1000, None, None))
    for it in items:
        rows.program_item.append((it.id, eid, rid, program, it.kind, it.name_zh, it.service, it.due_date,
                                  it.window_start, it.window_end, "done" if it.done_on else
                                  ("cancelled" if d.end_date and it.window_start > d.end_date else "scheduled"),
                                  it.done_on, it.followup_id))
        stats.items += 1
    return fvisits, [(it.window_end, it.done_on is not None) for it in items if it.service == "visit"]


_REASONS_JSON: dict[tuple, str] = {}


def _reasons_json(reasons: tuple) -> str:
    """``json.dumps([r.__dict__ …], ensure_ascii=False)``, remembered per tuple of reasons (few distinct ones)."""
    got = _REASONS_JSON.get(reasons)
    if got is None:
        if len(_REASONS_JSON) > 100_000:
            _REASONS_JSON.clear()
        got = _REASONS_JSON[reasons] = json.dumps([r.__dict__ for r in reasons], ensure_ascii=False)
    return got


def _form_json(form: dict) -> str:
    """``json.dumps(form)`` for the forms built here: identifier keys, ASCII word, int or float values (the
    same text: json writes ints and floats with their repr)."""
    return "{" + ", ".join([f'"{k}": "{v}"' if v.__class__ is str else f'"{k}": {v!r}' for k, v in form.items()]) + "}"


_PLANS: dict[tuple, list] = {}
_SCHEDULES: dict[tuple, object] = {}


def _schedule(program: str, day: date):
    key = (program, day.year)  # schedule versions here change on 1 January at most
    if key not in _SCHEDULES:
        _SCHEDULES[key] = load_schedule(program, date(day.year, 12, 31))
    return _SCHEDULES[key]


def _plan(program: str, anchor, facts, start: date, end, through: date, plan_from: date) -> list:
    """``rules_plan.plan``, memoised: chronic and elderly plans depend on the start only inside the window."""
    if program in ("hypertension", "diabetes", "smi", "elderly"):
        key = (program, max(start, plan_from), end, through)
    else:
        key = (program, anchor, tuple(sorted(facts.items())), start, end, through)
    got = _PLANS.get(key)
    if got is None:
        if len(_PLANS) > 50_000:
            _PLANS.clear()
        got = _PLANS[key] = plan(program, anchor=anchor, facts=facts, start=start, end=end, through=through,
                                 plan_from=plan_from)
    return got


def _encounter(rows: Rows, enc_id: int, rid: int, org, doc, start: datetime, start_text: str, program: str,
               form: dict, created: str) -> None:
    enc_kind = "home_visit" if form.get("way") == "home" else "followup"
    end = start + timedelta(minutes=15 + (enc_id % 20))
    rows.encounter.append((enc_id, rid, org, doc, SOURCE, f"PE{enc_id - ID_BASE}", 1, created, created, enc_kind,
                           "finished", start_text, end.isoformat(sep=" "), REASON[program]))
    when = (start + timedelta(minutes=5)).isoformat(sep=" ")
    j = 0

    def obs(category, system, code, display, value, unit):
        nonlocal j
        oid = enc_id * 8 + j
        j += 1
        rows.observation.append((oid, rid, org, doc, SOURCE, f"PO{oid - ID_BASE * 8}", 1, created, created, enc_id,
                                 "final", category, system, code, display, when, value, unit, None, None, None, None))
        return oid

    if "sbp" in form:
        oid = obs("vital-signs", LOINC, "85354-9", "血压", None, None)
        rows.observation_component.append((oid, 1, LOINC, "8480-6", "收缩压", form["sbp"], "mm[Hg]"))
        rows.observation_component.append((oid, 2, LOINC, "8462-4", "舒张压", form["dbp"], "mm[Hg]"))
    if "fasting_glucose" in form:
        obs("laboratory", LOINC, "1558-6", "空腹血糖", form["fasting_glucose"], "mmol/L")
    if "weight" in form:
        obs("vital-signs", LOINC, "29463-7", "体重", form["weight"], "kg")
    if "height" in form:
        obs("vital-signs", LOINC, "8302-2", "身高", form["height"], "cm")
    if "risk_grade" in form:
        obs("survey", PROGRAM_OBS, "smi-risk-grade", "严重精神障碍危险性评估", form["risk_grade"], None)


def work(tasks, results, seed: int, w: Window, fac, dialect: str, path) -> None:
    """A worker process: generate the programme rows of each chunk of people into its own staging."""
    import gc
    import traceback

    from rhip.kit.staging import StagingWriter

    try:
        gc.disable()
        writer = StagingWriter(dialect, path, STAGED)
        stats = ProgramStats()
        while (chunk := tasks.get()) is not None:
            rows = Rows()
            generate(seed, w, chunk, fac, rows, stats)
            for table in STAGED:
                writer.write(table, getattr(rows, table))
            results.put(("progress", len(chunk)))
        writer.close()
        results.put(("done", stats))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the stage
        results.put(("error", traceback.format_exc()))
