"""GB 11643 resident ID numbers and GB/T 2260 division plausibility (rhip.kit.idcard, rhip.kit.gb2260)."""

from __future__ import annotations

import random
from datetime import date, datetime

import pytest

from rhip.kit import gb2260
from rhip.kit.idcard import (
    PROBLEM_CODES,
    SEX_LABELS,
    IdCheck,
    IdNumberError,
    check_char,
    check_id_number,
    consistency_problems,
    make_id_number,
    normalize,
    upgrade_15_to_18,
)

TODAY = date(2025, 1, 1)


def ref_check_char(first17: str) -> str:
    """Independent reference: ISO 7064 MOD 11-2, weights 2**(17-i) mod 11, value (12 - sum) mod 11."""
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def full(first17: str) -> str:
    """A number with the correct check character, so only the part under test is wrong."""
    return first17 + ref_check_char(first17)


# ------------------------------------------------------------------ check_char

@pytest.mark.parametrize(
    ("first17", "expected"),
    [
        ("11010519491231002", "X"),
        ("44052418800101001", "4"),
        ("11010519900307123", ref_check_char("11010519900307123")),
    ],
)
def test_check_char_known_values(first17, expected):
    assert check_char(first17) == expected


def test_check_char_matches_reference_on_random_inputs():
    rng = random.Random(1)
    for _ in range(300):
        digits = "".join(rng.choice("0123456789") for _ in range(17))
        assert check_char(digits) == ref_check_char(digits), digits


@pytest.mark.parametrize("bad", ["1101051949123100", "110105194912310021", "1101051949123100X", "１１０１０５１９４９１２３１００２"])
def test_check_char_rejects_non_17_ascii_digits(bad):
    with pytest.raises(ValueError, match="17 ASCII digits"):
        check_char(bad)


# ------------------------------------------------------------------ normalize

@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("11010519491231002x", "11010519491231002X"),
        ("  110105 19491231 002X\t\n", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
        ("１１０１０５\u3000１９４９１２３１\u3000００２ｘ", "11010519491231002X"),
        ("\ufeff440524188001010014\u200b", "440524188001010014"),
        ("", ""),
        ("abc", "abc"),  # only x is upper-cased; other letters stay and are reported by the check
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


# ------------------------------------------------------------------ valid numbers

VALID = [
    # raw, normalized, birth date, sex, division
    ("11010519491231002X", "11010519491231002X", date(1949, 12, 31), "2", "110105"),
    ("440524188001010014", "440524188001010014", date(1880, 1, 1), "1", "440524"),
    ("11010519491231002x", "11010519491231002X", date(1949, 12, 31), "2", "110105"),
    ("１１０１０５　１９４９１２３１　００２Ｘ", "11010519491231002X", date(1949, 12, 31), "2", "110105"),
    (" 440524 18800101 0014 ", "440524188001010014", date(1880, 1, 1), "1", "440524"),
    (full("41010520000229001"), full("41010520000229001"), date(2000, 2, 29), "1", "410105"),  # 2000 is leap
    (full("81000019900101002"), full("81000019900101002"), date(1990, 1, 1), "2", "810000"),  # HK permit
    (full("83000020010615003"), full("83000020010615003"), date(2001, 6, 15), "1", "830000"),  # TW permit
    (full("65010220250101000"), full("65010220250101000"), TODAY, "2", "650102"),  # born today: fine
]


@pytest.mark.parametrize(("raw", "normalized", "birth", "sex", "division"), VALID)
def test_valid_numbers(raw, normalized, birth, sex, division):
    result = check_id_number(raw, today=TODAY)
    assert isinstance(result, IdCheck)
    assert result.problems == ()
    assert result.valid is True
    assert result.raw == raw
    assert result.normalized == normalized
    assert result.legacy15 is False
    assert result.birth_date == birth
    assert result.sex == sex
    assert result.division_code == division


# ------------------------------------------------------------------ invalid numbers

INVALID = [
    # raw, expected problem codes, fragment of the English message(s), fragment of the Chinese message(s)
    ("", {"id_number.empty"}, "ID number is empty", "身份证号为空"),
    (" \u3000\t", {"id_number.empty"}, "ID number is empty", "身份证号为空"),
    ("110105194912310021", {"id_number.check_char"}, "check character should be X, not 1", "校验码应为X，实际为1"),
    ("440524188001010013", {"id_number.check_char"}, "check character should be 4, not 3", "校验码应为4，实际为3"),
    (full("11010519901301001"), {"id_number.month"}, "month 13 is not a month", "月份13不存在"),
    (full("11010519900015001"), {"id_number.month"}, "month 00 is not a month", "月份00不存在"),
    (full("11010519900431001"), {"id_number.day"}, "day 31 does not exist in April 1990", "1990年4月没有31日"),
    (full("11010519900400001"), {"id_number.day"}, "day 00 is not a day", "日期00不存在"),
    (full("11010519000229001"), {"id_number.day"}, "1900-02-29 is not a date: 1900 is not a leap year",
     "1900年不是闰年"),
    (full("11010519900229001"), {"id_number.day"}, "1990-02-29 is not a date: 1990 is not a leap year",
     "1990-02-29不是有效日期"),
    (full("11010520300101001"), {"id_number.future"}, "birth date 2030-01-01 is after today (2025-01-01)",
     "晚于今天"),
    (full("11010525001301001"), {"id_number.future", "id_number.month"}, "birth year 2500 is after this year",
     "月份13不存在"),
    (full("11010518491231001"), {"id_number.too_old"}, "birth year 1849 is before 1850", "早于1850年"),
    ("11010519491231002", {"id_number.length"},
     "ID number must have 18 characters (or 15 for legacy numbers), got 17", "实际为17位"),
    ("11010519491231002X1", {"id_number.length", "id_number.characters"}, "got 19", "实际为19位"),
    ("1101051949123100201", {"id_number.length"}, "got 19", "身份证号应为18位（或旧15位），实际为19位"),
    ("1101051949A231002X", {"id_number.characters"}, "character 11 ('A') is not a digit", "第11位“A”不是数字"),
    ("11010519491231X021", {"id_number.characters"}, "character 15 ('X') is not a digit", "第15位“X”不是数字"),
    ("11010519491231002Y", {"id_number.characters"}, "character 18 ('Y') is not a digit or X", "第18位“Y”"),
    (full("11000019491231002"), {"id_number.division"},
     "division code 110000 is a province code, never issued to people", "行政区划代码110000"),
    (full("41010019491231002"), {"id_number.division"},
     "division code 410100 is a prefecture code, never issued to people", "410100是地级代码"),
    (full("11000119491231002"), {"id_number.division"}, "prefecture part 00", "地级部分为00"),
    (full("99010119491231002"), {"id_number.division"}, "province code 99 does not exist", "省级代码99不存在"),
    (full("71010119491231002"), {"id_number.division"}, "province code 71 (Taiwan) is not used", "830000"),
    (full("81010119491231002"), {"id_number.division"}, "only used as 810000", "810000"),
    # several independent problems at once
    ("110105199013310020", {"id_number.month", "id_number.check_char"}, "month 13 is not a month", "校验码应为"),
    ("990101199002300011", {"id_number.division", "id_number.day", "id_number.check_char"},
     "day 30 does not exist in February 1990", "省级代码99不存在"),
    # legacy 15-digit numbers
    ("110105491331002", {"id_number.month"}, "month 13 is not a month", "月份13不存在"),
    ("110105490231002", {"id_number.day"}, "day 31 does not exist in February 1949", "1949年2月没有31日"),
    ("11010549123100X", {"id_number.characters"}, "character 15 ('X') is not a digit", "第15位“X”不是数字"),
    ("110000491231002", {"id_number.division"}, "110000 is a province code", "110000是省级代码"),
]


@pytest.mark.parametrize(("raw", "codes", "fragment_en", "fragment_zh"), INVALID)
def test_invalid_numbers(raw, codes, fragment_en, fragment_zh):
    result = check_id_number(raw, today=TODAY)
    assert result.valid is False
    assert result.normalized is None
    got = [p.code for p in result.problems]
    assert set(got) == codes
    assert len(got) == len(set(got)), "each problem is reported once"
    assert any(fragment_en in p.message_en for p in result.problems), [p.message_en for p in result.problems]
    assert any(fragment_zh in p.message_zh for p in result.problems), [p.message_zh for p in result.problems]
    for problem in result.problems:
        assert problem.code in PROBLEM_CODES
        assert problem.message_zh and problem.message_en


def test_check_char_is_reported_next_to_a_bad_date_with_the_right_character():
    result = check_id_number("110105199002300011", today=TODAY)
    by_code = {p.code: p for p in result.problems}
    assert set(by_code) == {"id_number.day", "id_number.check_char"}
    expected = ref_check_char("11010519900230001")
    assert by_code["id_number.check_char"].message_en == f"check character should be {expected}, not 1"
    assert result.birth_date is None  # the date part is not a real date
    assert result.sex == "1" and result.division_code == "110105"  # still derived from well-formed parts


def test_future_uses_real_today_by_default():
    next_year = date.today().year + 1
    result = check_id_number(full(f"110105{next_year}0101001"))
    assert [p.code for p in result.problems] == ["id_number.future"]


# ------------------------------------------------------------------ gb2260

@pytest.mark.parametrize(
    ("code", "plausible", "fragment_en"),
    [
        ("110105", True, None),
        ("440524", True, None),
        ("810000", True, None),
        ("820000", True, None),
        ("830000", True, None),
        ("110000", False, "110000 is a province code, never issued to people"),
        ("410100", False, "410100 is a prefecture code, never issued to people"),
        ("990101", False, "province code 99 does not exist"),
        ("000000", False, "province code 00 does not exist"),
        ("710101", False, "province code 71 (Taiwan) is not used in resident ID numbers"),
        ("820101", False, "province code 82 (Macao) is only used as 820000"),
        ("11010", False, "division code must be 6 digits, got '11010'"),
        ("11010a", False, "division code must be 6 digits"),
    ],
)
def test_plausible_division(code, plausible, fragment_en):
    result = gb2260.plausible_division(code)
    if plausible:
        assert result is None
    else:
        assert result is not None
        problem_code, zh, en = result
        assert problem_code == "id_number.division"
        assert fragment_en in en
        assert zh


def test_province_table():
    assert gb2260.PROVINCES["41"] == ("河南省", "Henan")
    assert gb2260.PROVINCES["11"] == ("北京市", "Beijing")
    assert len(gb2260.ISSUING_PROVINCES) == 31
    assert gb2260.ISSUING_PROVINCES <= set(gb2260.PROVINCES)
    assert "71" not in gb2260.ISSUING_PROVINCES
    assert gb2260.province_name("410105") == ("河南省", "Henan")
    assert gb2260.province_name("830000") == ("台湾地区", "Taiwan")
    assert gb2260.province_name("990101") is None


# ------------------------------------------------------------------ legacy 15-digit numbers

@pytest.mark.parametrize(
    ("n15", "n18", "birth", "sex"),
    [
        ("110105491231002", "11010519491231002X", date(1949, 12, 31), "2"),
        ("440524800101001", full("44052419800101001"), date(1980, 1, 1), "1"),
        (" 110105 491231 002 ", "11010519491231002X", date(1949, 12, 31), "2"),
    ],
)
def test_upgrade_15_to_18(n15, n18, birth, sex):
    upgraded = upgrade_15_to_18(n15)
    assert upgraded == n18
    assert check_id_number(upgraded, today=TODAY).valid
    result = check_id_number(n15, today=TODAY)
    assert result.valid is True
    assert result.legacy15 is True
    assert result.normalized == upgraded
    assert result.birth_date == birth
    assert result.sex == sex
    assert result.division_code == n18[:6]


@pytest.mark.parametrize(
    ("n15", "fragment"),
    [
        ("110105491331002", "month 13 is not a month"),
        ("110105490230002", "day 30 does not exist in February 1949"),
        ("11010549123100", "a legacy ID number must have 15 digits, got 14"),
        ("11010519491231002X", "got 18"),
        ("11010549123100A", "character 15 ('A') is not a digit"),
        ("990101491231002", "province code 99 does not exist"),
    ],
)
def test_upgrade_15_to_18_rejects_invalid(n15, fragment):
    with pytest.raises(ValueError) as excinfo:
        upgrade_15_to_18(n15)
    assert fragment in str(excinfo.value)
    assert isinstance(excinfo.value, IdNumberError)
    assert excinfo.value.problems


# ------------------------------------------------------------------ make_id_number

DIVISIONS = ["110105", "440524", "410105", "650102", "810000", "830000", "530102"]


def test_make_id_number_round_trips():
    rng = random.Random(1)
    lo, hi = date(1850, 1, 1).toordinal(), TODAY.toordinal()
    for _ in range(500):
        division = rng.choice(DIVISIONS)
        birth = date.fromordinal(rng.randint(lo, hi))
        seq = rng.randrange(1000)
        number = make_id_number(division, birth, seq)
        assert len(number) == 18
        assert number[-1] == ref_check_char(number[:17])
        result = check_id_number(number, today=TODAY)
        assert result.valid, (number, result.problems)
        assert result.normalized == number
        assert result.birth_date == birth
        assert result.division_code == division
        assert number[14:17] == f"{seq:03d}"
        assert result.sex == ("1" if seq % 2 else "2")


def test_make_id_number_known_values_and_datetime():
    assert make_id_number("110105", date(1949, 12, 31), 2) == "11010519491231002X"
    assert make_id_number("440524", date(1880, 1, 1), 1) == "440524188001010014"
    assert make_id_number("440524", datetime(1880, 1, 1, 12, 30), 1) == "440524188001010014"


@pytest.mark.parametrize(
    ("division", "birth", "seq", "fragment"),
    [
        ("110000", date(1990, 1, 1), 1, "province code"),
        ("990101", date(1990, 1, 1), 1, "province code 99 does not exist"),
        ("110105", date(1849, 12, 31), 1, "before 1850"),
        ("110105", date(9999, 1, 1), 1, "after today"),
        ("110105", date(1990, 1, 1), 1000, "from 0 to 999, got 1000"),
        ("110105", date(1990, 1, 1), -1, "from 0 to 999, got -1"),
        ("110105", "1990-01-01", 1, "must be a date"),
    ],
)
def test_make_id_number_rejects_bad_arguments(division, birth, seq, fragment):
    with pytest.raises(ValueError) as excinfo:
        make_id_number(division, birth, seq)
    assert fragment in str(excinfo.value)


# ------------------------------------------------------------------ consistency with stated sex / birth date

FEMALE_1949 = "11010519491231002X"
MALE_1880 = "440524188001010014"


@pytest.mark.parametrize(
    ("number", "sex", "birth", "codes", "fragments_en", "fragments_zh"),
    [
        (FEMALE_1949, "1", None, ["id_number.sex_mismatch"],
         ["sex 'male' contradicts the ID number, which says 'female'"], ["性别“男”与身份证号推算的性别“女”不一致"]),
        (MALE_1880, "2", None, ["id_number.sex_mismatch"],
         ["sex 'female' contradicts the ID number, which says 'male'"], ["性别“女”与身份证号推算的性别“男”不一致"]),
        (FEMALE_1949, None, date(1950, 1, 1), ["id_number.birth_date_mismatch"],
         ["birth date 1950-01-01 contradicts the ID number, which says 1949-12-31"], ["1950-01-01", "1949-12-31"]),
        (MALE_1880, "2", date(1880, 1, 2), ["id_number.sex_mismatch", "id_number.birth_date_mismatch"],
         ["'female'", "'male'", "1880-01-02", "1880-01-01"], ["女", "男", "1880-01-02", "1880-01-01"]),
        (FEMALE_1949, "2", date(1949, 12, 31), [], [], []),
        (FEMALE_1949, "2", datetime(1949, 12, 31, 8, 0), [], [], []),
        (FEMALE_1949, "0", None, [], [], []),
        (FEMALE_1949, "9", None, [], [], []),
        (FEMALE_1949, None, None, [], [], []),
        ("110105491231002", "1", None, ["id_number.sex_mismatch"], ["'male'", "'female'"], ["男", "女"]),
        # an invalid number yields no consistency problems (its own problems apply)
        ("110105194912310021", "1", date(2000, 1, 1), [], [], []),
    ],
)
def test_consistency_problems(number, sex, birth, codes, fragments_en, fragments_zh):
    check = check_id_number(number, today=TODAY)
    problems = consistency_problems(check, sex=sex, birth_date=birth)
    assert [p.code for p in problems] == codes
    text_en = " ".join(p.message_en for p in problems)
    text_zh = " ".join(p.message_zh for p in problems)
    for fragment in fragments_en:
        assert fragment in text_en
    for fragment in fragments_zh:
        assert fragment in text_zh


def test_sex_labels():
    assert SEX_LABELS["1"] == ("男", "male")
    assert SEX_LABELS["2"] == ("女", "female")
    assert set(SEX_LABELS) == {"0", "1", "2", "9"}
