"""Table-driven tests of the MPI comparison rules (rhip.mpi.rules)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from rhip.kit.idcard import check_char, make_id_number, upgrade_15_to_18
from rhip.mpi.rules import (
    COMPARISON_FIELDS, DateLevel, HouseholdLevel, IdLevel, Level, NameLevel, PersonFields,
    PhoneLevel, SexLevel, VillageLevel, best_of, blocking_keys, compare_birth_dates,
    compare_households, compare_id_numbers, compare_names, compare_phone_sets, compare_phones,
    compare_records, compare_sex, compare_villages, fill_from_id, initials_key, jaro_winkler,
    name_pinyin, name_similarity, normalize_name, normalize_phone, parse_birth_date, pinyin_key,
)

ALL_LEVELS = (NameLevel, IdLevel, DateLevel, PhoneLevel, SexLevel, VillageLevel, HouseholdLevel)

# A valid ID number (female: even sequence) and its legacy 15-digit form.
ID18 = make_id_number("330102", date(1980, 3, 5), 124)
ID15 = ID18[:6] + ID18[8:17]


def _with(s: str, pos: int, ch: str) -> str:
    return s[:pos] + ch + s[pos + 1:]


def _valid(first17: str) -> str:
    return first17 + check_char(first17)


# ---------------------------------------------------------------- levels

@pytest.mark.parametrize("enum", ALL_LEVELS)
def test_levels_have_stable_unique_codes_labels_and_rank(enum):
    values = [m.value for m in enum]
    assert len(set(values)) == len(values)
    assert all(v == v.lower() and " " not in v for v in values)
    assert all(m.label_zh and m.label_en and m.label_zh != m.label_en for m in enum)
    assert [m.rank for m in enum] == list(range(len(enum)))
    assert list(enum)[-1].value == "missing" and list(enum)[-1].is_missing
    members = list(enum)
    assert all(enum(m.value) is m for m in members)     # round-trips from the stored string
    assert str(members[0]) == values[0]


def test_best_of_prefers_strongest_and_ignores_missing():
    assert best_of([PhoneLevel.DIFFERENT, PhoneLevel.MISSING, PhoneLevel.SAME_LAST_8],
                   PhoneLevel.MISSING) is PhoneLevel.SAME_LAST_8
    assert best_of([], PhoneLevel.MISSING) is PhoneLevel.MISSING


# ---------------------------------------------------------------- names

@pytest.mark.parametrize("raw, expected", [
    ("張麗", "张丽"),
    ("张 丽", "张丽"),
    (" 张　丽 ", "张丽"),                       # ideographic space
    ("张\u200b丽\ufeff", "张丽"),               # zero-width space, BOM
    ("ＺＨＡＮＧ　ｓａｎ", "ZHANG SAN"),         # full-width Latin, one space kept between words
    ("zhang   san", "ZHANG SAN"),
    ("阿依古丽•买买提", "阿依古丽·买买提"),
    ("阿依古丽 . 买买提", "阿依古丽·买买提"),
    ("阿依古丽・买买提", "阿依古丽·买买提"),
    ("阿依古丽．买买提", "阿依古丽·买买提"),      # full-width full stop
    ("歐陽修", "欧阳修"),
    ("\uf9e1明", "李明"),                       # CJK compatibility ideograph (Korean code page)
    ("於丹", "於丹"),                           # surname 於 is not 于
    ("", ""),
    (None, ""),
])
def test_normalize_name(raw, expected):
    assert normalize_name(raw) == expected
    assert normalize_name(normalize_name(raw)) == expected      # idempotent


@pytest.mark.parametrize("name, syllables", [
    ("单田芳", ("shan", "tian", "fang")),         # not dan
    ("曾国藩", ("zeng", "guo", "fan")),           # not ceng
    ("解缙", ("xie", "jin")),                     # not jie
    ("区丽", ("ou", "li")),                       # not qu
    ("仇英", ("qiu", "ying")),                    # not chou
    ("朴正熙", ("piao", "zheng", "xi")),          # not pu
    ("查良镛", ("zha", "liang", "yong")),         # not cha
    ("尉迟恭", ("yu", "chi", "gong")),
    ("欧阳修", ("ou", "yang", "xiu")),
    ("單田芳", ("shan", "tian", "fang")),         # traditional surname too
    ("张丽", ("zhang", "li")),
    ("吕绿", ("lv", "lv")),                       # ü written v
    ("阿依古丽·买买提", ("a", "yi", "gu", "li", "mai", "mai", "ti")),
    ("ZHANG San", ("zhang", "san")),
    ("", ()),
])
def test_name_pinyin_reads_surnames_with_surname_reading(name, syllables):
    assert name_pinyin(name) == syllables


def test_given_name_characters_use_common_reading_not_surname_reading():
    # 单/曾 inside a given name keep their common reading
    assert name_pinyin("王单") == ("wang", "dan")
    assert name_pinyin("李曾") == ("li", "ceng")


@pytest.mark.parametrize("name, key, initials", [
    ("张丽", "zhang li", "zl"),
    ("張麗", "zhang li", "zl"),
    ("欧阳娜娜", "ou yang na na", "oynn"),
    ("单田芳", "shan tian fang", "stf"),
    (None, "", ""),
])
def test_pinyin_and_initials_keys(name, key, initials):
    assert pinyin_key(name) == key
    assert initials_key(name) == initials


@pytest.mark.parametrize("a, b, level", [
    ("张丽", "张丽", NameLevel.EXACT),
    ("张丽", "張麗", NameLevel.EXACT),
    ("张丽", "张 丽", NameLevel.EXACT),
    ("ＺＨＡＮＧ　ＬＩ", "zhang li", NameLevel.EXACT),
    ("张丽", "张莉", NameLevel.SAME_PINYIN),
    ("章丽", "张丽", NameLevel.SAME_PINYIN),          # homophone surname
    ("张丽华", "张华丽", NameLevel.SWAPPED_GIVEN),
    ("张丽华", "张华莉", NameLevel.SWAPPED_GIVEN),     # swapped and a homophone
    ("王己", "王已", NameLevel.ONE_CHAR_DIFFERENT_SAME_SURNAME),
    ("张丽华", "张丽军", NameLevel.ONE_CHAR_DIFFERENT_SAME_SURNAME),
    ("王丽", "王强", NameLevel.SAME_SURNAME_ONLY),    # one-char given names that do not look alike
    ("张丽", "张丽华", NameLevel.SAME_SURNAME_ONLY),
    ("单丽", "單强", NameLevel.SAME_SURNAME_ONLY),
    ("张丽", "李丽", NameLevel.DIFFERENT),
    ("阿依古丽·买买提", "阿依古丽·吐尔逊", NameLevel.DIFFERENT),
    ("", "张丽", NameLevel.MISSING),
    (None, None, NameLevel.MISSING),
])
def test_compare_names(a, b, level):
    assert compare_names(a, b) is level
    assert compare_names(b, a) is level               # symmetric


def test_name_levels_are_ordered_best_first():
    assert (NameLevel.EXACT.rank < NameLevel.SAME_PINYIN.rank < NameLevel.SWAPPED_GIVEN.rank
            < NameLevel.ONE_CHAR_DIFFERENT_SAME_SURNAME.rank < NameLevel.SAME_SURNAME_ONLY.rank
            < NameLevel.DIFFERENT.rank)


def test_name_similarity_on_pinyin():
    assert name_similarity("张丽", "張莉") == 1.0
    close = name_similarity("张丽华", "张丽军")
    far = name_similarity("张丽", "欧阳娜娜")
    assert 0.0 < far < close < 1.0
    assert name_similarity("张丽", None) == 0.0


@pytest.mark.parametrize("a, b, expected", [
    ("MARTHA", "MARHTA", 0.961111),                # textbook values
    ("DIXON", "DICKSONX", 0.813333),
    ("DWAYNE", "DUANE", 0.84),
    ("abc", "abc", 1.0),
    ("abc", "xyz", 0.0),
    ("", "abc", 0.0),
])
def test_jaro_winkler(a, b, expected):
    assert jaro_winkler(a, b) == pytest.approx(expected, abs=1e-6)


# ---------------------------------------------------------------- ID numbers

def test_legacy_fixture_is_consistent():
    assert len(ID15) == 15 and upgrade_15_to_18(ID15) == ID18
    assert ID18[10:12] == "03" and ID18[15:17] == "24"     # the transpositions below change digits


@pytest.mark.parametrize("a, b, level", [
    (ID18, ID18, IdLevel.EXACT),
    (ID18, ID18.lower() + " ", IdLevel.EXACT),
    (ID15, ID18, IdLevel.EXACT),                                   # 15 digits = its 18-digit upgrade
    ("11010519491231002X", "11010519491231002x", IdLevel.EXACT),
    (ID18, _valid(_with(ID18, 3, "9")[:17]), IdLevel.ONE_DIGIT_TYPO),  # division digit
    (ID18, _with(ID18, 16, "6"), IdLevel.ONE_DIGIT_TYPO),          # invalid check char: still by digits
    (ID18, _with(ID18, 17, "0" if ID18[17] != "0" else "1"), IdLevel.ONE_DIGIT_TYPO),  # check char only
    (ID18, ID18[:10] + ID18[11] + ID18[10] + ID18[12:], IdLevel.TRANSPOSITION),   # month 03 → 30
    (ID18, ID18[:15] + ID18[16] + ID18[15] + ID18[17], IdLevel.TRANSPOSITION),    # sequence 124 → 142
    (ID18, ID18[:14] + "999" + ID18[17], IdLevel.SAME_BIRTH_AND_DIVISION),
    (ID18, "11010519491231002X", IdLevel.DIFFERENT),
    (ID18, ID18[:16], IdLevel.SAME_BIRTH_AND_DIVISION),            # truncated, same first 14
    (ID18, "", IdLevel.MISSING),
    (None, ID18, IdLevel.MISSING),
])
def test_compare_id_numbers(a, b, level):
    assert compare_id_numbers(a, b) is level
    assert compare_id_numbers(b, a) is level


# ---------------------------------------------------------------- birth dates

@pytest.mark.parametrize("value, expected", [
    (date(1980, 3, 5), (1980, 3, 5)),
    ("1980-03-05", (1980, 3, 5)),
    ("19800305", (1980, 3, 5)),
    ("1980/3/5", (1980, 3, 5)),
    ("1980年3月5日", (1980, 3, 5)),
    ("1980-02-30", (1980, 2, 30)),          # kept field by field
    ("1980-13-05", None),
    ("不详", None),
    (None, None),
])
def test_parse_birth_date(value, expected):
    assert parse_birth_date(value) == expected


@pytest.mark.parametrize("a, b, level", [
    ("1980-03-05", date(1980, 3, 5), DateLevel.EXACT),
    ("1980-03-05", "1980-05-03", DateLevel.DAY_MONTH_SWAPPED),
    ("1980-03-05", "1981-03-05", DateLevel.ONE_FIELD_DIFFERENT),
    ("1980-03-05", "1980-04-05", DateLevel.ONE_FIELD_DIFFERENT),
    ("1980-03-05", "1980-03-15", DateLevel.ONE_FIELD_DIFFERENT),
    ("1980-12-30", "1981-01-02", DateLevel.WITHIN_1_YEAR),
    ("1980-03-05", "1980-07-20", DateLevel.WITHIN_1_YEAR),
    ("1980-03-05", "1975-08-20", DateLevel.DIFFERENT),
    ("1980-03-03", "1980-03-03", DateLevel.EXACT),      # equal day and month is not a swap
    ("1980-03-05", None, DateLevel.MISSING),
    ("1980-03-05", "不详", DateLevel.MISSING),
])
def test_compare_birth_dates(a, b, level):
    assert compare_birth_dates(a, b) is level
    assert compare_birth_dates(b, a) is level


# ---------------------------------------------------------------- phones

@pytest.mark.parametrize("raw, expected", [
    ("13812345678", "13812345678"),
    ("+86 138-1234-5678", "13812345678"),
    ("+86-138 1234 5678", "13812345678"),
    ("0086 13812345678", "13812345678"),
    ("8613812345678", "13812345678"),
    ("１３８１２３４５６７８", "13812345678"),
    ("(0571) 8888-1234", "057188881234"),
    ("0571-88881234转123", "057188881234"),
    ("无", ""),
    ("123", ""),
    (None, ""),
])
def test_normalize_phone(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("a, b, level", [
    ("+86 138-1234-5678", "13812345678", PhoneLevel.EXACT),
    ("138 1234 5678", "138-1234-5679", PhoneLevel.ONE_DIGIT_DIFFERENT),
    ("13812345678", "13912345678", PhoneLevel.ONE_DIGIT_DIFFERENT),
    ("0571-88881234", "88881234", PhoneLevel.SAME_LAST_8),
    ("13812345678", "13887654321", PhoneLevel.DIFFERENT),
    ("13812345678", "18612345687", PhoneLevel.DIFFERENT),
    ("13812345678", "", PhoneLevel.MISSING),
    ("无", "13812345678", PhoneLevel.MISSING),
])
def test_compare_phones(a, b, level):
    assert compare_phones(a, b) is level
    assert compare_phones(b, a) is level


@pytest.mark.parametrize("a, b, level", [
    (["13900000000", "+86 138 1234 5678"], ["13812345678"], PhoneLevel.EXACT),
    (["13900000000"], ["13700000000", "13900000001"], PhoneLevel.ONE_DIGIT_DIFFERENT),
    (["13900000000", "无"], ["13512345678"], PhoneLevel.DIFFERENT),
    ([], ["13812345678"], PhoneLevel.MISSING),
    (None, None, PhoneLevel.MISSING),
])
def test_compare_phone_sets(a, b, level):
    assert compare_phone_sets(a, b) is level


# ---------------------------------------------------------------- sex, village, household

@pytest.mark.parametrize("a, b, level", [
    ("1", "1", SexLevel.SAME),
    ("2", "女", SexLevel.SAME),
    (1, "1", SexLevel.SAME),
    ("1", "2", SexLevel.DIFFERENT),
    ("0", "1", SexLevel.MISSING),       # unknown
    ("9", "2", SexLevel.MISSING),       # unspecified
    (None, "2", SexLevel.MISSING),
])
def test_compare_sex(a, b, level):
    assert compare_sex(a, b) is level


@pytest.mark.parametrize("a, b, level", [
    ("330102001203", "330102001203", VillageLevel.SAME_VILLAGE),
    ("330102001203", "330102001204", VillageLevel.SAME_TOWNSHIP),
    ("330102001000", "330102001203", VillageLevel.SAME_TOWNSHIP),   # township-level code
    ("330102001203", "330102002203", VillageLevel.SAME_COUNTY),
    ("330102", "330102002203", VillageLevel.SAME_COUNTY),
    ("330102001203", "330103001203", VillageLevel.DIFFERENT),
    ("33010200120", "330102001203", VillageLevel.MISSING),          # malformed
    (None, "330102001203", VillageLevel.MISSING),
])
def test_compare_villages(a, b, level):
    assert compare_villages(a, b) is level
    assert compare_villages(b, a) is level


@pytest.mark.parametrize("a, b, level", [
    ("H001", " H001", HouseholdLevel.SAME),
    ("H001", "H002", HouseholdLevel.DIFFERENT),
    ("", "H002", HouseholdLevel.MISSING),
])
def test_compare_households(a, b, level):
    assert compare_households(a, b) is level


# ---------------------------------------------------------------- records and blocking

FIRST = PersonFields(name="张丽", id_number=ID18, sex="2", birth_date="1980-03-05",
                     phones=("138-1234-5678",), village_code="330102001203", household_id="H001")
# the same woman registered again at a clinic: homophone name, legacy ID, swapped day/month
SECOND = PersonFields(name="張莉", id_number=ID15, sex="女", birth_date="1980-05-03",
                      phones=("+86 139 0000 0000", "13812345678"), village_code="330102001000")
# same woman, no ID number and no phone at the second visit
THIRD = PersonFields(name="张莉", birth_date=date(1980, 3, 5), village_code="330102001203")


def test_compare_records_builds_the_comparison_vector():
    vector = compare_records(FIRST, SECOND)
    assert tuple(vector) == COMPARISON_FIELDS
    assert vector == {
        "name": NameLevel.SAME_PINYIN,
        "id_number": IdLevel.EXACT,
        "sex": SexLevel.SAME,
        "birth_date": DateLevel.DAY_MONTH_SWAPPED,
        "phone": PhoneLevel.EXACT,
        "village": VillageLevel.SAME_TOWNSHIP,
        "household": HouseholdLevel.MISSING,
    }
    assert all(isinstance(v, Level) for v in vector.values())


def test_compare_records_of_empty_people_is_all_missing():
    vector = compare_records(PersonFields(), PersonFields())
    assert all(v.is_missing for v in vector.values())


def test_blocking_keys_document_each_kind():
    assert blocking_keys(FIRST) == {
        f"id:{ID18[:17]}",
        "py:zhangli:1980",
        "ph:12345678",
        "hh:H001",
        "vi:330102001203:zl",
    }
    assert blocking_keys(PersonFields()) == set()


def test_homophone_registrations_share_blocking_keys():
    assert blocking_keys(FIRST) & blocking_keys(SECOND) >= {f"id:{ID18[:17]}", "py:zhangli:1980"}
    # without ID number or phone, pinyin + birth year and village + initials still meet
    assert blocking_keys(FIRST) & blocking_keys(THIRD) == {"py:zhangli:1980", "vi:330102001203:zl"}


def test_birth_year_for_blocking_comes_from_id_when_date_missing():
    p = PersonFields(name="張莉", id_number=ID18)
    assert "py:zhangli:1980" in blocking_keys(p)


def test_fill_from_id_only_fills_gaps_from_a_valid_number():
    filled = fill_from_id(PersonFields(name="张丽", id_number=ID18, sex="0"))
    assert filled.birth_date == date(1980, 3, 5) and filled.sex == "2"
    kept = fill_from_id(PersonFields(id_number=ID18, sex="1", birth_date="1980-01-01"))
    assert kept.sex == "1" and kept.birth_date == "1980-01-01"
    bad = PersonFields(id_number=_with(ID18, 17, "0" if ID18[17] != "0" else "1"))
    assert fill_from_id(bad) == bad


def test_rules_are_deterministic_across_processes():
    """Same inputs → same keys and levels in a fresh interpreter (no hash-seed or dict-order
    dependence): keys and levels are stored and compared across runs."""
    code = (
        "from rhip.mpi.rules import *; from tests.mpi.test_rules import FIRST, SECOND;"
        "print(sorted(blocking_keys(SECOND)), [v.value for v in compare_records(FIRST, SECOND).values()],"
        " name_similarity('张丽华', '张华丽'))"
    )
    runs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={"PYTHONHASHSEED": seed, "PYTHONPATH": ":".join(sys.path)}).stdout
        for seed in ("1", "2")
    }
    assert len(runs) == 1
    expected = (f"{sorted(blocking_keys(SECOND))} "
                f"{[v.value for v in compare_records(FIRST, SECOND).values()]} "
                f"{name_similarity('张丽华', '张华丽')}\n")
    assert runs == {expected}
