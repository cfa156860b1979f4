"""Registry rules, table-driven (DOMAIN.md: ID numbers, sex codes, derived tags, record numbers)."""

from datetime import date

import pytest

from rhip.registry.rules import age_on, derived_tags, normalize_name, record_number, validate_resident

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize("birth,on,age", [
    (date(1961, 11, 23), TODAY, 65),
    (date(1961, 11, 24), TODAY, 64),
    (date(2000, 2, 29), date(2026, 2, 28), 25),   # leap-day birthday: ages on 1 March in common years
    (date(2000, 2, 29), date(2026, 3, 1), 26),
    (date(2020, 11, 23), TODAY, 6),
])
def test_age_on(birth, on, age):
    assert age_on(birth, on) == age


@pytest.mark.parametrize("birth,kwargs,tags", [
    (date(1961, 11, 23), {}, ["elderly65"]),
    (date(1961, 11, 24), {}, []),
    (date(2020, 11, 23), {}, ["child0_6"]),       # 6 years old: still a child 0–6
    (date(2019, 11, 23), {}, []),                 # 7th birthday today
    (date(1980, 1, 1), {"disability": "4", "poverty_registered": True, "fp_special_family": True},
     ["disabled", "poor", "fp_special"]),
])
def test_derived_tags(birth, kwargs, tags):
    assert derived_tags(birth_date=birth, on=TODAY, **kwargs) == tags


@pytest.mark.parametrize("raw,clean", [("张 丽", "张丽"), ("\u3000王伟 ", "王伟"), ("阿依古丽•买买提", "阿依古丽·买买提"),
                                       ("ＬＩ Ｍｉｎｇ", "LIMing")])
def test_normalize_name(raw, clean):
    assert normalize_name(raw) == clean


BASE = {"name": "张丽", "sex": "2", "birth_date": date(1949, 12, 31), "id_number": "11010519491231002X",
        "village_code": "411530101201"}


@pytest.mark.parametrize("change,field,code,fragment", [
    ({"id_number": "110105194912310021"}, "id_number", "id_number.check_char", "check character should be X"),
    ({"id_number": "11010519491331002X"}, "id_number", "id_number.month", "month 13"),
    ({"sex": "1"}, "sex", "id_number.sex_mismatch", "female"),
    ({"birth_date": date(1949, 12, 30)}, "birth_date", "id_number.birth_date_mismatch", "1949-12-31"),
    ({"sex": "3"}, "sex", "sex.code", "GB/T 2261.1"),
    ({"name": "  "}, "name", "name.required", "name is required"),
    ({"phone": "12345"}, "phone", "phone.format", "12345"),
    ({"status": "deceased"}, "status_date", "status_date.required", "date"),
    ({"birth_date": date(2027, 1, 1), "id_number": None}, "birth_date", "birth_date.future", "future"),
    ({"village_code": "4115301012"}, "village_code", "village_code.format", "12 digits"),
    ({"disability": "9"}, "disability", "disability.code", "GB/T 26341"),
])
def test_validate_resident_rejects(change, field, code, fragment):
    clean, errors = validate_resident({**BASE, **change}, today=TODAY)
    matching = [e for e in errors if e.code == code]
    assert matching, errors
    assert matching[0].field == field
    assert fragment in matching[0].message_en
    assert matching[0].message_zh


def test_validate_resident_names_both_values_when_sex_contradicts_id():
    _, errors = validate_resident({**BASE, "sex": "1"}, today=TODAY)
    msg = [e for e in errors if e.code == "id_number.sex_mismatch"][0]
    assert "male" in msg.message_en and "female" in msg.message_en
    assert "男" in msg.message_zh and "女" in msg.message_zh


def test_validate_resident_accepts_and_upgrades_legacy_number():
    # 15-digit legacy number of the DOMAIN.md example person (division 110105, 491231, sequence 002)
    clean, errors = validate_resident({**BASE, "id_number": "110105491231002"}, today=TODAY)
    assert errors == []
    assert clean["id_number"] == "11010519491231002X"
    assert clean["id_number_status"] == "legacy15"
    assert clean["id_number_raw"] == "110105491231002"


def test_validate_resident_without_id_number_is_fine():
    clean, errors = validate_resident({**BASE, "id_number": None}, today=TODAY)
    assert errors == [] and clean["id_number"] is None and clean["id_number_status"] == "missing"


@pytest.mark.parametrize("village,seq,expected", [("411530101201", 1, "41153010120100001"),
                                                  ("411530101201", 99999, "41153010120199999")])
def test_record_number(village, seq, expected):
    assert record_number(village, seq) == expected
    assert len(expected) == 17


def test_record_number_out_of_range():
    with pytest.raises(ValueError):
        record_number("411530101201", 100000)
