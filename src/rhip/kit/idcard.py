"""Resident ID numbers (居民身份证号, GB 11643-1999) and sex codes (GB/T 2261.1).

18 characters: division code (6, GB/T 2260) + birth date YYYYMMDD (8) + sequence (3,
odd = male, even = female) + check character (ISO 7064 MOD 11-2: weights
7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, sum mod 11 → "10X98765432").
Legacy 15-digit numbers: division (6) + yymmdd (19yy) + sequence (3), no check character.

Every problem is reported with a stable code and a precise message in Chinese and English.
Pure standard library, no I/O.  ``check_char`` and ``make_id_number`` are hot paths
for the synthetic data generator; keep them tight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from operator import mul

from rhip.kit.gb2260 import plausible_division

__all__ = [
    "SEX_LABELS", "MIN_BIRTH_YEAR", "PROBLEM_CODES", "IdProblem", "IdCheck", "IdNumberError",
    "normalize", "check_char", "check_id_number", "upgrade_15_to_18", "make_id_number",
    "consistency_problems",
]

#: GB/T 2261.1 sex codes → (Chinese label, English label).
SEX_LABELS: dict[str, tuple[str, str]] = {
    "0": ("未知的性别", "unknown"),
    "1": ("男", "male"),
    "2": ("女", "female"),
    "9": ("未说明的性别", "unspecified"),
}

#: Birth years before this are rejected as implausible (id_number.too_old).
MIN_BIRTH_YEAR = 1850

PROBLEM_CODES: frozenset[str] = frozenset((
    "id_number.empty", "id_number.length", "id_number.characters", "id_number.division",
    "id_number.month", "id_number.day", "id_number.future", "id_number.too_old",
    "id_number.check_char", "id_number.sex_mismatch", "id_number.birth_date_mismatch",
    "id_number.sequence", "id_number.birth_date",  # make_id_number argument errors only
))


@dataclass(frozen=True, slots=True)
class IdProblem:
    code: str         # stable machine code, e.g. "id_number.check_char"
    message_zh: str
    message_en: str


@dataclass(frozen=True, slots=True)
class IdCheck:
    """Result of :func:`check_id_number`.

    ``normalized`` is the canonical 18-character form (upgraded from 15 digits when
    needed) and is None unless ``valid``.  The derived fields (``birth_date``, ``sex``,
    ``division_code``) are filled whenever their part of the number is well-formed,
    even if other parts are wrong; rely on them only when ``valid``.
    """

    raw: str
    normalized: str | None
    valid: bool
    legacy15: bool            # the input (after normalization) has the legacy 15-character form
    birth_date: date | None
    sex: str | None           # "1" or "2"
    division_code: str | None
    problems: tuple[IdProblem, ...]


class IdNumberError(ValueError):
    """Raised by upgrade_15_to_18 / make_id_number; ``problems`` lists what is wrong."""

    def __init__(self, problems: tuple[IdProblem, ...]):
        self.problems = problems
        super().__init__("; ".join(p.message_en for p in problems))


# ---------------------------------------------------------------- tables

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
# Summing weights over ASCII codes adds 48 * sum(weights); fold that constant out.
_ASCII_OFFSET = -48 * sum(_WEIGHTS)
_DIGITS = frozenset("0123456789")
_DIGITS_X = frozenset("0123456789X")

_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MONTH_EN = ("", "January", "February", "March", "April", "May", "June", "July",
             "August", "September", "October", "November", "December")


def _build_translation() -> dict[int, int | str | None]:
    table: dict[int, int | str | None] = {}
    for offset in range(10):                          # ０-９
        table[0xFF10 + offset] = 0x30 + offset
    for offset in range(26):                          # Ａ-Ｚ, ａ-ｚ
        table[0xFF21 + offset] = 0x41 + offset
        table[0xFF41 + offset] = 0x61 + offset
    table[ord("x")] = "X"
    table[0xFF58] = "X"                               # ｘ
    for invisible in ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"):
        table[ord(invisible)] = None                  # zero-width characters from copy-paste
    return table


_TRANSLATION = _build_translation()


# ---------------------------------------------------------------- helpers

def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _show(ch: str) -> str:
    return ch if ch.isprintable() else f"U+{ord(ch):04X}"


def _problem(code: str, zh: str, en: str) -> IdProblem:
    return IdProblem(code, zh, en)


def _character_problem(s: str, allow_final_x: bool) -> IdProblem | None:
    """The first character that is not allowed (1-based position), or None."""
    last = len(s) - 1
    for i, ch in enumerate(s):
        if ch in _DIGITS:
            continue
        if ch == "X" and allow_final_x and i == last:
            continue
        pos, shown = i + 1, _show(ch)
        if allow_final_x and i == last:
            return _problem("id_number.characters",
                            f"第{pos}位“{shown}”不是数字或X",
                            f"character {pos} ('{shown}') is not a digit or X")
        if ch == "X" and allow_final_x:
            return _problem("id_number.characters",
                            f"第{pos}位“X”不是数字（X只能出现在最后一位）",
                            f"character {pos} ('X') is not a digit (X is only allowed as the last character)")
        return _problem("id_number.characters",
                        f"第{pos}位“{shown}”不是数字",
                        f"character {pos} ('{shown}') is not a digit")
    return None


def _date_problems(yyyy: str, mm: str, dd: str, today: date | None,
                   problems: list[IdProblem]) -> date | None:
    """Check an all-digit date part; append problems; return the date if it is real."""
    year, month, day = int(yyyy), int(mm), int(dd)
    if year < MIN_BIRTH_YEAR:
        problems.append(_problem(
            "id_number.too_old",
            f"出生年份{yyyy}早于{MIN_BIRTH_YEAR}年，不可信",
            f"birth year {yyyy} is before {MIN_BIRTH_YEAR}, which is not plausible"))
    birth: date | None = None
    if not 1 <= month <= 12:
        problems.append(_problem("id_number.month", f"月份{mm}不存在", f"month {mm} is not a month"))
    elif day == 0:
        problems.append(_problem("id_number.day", f"日期{dd}不存在", f"day {dd} is not a day"))
    elif day > _MONTH_DAYS[month] + (month == 2 and _is_leap(year)):
        if month == 2 and day == 29:
            problems.append(_problem(
                "id_number.day",
                f"{yyyy}-02-29不是有效日期：{yyyy}年不是闰年",
                f"{yyyy}-02-29 is not a date: {yyyy} is not a leap year"))
        else:
            problems.append(_problem(
                "id_number.day",
                f"{yyyy}年{month}月没有{dd}日",
                f"day {dd} does not exist in {_MONTH_EN[month]} {yyyy}"))
    elif year >= 1:
        birth = date(year, month, day)
    if today is None:
        today = date.today()
    if birth is not None:
        if birth > today:
            problems.append(_problem(
                "id_number.future",
                f"出生日期{birth.isoformat()}晚于今天（{today.isoformat()}）",
                f"birth date {birth.isoformat()} is after today ({today.isoformat()})"))
    elif year > today.year:
        problems.append(_problem(
            "id_number.future",
            f"出生年份{yyyy}晚于今年（{today.year}）",
            f"birth year {yyyy} is after this year ({today.year})"))
    return birth


# ---------------------------------------------------------------- public API

def normalize(raw: str) -> str:
    """Strip all whitespace (incl. U+3000) and zero-width characters, map full-width
    digits/letters to ASCII, and upper-case x to X.  Other letters are kept as they are."""
    if raw is None:
        return ""
    s = "".join(raw.split())
    return s.translate(_TRANSLATION)


def check_char(first17: str) -> str:
    """The GB 11643 check character ("0"-"9" or "X") for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"check_char needs exactly 17 ASCII digits, got {first17!r}")
    return _CHECK_CHARS[(sum(map(mul, first17.encode(), _WEIGHTS)) + _ASCII_OFFSET) % 11]


def check_id_number(raw: str, *, today: date | None = None) -> IdCheck:
    """Check an ID number (18 characters or legacy 15 digits) and explain every problem found.

    ``today`` (default: date.today()) is used for the future-birth check.
    """
    if raw is None:
        raw = ""
    s = normalize(raw)
    n = len(s)
    problems: list[IdProblem] = []
    if n == 0:
        problems.append(_problem("id_number.empty", "身份证号为空", "ID number is empty"))
        return IdCheck(raw, None, False, False, None, None, None, tuple(problems))

    if n != 18 and n != 15:
        problems.append(_problem(
            "id_number.length",
            f"身份证号应为18位（或旧15位），实际为{n}位",
            f"ID number must have 18 characters (or 15 for legacy numbers), got {n}"))
        bad = _character_problem(s, allow_final_x=True)
        if bad is not None:
            problems.append(bad)
        return IdCheck(raw, None, False, False, None, None, None, tuple(problems))

    legacy15 = n == 15
    bad = _character_problem(s, allow_final_x=not legacy15)
    if bad is not None:
        problems.append(bad)

    division = s[:6]
    division_code: str | None = None
    if _DIGITS.issuperset(division):
        division_code = division
        wrong = plausible_division(division)
        if wrong is not None:
            problems.append(_problem(*wrong))

    if legacy15:
        date_part, seq_last = "19" + s[6:12], s[14]
    else:
        date_part, seq_last = s[6:14], s[16]
    birth_date: date | None = None
    if _DIGITS.issuperset(date_part):
        birth_date = _date_problems(date_part[:4], date_part[4:6], date_part[6:], today, problems)

    sex: str | None = None
    if seq_last in _DIGITS:
        sex = "1" if int(seq_last) % 2 else "2"

    first17: str | None = None
    if legacy15:
        if bad is None:
            first17 = s[:6] + "19" + s[6:]
    elif _DIGITS.issuperset(s[:17]):
        first17 = s[:17]
        expected = check_char(first17)
        actual = s[17]
        if actual in _DIGITS_X and actual != expected:
            problems.append(_problem(
                "id_number.check_char",
                f"校验码应为{expected}，实际为{actual}",
                f"check character should be {expected}, not {actual}"))

    valid = not problems
    normalized: str | None = None
    if valid:
        normalized = first17 + check_char(first17) if legacy15 else s  # type: ignore[operator]
    return IdCheck(raw, normalized, valid, legacy15, birth_date, sex, division_code, tuple(problems))


def upgrade_15_to_18(n15: str) -> str:
    """Upgrade a legacy 15-digit number: insert "19" before yymmdd and append the check character.

    Raises IdNumberError (a ValueError) explaining why if ``n15`` is not a valid 15-digit number.
    """
    s = normalize(n15)
    if len(s) != 15:
        raise IdNumberError((_problem(
            "id_number.length",
            f"旧身份证号应为15位，实际为{len(s)}位",
            f"a legacy ID number must have 15 digits, got {len(s)}"),))
    result = check_id_number(s)
    if not result.valid:
        raise IdNumberError(result.problems)
    return result.normalized  # type: ignore[return-value]


# make_id_number caches: the weighted-sum contribution of each part of the number, so the
# hot path is three dict/tuple look-ups, one string concatenation and one modulo.
def _weighted(digits: str, first_position: int) -> int:
    return sum(map(mul, digits.encode(), _WEIGHTS[first_position:])) - 48 * sum(
        _WEIGHTS[first_position:first_position + len(digits)])


_DIVISION_PARTS: dict[str, int] = {}          # plausible division → weighted sum
_BIRTH_PARTS: dict[date, tuple[str, int]] = {}  # accepted birth date → ("YYYYMMDD", weighted sum)
_SEQUENCE_PARTS: tuple[tuple[str, int], ...] = tuple(
    (f"{seq:03d}", _weighted(f"{seq:03d}", 14)) for seq in range(1000))


def _division_part(division6: str) -> int:
    wrong = plausible_division(division6) if type(division6) is str else (
        "id_number.division", f"行政区划代码应为字符串，实际为{division6!r}",
        f"division code must be a string, got {division6!r}")
    if wrong is not None:
        raise IdNumberError((_problem(*wrong),))
    part = _DIVISION_PARTS[division6] = _weighted(division6, 0)
    return part


def _birth_part(birth: date) -> tuple[str, int]:
    if isinstance(birth, datetime):
        birth = birth.date()
    elif type(birth) is not date:
        raise IdNumberError((_problem(
            "id_number.birth_date", f"出生日期应为日期，实际为{birth!r}",
            f"birth date must be a date, got {birth!r}"),))
    problems: list[IdProblem] = []
    _date_problems(f"{birth.year:04d}", f"{birth.month:02d}", f"{birth.day:02d}", None, problems)
    if problems:
        raise IdNumberError(tuple(problems))
    text = f"{birth.year:04d}{birth.month:02d}{birth.day:02d}"
    part = (text, _weighted(text, 6))
    _BIRTH_PARTS[birth] = part  # cached only once it is no longer in the future: stays valid
    return part


def make_id_number(division6: str, birth: date, seq: int) -> str:
    """A valid 18-character ID number; ``seq`` (0..999) is used as-is (odd = male, even = female).

    Raises IdNumberError (a ValueError) if the division is implausible, the birth date is
    before 1850 or in the future, or ``seq`` is not an integer from 0 to 999.
    """
    division_sum = _DIVISION_PARTS.get(division6)
    if division_sum is None:
        division_sum = _division_part(division6)
    birth_part = _BIRTH_PARTS.get(birth)
    if birth_part is None or type(birth) is not date:  # a datetime equal to a cached date
        birth_part = _birth_part(birth)
    if type(seq) is not int or not 0 <= seq <= 999:
        raise IdNumberError((_problem(
            "id_number.sequence", f"顺序码应为0到999的整数，实际为{seq!r}",
            f"sequence must be an integer from 0 to 999, got {seq!r}"),))
    seq_text, seq_sum = _SEQUENCE_PARTS[seq]
    return (division6 + birth_part[0] + seq_text
            + _CHECK_CHARS[(division_sum + birth_part[1] + seq_sum) % 11])


def consistency_problems(check: IdCheck, *, sex: str | None,
                         birth_date: date | None) -> tuple[IdProblem, ...]:
    """Contradictions between a resident's stated sex / birth date and a valid ID number.

    Sex "0" (unknown), "9" (unspecified) and None are never a contradiction; nor is a
    missing birth date.  An invalid ``check`` yields no problems (its own problems apply).
    """
    if not check.valid:
        return ()
    problems: list[IdProblem] = []
    if sex in ("1", "2") and check.sex is not None and sex != check.sex:
        said_zh, said_en = SEX_LABELS[sex]
        id_zh, id_en = SEX_LABELS[check.sex]
        problems.append(_problem(
            "id_number.sex_mismatch",
            f"性别“{said_zh}”与身份证号推算的性别“{id_zh}”不一致",
            f"sex '{said_en}' contradicts the ID number, which says '{id_en}'"))
    if isinstance(birth_date, datetime):
        birth_date = birth_date.date()
    if birth_date is not None and check.birth_date is not None and birth_date != check.birth_date:
        said, derived = birth_date.isoformat(), check.birth_date.isoformat()
        problems.append(_problem(
            "id_number.birth_date_mismatch",
            f"出生日期{said}与身份证号推算的出生日期{derived}不一致",
            f"birth date {said} contradicts the ID number, which says {derived}"))
    return tuple(problems)
