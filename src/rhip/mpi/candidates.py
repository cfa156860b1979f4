"""Candidate pairs, shared by matching on write, the bulk index and the parameter fit (pure).

A registration becomes ``PersonFields`` the same way everywhere (``fields_of``); blocking keys are hashed
to signed 64-bit integers for the ``mpi_block`` table (``key_hash``). Which candidate pairs are worth
scoring is one rule (``worth_scoring``), so that the bulk pass and matching on write classify a pair the
same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from hashlib import blake2b

from functools import lru_cache

from rhip.kit.idcard import check_id_number
from rhip.mpi.rules import PersonFields, birth_year, blocking_keys, compare_records
from rhip.mpi.rules_fields import normalize_sex, parse_birth_date
from rhip.mpi.rules_names import name_pinyin
from rhip.mpi.rules_levels import IdLevel, Level

#: Blocking-key kinds that are evidence enough on their own: a pair sharing one is always scored.
STRONG_KINDS = frozenset({"id", "py", "ph", "bd"})
#: Pairs that share only household / village+initials keys are scored when their birth years are this close.
WEAK_YEAR_WINDOW = 1


def fields_of(name: str | None, id_number: str | None, id_number_raw: str | None, sex: str | None,
              birth_date: date | str | None, phone: str | None, phone2: str | None, village_code: str | None,
              household_id: object | None) -> PersonFields:
    """The identifying fields of a registration as the MPI compares them. An ID number that failed the
    check is still compared (a keying error is evidence: one digit off)."""
    return PersonFields(name=name, id_number=id_number or id_number_raw or None, sex=sex, birth_date=birth_date,
                        phones=tuple(p for p in (phone, phone2) if p), village_code=village_code,
                        household_id=str(household_id) if household_id is not None else None)


def mpi_keys(p: PersonFields) -> set[str]:
    """``rules.blocking_keys`` plus one key of the MPI's own: ``bd:<surname pinyin>:<year><month/day in
    order>:<sex>`` — the same surname, sex and birth date (day and month in either order). It catches the
    second registration whose given name took a similar-looking character (other pinyin) and whose ID number
    is missing or mistyped and phone missing, which share no other key."""
    keys = blocking_keys(p)
    ymd = parse_birth_date(p.birth_date)
    syllables = name_pinyin(p.name)
    sex = normalize_sex(p.sex)
    if ymd and syllables and sex in ("1", "2"):
        y, m, d = ymd
        lo, hi = sorted((m, d))
        keys.add(f"bd:{syllables[0]}:{y}{lo:02d}{hi:02d}:{sex}")
    return keys


@lru_cache(maxsize=100_000)
def _valid_id(number: str | None) -> bool:
    return bool(number) and check_id_number(number).valid


def compare_pair(a: PersonFields, b: PersonFields) -> dict[str, Level]:
    """``rules.compare_records``, except that two ID numbers that *both* pass the GB 11643 check and differ
    are DIFFERENT, not a typo: a keying error (one digit, two swapped) always breaks the check character,
    and people born the same day in the same county do have numbers one sequence digit apart."""
    levels = compare_records(a, b)
    if levels["id_number"] in (IdLevel.ONE_DIGIT_TYPO, IdLevel.TRANSPOSITION) and _valid_id(a.id_number) \
            and _valid_id(b.id_number):
        levels["id_number"] = IdLevel.DIFFERENT
    return levels


def key_hash(key: str) -> int:
    """Signed 64-bit BLAKE2b hash of a blocking key (the key itself holds an ID number or a phone)."""
    return int.from_bytes(blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def hashed_keys(p: PersonFields, keys: Iterable[str] | None = None) -> dict[int, str]:
    """hash → kind ("id", "py", "ph", "hh", "vi", "bd") of every blocking key of ``p`` (or of ``keys``)."""
    return {key_hash(k): k.split(":", 1)[0] for k in (mpi_keys(p) if keys is None else keys)}


def worth_scoring(kinds: Iterable[str], year_a: int | None, year_b: int | None) -> bool:
    """A pair sharing an ID-number, pinyin+year or phone key is scored; one that shares only a household or
    a village+initials key only when the birth years are within ``WEAK_YEAR_WINDOW`` (or unknown) — a
    household's members are otherwise compared with each other over and over for nothing."""
    if STRONG_KINDS.intersection(kinds):
        return True
    if year_a is None or year_b is None:
        return True
    return abs(year_a - year_b) <= WEAK_YEAR_WINDOW


def candidate_pairs(records: Mapping[int, PersonFields], keys: Mapping[int, Iterable[str]] | None = None
                    ) -> dict[tuple[int, int], set[str]]:
    """All pairs (lower id, higher id) that share a blocking key and are ``worth_scoring``, with the kinds
    of the keys they share. Weak blocks are walked in birth-year order with a window, so a large village
    block does not produce every pair."""
    blocks: dict[str, list[int]] = defaultdict(list)
    years: dict[int, int | None] = {}
    for rid, p in records.items():
        years[rid] = birth_year(p)
        for k in (keys[rid] if keys is not None else mpi_keys(p)):
            blocks[k].append(rid)
    pairs: dict[tuple[int, int], set[str]] = defaultdict(set)
    for key, ids in blocks.items():
        if len(ids) < 2:
            continue
        kind = key.split(":", 1)[0]
        if kind in STRONG_KINDS:
            ids = sorted(ids)
            for i, a in enumerate(ids):
                for b in ids[i + 1:]:
                    pairs[(a, b)].add(kind)
            continue
        unknown = [r for r in ids if years[r] is None]
        known = sorted((years[r], r) for r in ids if years[r] is not None)
        for i, (ya, a) in enumerate(known):
            for yb, b in known[i + 1:]:
                if yb - ya > WEAK_YEAR_WINDOW:
                    break
                pairs[(min(a, b), max(a, b))].add(kind)
        for a in unknown:
            for b in ids:
                if a != b:
                    pairs[(min(a, b), max(a, b))].add(kind)
    return pairs
