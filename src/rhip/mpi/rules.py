"""Pure comparison rules of the master patient index (MPI): no database, no I/O.

Blocking, Fellegi–Sunter scoring (m/u by EM) and Splink build on these functions:
they produce normalised values, per-field comparison *levels* and blocking keys.
The implementation is split by topic; import everything from here:

* ``rules_levels`` — the level Enums (stable string values, Chinese/English labels, rank).
* ``rules_names``  — normalize_name, name_pinyin (surname readings), compare_names,
  name_similarity (Jaro–Winkler on pinyin).
* ``rules_fields`` — ID numbers, birth dates, phones, sex, village codes, households.
* this module      — PersonFields, compare_records (the comparison vector), blocking_keys.

Note for scoring: the ID number embeds birth date, sex and county, so those fields
are not independent given a match; Fellegi–Sunter's independence assumption is
violated when all are used.  ``fill_from_id`` is offered for records that lack the
derived fields; the scorer decides whether to use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from rhip.kit.idcard import check_id_number
from rhip.mpi.rules_fields import (
    compare_birth_dates, compare_households, compare_id_numbers, compare_phone_sets,
    compare_phones, compare_sex, compare_villages, id_body, normalize_phone, normalize_sex,
    normalize_village, parse_birth_date,
)
from rhip.mpi.rules_levels import (
    DateLevel, HouseholdLevel, IdLevel, Level, NameLevel, PhoneLevel, SexLevel, VillageLevel, best_of,
)
from rhip.mpi.rules_names import (
    compare_names, initials_key, jaro_winkler, name_pinyin, name_similarity, normalize_name,
    pinyin_key, split_name,
)

__all__ = [
    # levels
    "Level", "NameLevel", "IdLevel", "DateLevel", "PhoneLevel", "SexLevel", "VillageLevel",
    "HouseholdLevel", "best_of",
    # names
    "normalize_name", "split_name", "name_pinyin", "pinyin_key", "initials_key",
    "compare_names", "name_similarity", "jaro_winkler",
    # other fields
    "id_body", "compare_id_numbers", "parse_birth_date", "compare_birth_dates",
    "normalize_phone", "compare_phones", "compare_phone_sets", "normalize_sex", "compare_sex",
    "normalize_village", "compare_villages", "compare_households",
    # records
    "PersonFields", "COMPARISON_FIELDS", "compare_records", "blocking_keys", "fill_from_id",
]


@dataclass(frozen=True, slots=True)
class PersonFields:
    """The identifying fields of one registration, as received (normalisation happens
    inside the comparisons).  Every field may be missing."""

    name: str | None = None
    id_number: str | None = None
    sex: str | None = None                 # GB/T 2261.1: 1 male, 2 female, 0/9 unknown
    birth_date: date | str | None = None
    phones: tuple[str, ...] = field(default=())
    village_code: str | None = None        # 12-digit statistical division code
    household_id: str | None = None


#: Keys of the comparison vector, in a fixed order (column order for scoring tables).
COMPARISON_FIELDS: tuple[str, ...] = (
    "name", "id_number", "sex", "birth_date", "phone", "village", "household",
)


def compare_records(a: PersonFields, b: PersonFields) -> dict[str, Level]:
    """The comparison vector: one level per field, keys in ``COMPARISON_FIELDS`` order."""
    return {
        "name": compare_names(a.name, b.name),
        "id_number": compare_id_numbers(a.id_number, b.id_number),
        "sex": compare_sex(a.sex, b.sex),
        "birth_date": compare_birth_dates(a.birth_date, b.birth_date),
        "phone": compare_phone_sets(a.phones, b.phones),
        "village": compare_villages(a.village_code, b.village_code),
        "household": compare_households(a.household_id, b.household_id),
    }


def birth_year(p: PersonFields) -> int | None:
    """From the birth date, else from an 18-digit ID number's date."""
    ymd = parse_birth_date(p.birth_date)
    if ymd is not None:
        return ymd[0]
    body, _ = id_body(p.id_number)
    if len(body) == 17 and body[6:10].isdigit():
        return int(body[6:10])
    return None


def blocking_keys(p: PersonFields) -> set[str]:
    """Blocking keys: two records become a candidate pair when they share any key.

    Each key is "<kind>:<value>"; a key is left out when its fields are missing.

    * ``id:<17 chars>`` — the ID number's body (15-digit legacy numbers upgraded, check
      character ignored): catches the same number written both ways or with a wrong check
      character.
    * ``py:<pinyin>:<year>`` — toneless pinyin of the name without spaces + birth year
      (from the birth date, else from the ID number): catches homophone typos (张丽/张莉)
      and records whose ID number is missing or mistyped.
    * ``ph:<last 8 digits>`` — one per usable phone: catches phone-only matches and
      landlines with/without area code.  Shared family phones make these blocks larger.
    * ``hh:<household id>`` — everyone in one household (duplicates inside a household).
    * ``vi:<12-digit code>:<initials>`` — same village (or township code) and the same
      pinyin initials (张丽 → zl): catches a mistyped birth date together with a homophone.

    Keys contain ID numbers and phones: store them like the personal data they are.
    """
    keys: set[str] = set()
    body, _ = id_body(p.id_number)
    if len(body) == 17:
        keys.add(f"id:{body}")
    syllables = name_pinyin(p.name)
    year = birth_year(p)
    if syllables and year is not None:
        keys.add(f"py:{''.join(syllables)}:{year}")
    for phone in p.phones or ():
        digits = normalize_phone(phone)
        if len(digits) >= 8:
            keys.add(f"ph:{digits[-8:]}")
    household = (p.household_id or "").strip()
    if household:
        keys.add(f"hh:{household}")
    village = normalize_village(p.village_code)
    initials = "".join(s[0] for s in syllables if s)
    if village and initials:
        keys.add(f"vi:{village}:{initials}")
    return keys


def fill_from_id(p: PersonFields) -> PersonFields:
    """A copy with a missing birth date / unknown sex taken from a *valid* ID number.
    Nothing is overwritten; an invalid ID number changes nothing."""
    chk = check_id_number(p.id_number or "")
    if not chk.valid:
        return p
    changes: dict[str, object] = {}
    if parse_birth_date(p.birth_date) is None and chk.birth_date is not None:
        changes["birth_date"] = chk.birth_date
    if not normalize_sex(p.sex) and chk.sex is not None:
        changes["sex"] = chk.sex
    return replace(p, **changes) if changes else p
