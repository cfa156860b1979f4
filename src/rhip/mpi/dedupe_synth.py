"""A generated Chinese person file with known truth, for fitting and measuring batch deduplication.

``person_file(n, seed)`` returns ``n`` registrations (columns ``INPUT_COLUMNS`` + ``person_id``, the truth)
of about ``n / 1.25`` people living in one county.  About a fifth of the people are registered more than
once (a clinic, the township centre, the county hospital, a legacy system), and every extra registration
carries realistic faults, drawn independently:

* name — another given name altogether (rare), homophone or similar-shape character (``NameSampler.homophone_variant``), the whole name in
  traditional characters, stray or full-width spaces, given-name characters swapped;
* ID number — kept, one digit mistyped, two adjacent digits swapped, written as the legacy 15-digit
  number, typed with full-width digits, or missing (then the birth date may have its day and month swapped);
* birth date — day/month swapped, one field wrong, written another way (19800305, 1980年3月5日);
* sex — missing, written 男/女, or (rarely) keyed wrong;
* phone — a new number, one digit changed, or missing;
* address — moved to another village, written without the township, another house number, or missing.

Hard non-matches are generated too: families share an address and a phone (and a surname), twins share
birth date, surname, address and phone and have ID numbers that differ only in the sequence, and common
names recur across the county (the name sampler follows real name frequencies).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pandas as pd

from rhip.kit.idcard import make_id_number
from rhip.mpi.dedupe_features import INPUT_COLUMNS
from rhip.synth.names import TRADITIONAL, NameSampler
from rhip.synth.places import street_address, township_names, village_names
from rhip.kit.hanzi import surname_of

__all__ = ["person_file", "DUPLICATE_SHARE"]

#: Share of people registered more than once; each has 1–3 extra registrations.
DUPLICATE_SHARE = 0.2
_COUNTY_CODES = ("341522", "341523", "341524", "341525")  # the county and its neighbours (people move)
_FULL_WIDTH = {ord(c): ord(c) + 0xFEE0 for c in "0123456789X"}


class _County:
    def __init__(self, rng: random.Random, townships: int = 18, villages_per_township: int = 16):
        used: set[str] = set()
        self.villages: list[tuple[str, str]] = []  # (township name, village name)
        for town, _kind in township_names(rng, townships):
            for v in village_names(rng, villages_per_township, used=used):
                self.villages.append((town, v))

    def address(self, rng: random.Random, village: tuple[str, str], with_town: bool = True) -> str:
        town, name = village
        street = street_address(rng, name)
        return f"{town}{street}" if with_town else street


def _mobile(rng: random.Random) -> str:
    return rng.choice(("13", "15", "18", "17", "19")) + f"{rng.randrange(10**9):09d}"


def _birth(rng: random.Random, today: date) -> date:
    # ages 0–95, weighted towards adults as in a rural county
    age = min(95, int(abs(rng.gauss(42, 22))))
    return today - timedelta(days=age * 365 + rng.randrange(365))


def _typo_id(rng: random.Random, id18: str) -> str:
    body = list(id18)
    if rng.random() < 0.7:  # one digit mistyped
        i = rng.randrange(17)
        body[i] = str((int(body[i]) + rng.randint(1, 9)) % 10)
    else:  # two adjacent digits swapped (retry until they differ)
        for _ in range(20):
            i = rng.randrange(16)
            if body[i] != body[i + 1]:
                body[i], body[i + 1] = body[i + 1], body[i]
                break
    return "".join(body)


def _to_15(id18: str) -> str:
    return id18[:6] + id18[8:17]


def _name_variant(rng: random.Random, names: NameSampler, name: str) -> str:
    r = rng.random()
    if r < 0.55:
        return names.homophone_variant(name)
    if r < 0.75:
        trad = "".join(TRADITIONAL.get(c, c) for c in name)
        return trad if trad != name else names.homophone_variant(name)
    if r < 0.9:
        sep = rng.choice((" ", "\u3000", "  "))
        cut = len(surname_of(name))
        return name[:cut] + sep + name[cut:]
    cut = len(surname_of(name))
    given = name[cut:]
    if len(given) >= 2 and given[0] != given[1]:
        return name[:cut] + given[::-1]
    return names.homophone_variant(name)


def person_file(n: int, seed: int = 20261123, *, today: date = date(2026, 11, 1)) -> pd.DataFrame:
    """``n`` registrations with truth column ``person_id`` (rows shuffled, record ids ``R0000001`` …)."""
    rng = random.Random(seed)
    names = NameSampler(rng)
    county = _County(rng)
    rows: list[tuple] = []
    person = 0
    seq: dict[tuple[str, date], int] = {}

    def new_person(*, surname: str | None = None, birth: date | None = None, village=None, phone=None,
                   house: str | None = None, sex: str | None = None) -> dict:
        nonlocal person
        person += 1
        sex = sex or rng.choice("12")
        birth = birth or _birth(rng, today)
        name = names.full_name(sex, birth.year)
        if surname and surname_of(name) == name[:1]:
            name = surname + name[1:]
        division = _COUNTY_CODES[0] if rng.random() < 0.85 else rng.choice(_COUNTY_CODES[1:])
        k = (division, birth)
        s = seq.get(k, rng.randrange(0, 400))
        s += 1 + rng.randrange(3)
        if (s % 2 == 1) != (sex == "1"):
            s += 1
        seq[k] = s
        idn = make_id_number(division, birth, s % 1000) if (today - birth).days > 365 * 3 or rng.random() < 0.5 else None
        village = village or county.villages[rng.randrange(len(county.villages))]
        return {"pid": person, "name": name, "sex": sex, "birth": birth, "id": idn,
                "phone": phone if phone is not None else (_mobile(rng) if rng.random() < 0.85 else None),
                "village": village, "house": house or county.address(rng, village)}

    def clean(p: dict) -> tuple:
        return (p["name"], p["id"], p["sex"], p["birth"].isoformat(), p["phone"], p["house"], p["pid"])

    def faulty(p: dict) -> tuple:
        r = rng.random()
        if r < 0.005:  # another name altogether (a childhood name, a clerk's mistake)
            name = p["name"][: len(surname_of(p["name"]))] + names.given(p["sex"], p["birth"].year)
        elif r < 0.45:
            name = _name_variant(rng, names, p["name"])
        else:
            name = p["name"]
        birth = p["birth"]
        idn = p["id"]
        r = rng.random()
        if idn is None or r < 0.3:
            idn = None
            if birth.day <= 12 and birth.day != birth.month and rng.random() < 0.3:
                birth = date(birth.year, birth.day, birth.month)
        elif r < 0.45:
            idn = _typo_id(rng, idn)
        elif r < 0.5 and birth.year < 2000:  # 15-digit numbers were issued until 1999
            idn = _to_15(idn)
        elif r < 0.55:
            idn = idn.translate(_FULL_WIDTH)
        bd = birth.isoformat()
        r = rng.random()
        if r < 0.05 and birth.day <= 12 and birth.day != birth.month:
            bd = date(birth.year, birth.day, birth.month).isoformat()
        elif r < 0.08:
            bd = date(birth.year + rng.choice((-1, 1)), birth.month, min(birth.day, 28)).isoformat()
        elif r < 0.2:
            bd = birth.strftime("%Y%m%d") if rng.random() < 0.5 else f"{birth.year}年{birth.month}月{birth.day}日"
        phone = p["phone"]
        r = rng.random()
        if phone and r < 0.25:
            phone = _mobile(rng)
        elif phone and r < 0.35:
            i = rng.randrange(3, 11)
            phone = phone[:i] + str((int(phone[i]) + rng.randint(1, 9)) % 10) + phone[i + 1:]
        elif r < 0.5:
            phone = None
        r = rng.random()
        if r < 0.15:
            house = county.address(rng, county.villages[rng.randrange(len(county.villages))])
        elif r < 0.3:
            house = county.address(rng, p["village"], with_town=False)
        elif r < 0.4:
            house = county.address(rng, p["village"])
        elif r < 0.5:
            house = None
        else:
            house = p["house"]
        r = rng.random()
        if r < 0.005:
            sex = "2" if p["sex"] == "1" else "1"  # keyed wrong
        elif r < 0.03:
            sex = rng.choice(("", "0", "男" if p["sex"] == "1" else "女"))
        else:
            sex = p["sex"]
        return (name, idn, sex, bd, phone, house, p["pid"])

    while len(rows) < n:
        p = new_person()
        group = [p]
        r = rng.random()
        if r < 0.25:  # a family: spouse and children share the address and the phone
            for _ in range(rng.randrange(1, 4)):
                group.append(new_person(surname=surname_of(p["name"]) if rng.random() < 0.7 else None,
                                        village=p["village"], phone=p["phone"], house=p["house"]))
        elif r < 0.255:  # twins
            group.append(new_person(surname=surname_of(p["name"]), birth=p["birth"], village=p["village"],
                                    phone=p["phone"], house=p["house"]))
        for q in group:
            rows.append(clean(q))
            if rng.random() < DUPLICATE_SHARE:
                for _ in range(1 + (rng.random() < 0.3) + (rng.random() < 0.1)):
                    rows.append(faulty(q))
    rows = rows[:n]
    rng.shuffle(rows)
    frame = pd.DataFrame(rows, columns=["name", "id_number", "sex", "birth_date", "phone", "address", "person_id"])
    frame.insert(0, "record_id", [f"R{i:07d}" for i in range(1, len(frame) + 1)])
    return frame[[*INPUT_COLUMNS, "person_id"]]
