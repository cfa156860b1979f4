"""Rows of the synthetic county's people, generated in pure Python (no database, no SQLAlchemy, so that
worker processes start fast), and written to staging files by :func:`stage_part`.

Deterministic for a seed: each village has its own random stream derived from (seed, village code).
"""

from __future__ import annotations

import bisect
import gc
import hashlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rhip.kit.idcard import make_id_number
from rhip.kit.staging import StagingWriter
from rhip.synth import demography as dm
from rhip.synth.layout import CountyLayout
from rhip.kit.hanzi import surname_of
from rhip.synth.names import NameSampler
from rhip.synth.places import street_address
from rhip.synth.profiles import Profile

RESIDENT_COLS = ("id", "record_no", "name", "id_number", "id_number_raw", "id_number_status", "sex", "birth_date",
                 "ethnicity", "phone", "phone2", "household_id", "relation_to_head", "village_code", "address",
                 "hukou_local", "usual_local", "status", "status_date", "disability", "disability_grade",
                 "poverty_registered", "fp_special_family", "source", "version", "created_at", "updated_at")
HOUSEHOLD_COLS = ("id", "code", "village_code", "address", "head_resident_id", "created_at")
TRUTH_COLS = ("resident_id", "person_id", "faults")
STAGED_TABLES = {"household": HOUSEHOLD_COLS, "resident": RESIDENT_COLS, "synth_truth": TRUTH_COLS}
RESIDENT_SLOTS = 450  # ID sequence slots 0–449 for residents; practitioners use 450–499
# The county is generated in PARTS partitions (villages i with i % PARTS == p), each in its own process when
# parallel. PARTS is a constant, not the machine's core count, so the output depends on the seed alone:
# partitions take disjoint ID-sequence slots, and every village numbers its residents and households from its
# own block of ids (village i: (i + 1) * VILLAGE_BLOCK + 1, …), so no partition needs another's counters.
PARTS = 2
VILLAGE_BLOCK = 100_000  # also the 5-digit health-record sequence's limit per village


def village_rng(seed: int, code: str) -> random.Random:
    digest = hashlib.blake2b(f"{seed}:{code}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


@dataclass
class PeopleStats:
    rows: int = 0
    households: int = 0
    usual: int = 0
    elderly65_usual: int = 0
    child0_6_usual: int = 0
    away: int = 0
    deceased: int = 0
    moved_out: int = 0
    duplicates: int = 0
    legacy15: int = 0
    missing_id: int = 0

    @classmethod
    def total(cls, parts: list["PeopleStats"]) -> "PeopleStats":
        return cls(**{f: sum(getattr(p, f) for p in parts) for f in cls.__dataclass_fields__})


def _typo_id(rng: random.Random, idn: str) -> str:
    """A realistic keying error: one digit changed, or two adjacent different digits swapped."""
    digits = list(idn)
    if rng.random() < 0.5:
        i = rng.randrange(6, 17)
        digits[i] = str((int(digits[i]) + rng.randint(1, 9)) % 10)
    else:
        candidates = [i for i in range(6, 16) if digits[i] != digits[i + 1]]
        i = rng.choice(candidates)
        digits[i], digits[i + 1] = digits[i + 1], digits[i]
    return "".join(digits)


def iter_chunks(profile: Profile, layout: CountyLayout, seed: int, chunk: int = 20_000,
                part: int = 0) -> Iterator[tuple]:
    """Yield ("rows", households, residents, truth) chunks of one partition, then ("done", record sequences,
    stats). Pure: no I/O."""
    stats = PeopleStats()
    ref = date(profile.as_of_year, 7, 1)
    ref_ord = ref.toordinal()
    faults = profile.faults
    weights = [v.weight for v in layout.villages]
    total_w = sum(weights)
    record_seq: dict[str, int] = {v.code: 0 for v in layout.villages}
    hh_seq: dict[str, int] = {v.code: 0 for v in layout.villages}
    mine = [(i, v) for i, v in enumerate(layout.villages) if i % PARTS == part]
    village_codes = [v.code for _, v in mine]  # a second registration stays within the partition
    part_slots = RESIDENT_SLOTS // PARTS
    slot_base = part * part_slots
    res_rows: list[tuple] = []
    hh_rows: list[tuple] = []
    truth_rows: list[tuple] = []
    shape_cum, shape_funcs = dm.SHAPE_CUM, dm.SHAPE_FUNCS
    n_shapes = len(shape_funcs)
    eth_cum, eth_codes = dm.ETHNIC_CUM, dm.ETHNIC_CODES
    dis_cum, dis_cats, grade_cum = dm.DISABILITY_CUM, dm.DISABILITY_CATS, dm.GRADE_CUM
    prefixes = dm.MOBILE_PREFIXES
    n_prefixes = len(prefixes)
    death_years = profile.death_window_years
    ages = range(121)
    p_death = [dm.death_probability(a, death_years) for a in ages]
    p_away = [dm.away_probability(a) for a in ages]
    p_phone = [dm.phone_probability(a) for a in ages]
    p_disabled = [dm.disability_probability(a) for a in ages]
    p_moved = profile.moved_out_share * 4
    created_base = date(2012, 1, 1).toordinal()
    bisect_right = bisect.bisect_right
    fromordinal = date.fromordinal
    # Unique 3-digit ID sequences per (birth date, sex): memory bounded by the number of dates, not people.
    counters: dict[int, int] = {}
    division6 = profile.county_code
    incomer_share, poverty_share = profile.incomer_share, profile.poverty_household_share
    fp_share = profile.fp_special_household_share
    miss_other, miss_child, miss_old = faults.missing_id_other, faults.missing_id_child, faults.missing_id_elderly
    legacy_share, dup_share = faults.legacy15, faults.duplicate
    n_usual = n_old = n_child = n_away = n_dead = n_moved = n_dup = n_legacy = n_missing = 0

    for vi, v in mine:
        rid = hid = (vi + 1) * VILLAGE_BLOCK
        rng = village_rng(seed, v.code)
        names = NameSampler(rng)
        full_name, given = names.full_name, names.given
        rand = rng.random
        target = round(profile.usual_residents * v.weight / total_w)
        usual_here = 0
        vcode = v.code
        vname = v.name
        while usual_here < target:
            hid += 1
            stats.households += 1
            members = shape_funcs[min(bisect_right(shape_cum, rand() * shape_cum[-1]), n_shapes - 1)](rng)
            incomer = rand() < incomer_share
            poor = rand() < poverty_share
            fp_special = rand() < fp_share and members[0][2] >= 50
            address = street_address(rng, vname)
            created = f"{fromordinal(created_base + int(rand() * 4900)).isoformat()} {8 + int(rand() * 10):02d}:" \
                      f"{int(rand() * 60):02d}:00"
            ethnicity = eth_codes[bisect_right(eth_cum, rand())]
            family_name = None
            hh_no = hh_seq[vcode] = hh_seq[vcode] + 1
            hh_rows.append((hid, f"{vcode}{hh_no:05d}", vcode, address, rid + 1, created))
            for relation, sex, age, may_be_away in members:
                rid += 1
                male = sex == "1"
                birth = fromordinal(ref_ord - age * 365 - age // 4 - int(rand() * 365))
                if family_name and relation in ("20", "30", "40"):
                    name = family_name + given(sex, birth.year)  # children take the father's surname
                else:
                    name = full_name(sex, birth.year)
                    if male and not family_name and relation in ("02", "20"):
                        family_name = surname_of(name)
                # status: deceased, moved out, away for work, or living here
                status, status_date, usual = "alive", None, True
                if rand() < p_death[age]:
                    status = "deceased"
                    died = ref_ord - int(rand() * death_years * 365)
                    status_date = fromordinal(max(died, birth.toordinal() + 30)).isoformat()
                    usual = False
                elif may_be_away and rand() < p_moved:
                    status = "moved_out"
                    status_date = fromordinal(ref_ord - int(rand() * 3 * 365)).isoformat()
                    usual = False
                elif not incomer and rand() < p_away[age]:
                    usual = False
                key = birth.toordinal() * 2 + male
                k = counters.get(key, 0)
                if k >= part_slots:
                    raise OverflowError(f"more than {part_slots} people of one sex born on {birth} in one partition")
                counters[key] = k + 1
                idn = make_id_number(division6, birth, (slot_base + ((key >> 1) * 37 + k) % part_slots) * 2 + male)
                id_raw, id_status, real_id = None, "valid", idn
                r = rand()
                if r < miss_other or (age <= 6 and r < miss_child) or (age >= 80 and r < miss_old):
                    idn, id_status = None, "missing"
                    n_missing += 1
                elif birth.year < 1985 and rand() < legacy_share:
                    id_raw, id_status = idn[:6] + idn[8:17], "legacy15"
                    n_legacy += 1
                phone = phone2 = None
                if rand() < p_phone[age]:
                    phone = f"{prefixes[int(rand() * n_prefixes)]}{int(rand() * 100_000_000):08d}"
                    if rand() < 0.08:
                        phone2 = f"{prefixes[int(rand() * n_prefixes)]}{int(rand() * 100_000_000):08d}"
                disability = grade = None
                if rand() < p_disabled[age]:
                    disability = dis_cats[bisect_right(dis_cum, rand())]
                    grade = bisect_right(grade_cum, rand()) + 1
                seq = record_seq[vcode] = record_seq[vcode] + 1
                res_rows.append((rid, f"{vcode}{seq:05d}", name, idn, id_raw, id_status, sex, birth.isoformat(),
                                 ethnicity, phone, phone2, hid, relation, vcode, address, not incomer, usual, status,
                                 status_date, disability, grade, poor, fp_special, "synth", 1, created, created))
                if usual:
                    usual_here += 1
                    if age >= 65:
                        n_old += 1
                    elif age <= 6:
                        n_child += 1
                elif status == "deceased":
                    n_dead += 1
                elif status == "moved_out":
                    n_moved += 1
                else:
                    n_away += 1
                if status == "alive" and rand() < dup_share:
                    rid = _duplicate(rng, names, rid, res_rows, truth_rows, record_seq, village_codes, vcode, name,
                                     sex, birth, real_id, phone, ethnicity, created)
                    n_dup += 1
            if len(res_rows) >= chunk:
                yield "rows", hh_rows, res_rows, truth_rows
                hh_rows, res_rows, truth_rows = [], [], []
        n_usual += usual_here
        if rid - (vi + 1) * VILLAGE_BLOCK >= VILLAGE_BLOCK:
            raise OverflowError(f"village {v.code} has more than {VILLAGE_BLOCK - 1} registrations")
    yield "rows", hh_rows, res_rows, truth_rows
    stats.usual, stats.elderly65_usual, stats.child0_6_usual = n_usual, n_old, n_child
    stats.away, stats.deceased, stats.moved_out = n_away, n_dead, n_moved
    stats.duplicates, stats.legacy15, stats.missing_id = n_dup, n_legacy, n_missing
    own = set(village_codes)
    yield "done", ({code: n for code, n in record_seq.items() if code in own},
                   {code: n for code, n in hh_seq.items() if code in own}), stats


def stage_part(profile: Profile, seed: int, part: int, dialect: str, path: Path, chunk: int,
                report: Callable[[tuple], None]) -> None:
    from rhip.synth.layout import plan_layout

    layout = plan_layout(profile, random.Random(f"{seed}:layout"))
    writer = StagingWriter(dialect, path, STAGED_TABLES)
    # The rows are acyclic tuples of strings and numbers, freed by reference counting; the cyclic collector
    # would only re-walk the growing chunk lists (about 30 % of the generator's time), so it pauses here.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for item in iter_chunks(profile, layout, seed, chunk, part):
            if item[0] == "done":
                writer.close()
                report(("done", part, item[1], item[2]))
                return
            _, hh_rows, res_rows, truth_rows = item
            writer.write("household", hh_rows)
            writer.write("resident", res_rows)
            writer.write("synth_truth", truth_rows)
            report(("progress", len(res_rows)))
    finally:
        if gc_was_enabled:
            gc.enable()


def stage_in_child(queue, *args) -> None:  # a child process: every outcome goes to the parent's queue
    import traceback

    try:
        stage_part(*args, report=queue.put)
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the stage
        queue.put(("error", traceback.format_exc()))


def _duplicate(rng, names, rid, res_rows, truth_rows, record_seq, village_codes, vcode, name, sex, birth, real_id,
               phone, ethnicity, created) -> int:
    """A second registration of the same person elsewhere (a clinic, a hospital), with realistic faults."""
    original = rid
    rid += 1
    fault = []
    if rng.random() < 0.5:
        name = names.homophone_variant(name)
        fault.append("name_typo")
    r = rng.random()
    id_raw, id_status, idn = None, "missing", None
    if real_id and r < 0.35:
        idn, id_status = real_id, "valid"
        fault.append("same_id")
    elif real_id and r < 0.65:
        id_raw, id_status = _typo_id(rng, real_id), "invalid"
        fault.append("id_typo")
    else:
        fault.append("id_missing")
        if birth.day <= 12 and birth.day != birth.month and rng.random() < 0.3:
            birth = date(birth.year, birth.day, birth.month)
            fault.append("date_swap")
    if phone and rng.random() < 0.3:
        phone = phone[:-1] + str((int(phone[-1]) + rng.randint(1, 9)) % 10)
        fault.append("phone_changed")
    elif phone and rng.random() < 0.3:
        phone = None
        fault.append("phone_missing")
    village = vcode
    if rng.random() < 0.2:
        village = village_codes[rng.randrange(len(village_codes))]
        if village != vcode:
            fault.append("moved_village")
    seq = record_seq[village] = record_seq[village] + 1
    res_rows.append((rid, f"{village}{seq:05d}", name, idn, id_raw, id_status, sex, birth.isoformat(), ethnicity,
                     phone, None,
                     None, None, village, None, True, True, "alive", None, None, None, False, False, "synth-dup", 1,
                     created, created))
    truth_rows.append((rid, original, ",".join(fault)))
    return rid
