"""Field comparisons other than names: ID number, birth date, phone, sex, village code, household.

All functions are total: any input (None, blanks, junk) gives a level, never an
exception, because batch linkage runs them over millions of dirty legacy rows.
Input that cannot be used (unparseable date, 3-digit "phone") counts as MISSING,
which scoring treats as no evidence either way.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from rhip.kit.idcard import normalize as normalize_id
from rhip.mpi.rules_levels import (
    DateLevel, HouseholdLevel, IdLevel, PhoneLevel, SexLevel, VillageLevel, best_of,
)

__all__ = [
    "id_body", "compare_id_numbers", "parse_birth_date", "compare_birth_dates",
    "normalize_phone", "compare_phones", "compare_phone_sets", "normalize_sex", "compare_sex",
    "normalize_village", "compare_villages", "compare_households",
]

# ---------------------------------------------------------------- ID numbers

_DIGITS = re.compile(r"\d+")


def id_body(raw: str | None) -> tuple[str, str]:
    """(first 17 characters, check character) of an ID number, by characters only.

    A 15-character legacy number becomes its 18-character body: "19" is inserted
    before yymmdd, exactly as ``rhip.kit.idcard.upgrade_15_to_18`` does, and the check
    character is "" (unknown).  Validity is not required: a number with a wrong check
    character still compares by its digits.  Other lengths are returned whole as the
    body (check character "").  ("", "") when absent.
    """
    s = normalize_id(raw or "")
    if len(s) == 18:
        return s[:17], s[17]
    if len(s) == 15:
        return s[:6] + "19" + s[6:], ""
    return s, ""


def compare_id_numbers(a: str | None, b: str | None) -> IdLevel:
    """ID-number comparison level (see module ``IdLevel`` for the order).

    * EXACT — same 17-character body and the same check character (or one side is a
      15-digit legacy number, which has none: 15 digits = their 18-digit upgrade).
    * ONE_DIGIT_TYPO — one substitution in the body, or the same body with another
      check character (one side then fails the check).  Caution: twins registered
      in the same place differ only in the sequence, often in one digit.
    * TRANSPOSITION — exactly two adjacent body characters swapped.
    * SAME_BIRTH_AND_DIVISION — same first 14 (division + birth date), anything else.
    * DIFFERENT; MISSING if either side is blank.
    """
    (ba, ca), (bb, cb) = id_body(a), id_body(b)
    if not ba or not bb:
        return IdLevel.MISSING
    if ba == bb:
        return IdLevel.EXACT if (ca == cb or not ca or not cb) else IdLevel.ONE_DIGIT_TYPO
    if len(ba) == len(bb):
        diff = [i for i, (x, y) in enumerate(zip(ba, bb)) if x != y]
        if len(diff) == 1:
            return IdLevel.ONE_DIGIT_TYPO
        if (len(diff) == 2 and diff[1] == diff[0] + 1
                and ba[diff[0]] == bb[diff[1]] and ba[diff[1]] == bb[diff[0]]):
            return IdLevel.TRANSPOSITION
    if len(ba) >= 14 and ba[:14] == bb[:14]:
        return IdLevel.SAME_BIRTH_AND_DIVISION
    return IdLevel.DIFFERENT


# ---------------------------------------------------------------- birth dates

_DATE_RE = re.compile(r"^\s*(\d{4})\s*[-/.年]?\s*(\d{1,2})\s*[-/.月]?\s*(\d{1,2})\s*日?\s*$")


def parse_birth_date(value: date | str | None) -> tuple[int, int, int] | None:
    """(year, month, day) from a date/datetime or a string such as "1980-03-05",
    "19800305", "1980/3/5", "1980年3月5日"; None if absent or not of that shape.

    Fields are kept even when they do not form a real date (1980-02-30 from a legacy
    system still compares field by field); month must be 1–12 and day 1–31.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.year, value.month, value.day
    text = str(value).strip()
    compact = text.replace(" ", "")
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", compact) or _DATE_RE.match(text)
    if not m:
        return None
    y, mo, d = (int(g) for g in m.groups())
    if not (1 <= mo <= 12 and 1 <= d <= 31 and y >= 1):
        return None
    return y, mo, d


def _ordinal(ymd: tuple[int, int, int]) -> int:
    """Day number; impossible days (02-30) are clamped to the month's last day."""
    y, m, d = ymd
    for day in range(d, 27, -1):
        try:
            return date(y, m, day).toordinal()
        except ValueError:
            continue
    return date(y, m, min(d, 28)).toordinal()


def compare_birth_dates(a: date | str | None, b: date | str | None) -> DateLevel:
    """Birth-date comparison level.

    EXACT; DAY_MONTH_SWAPPED (same year, 1980-03-05 / 1980-05-03); ONE_FIELD_DIFFERENT
    (exactly one of year, month, day differs, however far); WITHIN_1_YEAR (otherwise at
    most 366 days apart); DIFFERENT; MISSING (either absent or unparseable).
    Lunar-calendar birthdays (农历) are not converted: they usually land in
    WITHIN_1_YEAR or ONE_FIELD_DIFFERENT.
    """
    pa, pb = parse_birth_date(a), parse_birth_date(b)
    if pa is None or pb is None:
        return DateLevel.MISSING
    if pa == pb:
        return DateLevel.EXACT
    (ya, ma, da), (yb, mb, db) = pa, pb
    if ya == yb and ma == db and da == mb:
        return DateLevel.DAY_MONTH_SWAPPED
    if (ya != yb) + (ma != mb) + (da != db) == 1:
        return DateLevel.ONE_FIELD_DIFFERENT
    if abs(_ordinal(pa) - _ordinal(pb)) <= 366:
        return DateLevel.WITHIN_1_YEAR
    return DateLevel.DIFFERENT


# ---------------------------------------------------------------- phones

_PHONE_JUNK = re.compile(r"[\s\-‐‑–—()（）.·/]")
_FULL_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}


def normalize_phone(raw: str | None) -> str:
    """Digits only: spaces, dashes, brackets and dots removed; the country code
    (+86, 0086, 86 before an 11-digit mobile) dropped; an extension ("转123",
    "ext 123", "#123") dropped.  "" if fewer than 7 digits remain or any other
    character is left (无, 不详, a name typed into the phone field).
    """
    if not raw:
        return ""
    s = str(raw).translate(_FULL_WIDTH)  # full-width
    s = re.split(r"转|分机|ext\.?|#|x", s, maxsplit=1, flags=re.IGNORECASE)[0]
    s = _PHONE_JUNK.sub("", s)
    if s.startswith("+"):
        s = s[1:].removeprefix("86")
    elif s.startswith("0086"):
        s = s[4:]
    elif s.startswith("86") and len(s) == 13 and s[2] == "1":
        s = s[2:]
    if not s.isdigit() or len(s) < 7:
        return ""
    return s


def compare_phones(a: str | None, b: str | None) -> PhoneLevel:
    """EXACT; ONE_DIGIT_DIFFERENT (same length, one substitution); SAME_LAST_8 (last 8
    digits equal: a landline with and without its area code, 0571-88881234 / 88881234);
    DIFFERENT; MISSING.  Family members often share one phone: the scorer must not read
    EXACT as "same person" on its own (EM learns that from u)."""
    na, nb = normalize_phone(a), normalize_phone(b)
    if not na or not nb:
        return PhoneLevel.MISSING
    if na == nb:
        return PhoneLevel.EXACT
    if len(na) == len(nb) and sum(x != y for x, y in zip(na, nb)) == 1:
        return PhoneLevel.ONE_DIGIT_DIFFERENT
    if len(na) >= 8 and len(nb) >= 8 and na[-8:] == nb[-8:]:
        return PhoneLevel.SAME_LAST_8
    return PhoneLevel.DIFFERENT


def compare_phone_sets(list_a, list_b) -> PhoneLevel:
    """The best level over every pair of phones (a resident often has several);
    MISSING if either side has no usable phone."""
    return best_of((compare_phones(x, y) for x in (list_a or ()) for y in (list_b or ())),
                   PhoneLevel.MISSING)


# ---------------------------------------------------------------- sex

_SEX_SYNONYMS = {"1": "1", "2": "2", "男": "1", "女": "2", "M": "1", "F": "2",
                 "MALE": "1", "FEMALE": "2", "男性": "1", "女性": "2"}


def normalize_sex(value: str | int | None) -> str:
    """GB/T 2261.1 code "1" (male) or "2" (female); "" for 0 (unknown), 9 (unspecified),
    blanks and anything else.  Accepts 男/女, M/F and ints as well."""
    if value is None:
        return ""
    return _SEX_SYNONYMS.get(str(value).strip().upper(), "")


def compare_sex(a: str | int | None, b: str | int | None) -> SexLevel:
    sa, sb = normalize_sex(a), normalize_sex(b)
    if not sa or not sb:
        return SexLevel.MISSING
    return SexLevel.SAME if sa == sb else SexLevel.DIFFERENT


# ---------------------------------------------------------------- village and household

def normalize_village(code: str | None) -> str:
    """A division code as 12 digits (6- and 9-digit codes padded with zeros); "" if it
    is not 6, 9 or 12 digits (after removing spaces) or is all zeros in its county part."""
    s = normalize_id(code or "")
    if not s.isdigit() or len(s) not in (6, 9, 12):
        return ""
    s = s.ljust(12, "0")
    return "" if s[:6] == "000000" else s


def _depth(code12: str) -> int:
    """How many leading digits are known: 12 (village), 9 (township) or 6 (county)."""
    if code12[9:] != "000":
        return 12
    if code12[6:9] != "000":
        return 9
    return 6


def compare_villages(a: str | None, b: str | None) -> VillageLevel:
    """Compare two GB/T 2260 statistical division codes (12 digits: county 6 + township 3
    + village 3) at the finest level both codes know.  A township-level code
    (…001000) and a village of that township are SAME_TOWNSHIP, not SAME_VILLAGE."""
    ca, cb = normalize_village(a), normalize_village(b)
    if not ca or not cb:
        return VillageLevel.MISSING
    depth = min(_depth(ca), _depth(cb))
    if ca[:6] != cb[:6]:
        return VillageLevel.DIFFERENT
    if depth >= 9 and ca[:9] == cb[:9]:
        if depth == 12 and ca == cb:
            return VillageLevel.SAME_VILLAGE
        return VillageLevel.SAME_TOWNSHIP
    return VillageLevel.SAME_COUNTY


def compare_households(a: str | None, b: str | None) -> HouseholdLevel:
    """Household identifiers compared verbatim after trimming."""
    sa, sb = (a or "").strip(), (b or "").strip()
    if not sa or not sb:
        return HouseholdLevel.MISSING
    return HouseholdLevel.SAME if sa == sb else HouseholdLevel.DIFFERENT
