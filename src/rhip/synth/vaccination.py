"""Immunizations of the synthetic county (pure Python, runs in worker processes).

Children aged 0–6 get the doses of the national programme schedule that ``rhip.programs`` reads from its
versioned data (``programs/data/schedule_immunization.json``; the version follows the birth date, and children
born before the oldest version follow the oldest). A dose is given on or after its due date — the scheduled age,
or the previous dose of the same vaccine plus the minimum interval — with a realistic delay: most within days,
some weeks or months late. About 1 % of children drop out of the programme after their birth doses and each
series is abandoned at a dose with a small probability, which gives the 95–99 % dose coverage of rural counties.
Birth doses (HepB 1, BCG) are given where the child was born (county hospital or MCH centre); the others at
the township health centre's vaccination clinic (接种门诊). Lots change monthly per clinic and vaccine.

Adults: seasonal influenza vaccine (CVX 141) for a small share of people aged 60+, in October–December, and the
23-valent pneumococcal polysaccharide vaccine (CVX 33) for a few aged 65+.
"""

from __future__ import annotations

import zlib
from datetime import date, timedelta

from rhip.programs.rules_common import schedule_versions
from rhip.programs.rules_immunization import immunization_schedule_for
from rhip.records.models_immunization import CVX, VACCINE_SYSTEM, VACCINES

DROP_OUT = 0.01  # children who get their birth doses only
SERIES_ABANDON = 0.006  # per dose: the child gets neither this dose nor later ones of the same vaccine
# v3-ActSite code of the usual injection site (None: oral)
SITES = {"HepB": ("RD", "LD"), "BCG": ("LD",), "IPV": ("LT", "RT"), "bOPV": (None,), "DTaP": ("RD", "LD"),
         "DT": ("RD", "LD"), "MMR": ("LA", "RA"), "JE-L": ("LA", "RA"), "MPSV-A": ("LA", "RA"),
         "MPSV-AC": ("LA", "RA"), "HepA-L": ("LA", "RA")}
ADULT = (  # (CVX code, display, min age, share per year, months)
    ("141", "流感疫苗（季节性，注射）", 60, 0.07, (10, 11, 12)),
    ("33", "23价肺炎球菌多糖疫苗", 65, 0.02, tuple(range(1, 13))),
)

_due_cache: dict[date, list] = {}


def schedule_for(birth: date):
    """The schedule version a child follows (the oldest in the data for children born before it)."""
    oldest = schedule_versions("immunization")[0]
    return immunization_schedule_for(birth) if birth >= oldest.effective_from else oldest


def _items(birth: date) -> list:
    """(vaccine, dose number, due at the scheduled age, minimum interval from the previous dose) in order."""
    got = _due_cache.get(birth)
    if got is None:
        sch = schedule_for(birth)
        got = sorted(((it.vaccine, it.dose_no, it.due.apply(birth), it.min_interval) for it in sch.items
                      if it.service == "vaccine" and it.vaccine in VACCINES),
                     key=lambda t: (t[2], t[0], t[1]))
        if len(_due_cache) > 4096:
            _due_cache.clear()
        _due_cache[birth] = got
    return got


def lot(vaccine: str, org: int, on: date) -> str:
    """A lot number such as 202510017: the lot released some months before use, one per clinic and month."""
    released = on - timedelta(days=100)
    serial = zlib.crc32(f"{vaccine}:{org}:{on.year}:{on.month}".encode()) % 1000
    return f"{released.year}{released.month:02d}{serial:03d}"


def _delay(rng) -> int:
    r = rng.random()
    if r < 0.62:
        return int(rng.random() * 7)
    if r < 0.90:
        return 7 + int(rng.random() * 24)
    return 30 + int(rng.expovariate(1 / 45))


def child_doses(rng, birth: date, end: date, born_at: int, clinic: int | None) -> list[tuple]:
    """(vaccine, dose number, date, org) of a child's doses given up to ``end``."""
    out: list[tuple] = []
    given: dict[tuple[str, int], date] = {}
    abandoned: set[str] = set()
    drop_out = rng.random() < DROP_OUT
    for vaccine, dose_no, due, min_interval in _items(birth):
        if due > end:
            break
        if vaccine in abandoned:
            continue
        birth_dose = due == birth and dose_no == 1
        if not birth_dose and (drop_out or rng.random() < SERIES_ABANDON):
            abandoned.add(vaccine)
            continue
        prev = given.get((vaccine, dose_no - 1))
        if prev is not None and min_interval is not None:
            due = max(due, min_interval.apply(prev))
        if birth_dose:
            when = due + timedelta(days=0 if rng.random() < 0.96 else 1 + int(rng.random() * 20))
            org = born_at
        else:
            when = due + timedelta(days=_delay(rng))
            org = clinic or born_at
        if when > end:
            continue
        given[(vaccine, dose_no)] = when
        out.append((vaccine, dose_no, when, org))
    return out


def adult_doses(rng, age: int, start: date, end: date) -> list[tuple[str, str, date]]:
    """(CVX code, display, date) of an older adult's vaccines in the year from ``start``."""
    out = []
    for code, display, min_age, share, months in ADULT:
        if age >= min_age and rng.random() < share:
            month = months[int(rng.random() * len(months))]
            year = start.year if month >= start.month else start.year + 1
            when = date(year, month, 1 + int(rng.random() * 28))
            if start <= when <= end:
                out.append((code, display, when))
    return out


def rows(rng, rid: int, birth: date, age: int, start: date, end: date, born_at: int, clinic: int | None,
         staff: dict[int, list[int]], created: str, source: str) -> list[tuple]:
    """Immunization rows (columns of ``IMMUNIZATION_COLS`` in synth.clinical) of one person.

    Ids: resident × 64 + n."""
    out = []
    if age <= 6:
        for n, (vaccine, dose_no, when, org) in enumerate(child_doses(rng, birth, end, born_at, clinic)):
            sites = SITES[vaccine]
            iid = rid * 64 + n
            people = staff.get(org) or [None]
            out.append((iid, rid, org, people[int(rng.random() * len(people))], source, f"IM{iid}", 1, created,
                        created, "completed", VACCINE_SYSTEM, vaccine, VACCINES[vaccine], dose_no, when.isoformat(),
                        lot(vaccine, org, when), sites[int(rng.random() * len(sites))]))
    elif age >= 60 and clinic:
        for n, (code, display, when) in enumerate(adult_doses(rng, age, start, end)):
            iid = rid * 64 + 40 + n
            people = staff.get(clinic) or [None]
            out.append((iid, rid, clinic, people[int(rng.random() * len(people))], source, f"IM{iid}", 1, created,
                        created, "completed", CVX, code, display, 1, when.isoformat(), lot(code, clinic, when), "LD"))
    return out
