"""Pregnancy five-colour risk and follow-up measurement validation, table-driven."""

import re

import pytest

from rhip.programs.rules import assess_pregnancy_risk, load_risk_scheme, validate_followup

# ------------------------------------------------------------------ pregnancy risk colour


@pytest.mark.parametrize("factors,kwargs,colours,level2", [
    ([], {}, ("green",), False),
    (["twins"], {}, ("yellow",), True),
    (["scarred_uterus", "gestational_diabetes"], {}, ("yellow",), True),
    (["twins", "severe_preeclampsia"], {}, ("orange",), True),                      # highest colour wins
    (["twins", "placental_abruption", "rh_incompatibility"], {}, ("red",), True),
    (["hiv"], {}, ("green", "purple"), False),                                      # purple alone
    (["syphilis", "scarred_uterus"], {}, ("yellow", "purple"), True),               # purple + another colour
    (["tuberculosis", "hepatitis_b", "heart_disease_severe"], {}, ("red", "purple"), True),
    (["瘢痕子宫"], {}, ("yellow",), True),                                           # Chinese label
    ([], {"age": 35}, ("yellow",), True),
    ([], {"age": 34}, ("green",), False),
    ([], {"age": 18}, ("yellow",), True),
    ([], {"age": 19}, ("green",), False),
    ([], {"age": 40}, ("orange",), True),
    ([], {"bmi": 25}, ("green",), False),
    ([], {"bmi": 25.1}, ("yellow",), True),
    ([], {"bmi": 18.4}, ("yellow",), True),
    ([], {"bmi": 28}, ("orange",), True),
])
def test_pregnancy_colour(factors, kwargs, colours, level2):
    r = assess_pregnancy_risk(factors, **kwargs)
    assert r.colours == colours
    assert r.level2_delivery is level2
    assert ("二级及以上" in r.recommendation_zh) is level2
    if "purple" in colours:
        assert "母婴" in r.recommendation_zh and "mother-to-child" in r.recommendation_en


def test_factors_are_reported_by_colour_and_unknown_ones_kept():
    r = assess_pregnancy_risk(["twins", "syphilis", "no_such_factor"], age=36)
    assert r.factors_by_colour == {"yellow": ("twins", "age_35_plus"), "purple": ("syphilis",)}
    assert r.unknown_factors == ("no_such_factor",)


def test_default_scheme_is_consistent():
    scheme = load_risk_scheme()
    colours = {c["code"] for c in scheme["colours"]}
    codes = [f["code"] for f in scheme["factors"]]
    assert len(codes) == len(set(codes))
    assert {f["colour"] for f in scheme["factors"]} == colours - {"green"}
    assert {d["factor"] for d in scheme["derived"]} <= set(codes)
    assert scheme["status"] == "verify"
    assert {"age_35_plus", "age_18_or_under", "scarred_uterus", "gestational_diabetes", "twins"} <= {
        f["code"] for f in scheme["factors"] if f["colour"] == "yellow"}
    assert {"hepatitis_b", "syphilis", "hiv", "tuberculosis"} <= {
        f["code"] for f in scheme["factors"] if f["colour"] == "purple"}


SIX = {
    "scheme": "test_6colour",
    "colours": [{"code": "green", "zh": "绿", "en": "green", "rank": 0},
                {"code": "blue", "zh": "蓝", "en": "blue", "rank": 1},
                {"code": "yellow", "zh": "黄", "en": "yellow", "rank": 2},
                {"code": "orange", "zh": "橙", "en": "orange", "rank": 3},
                {"code": "red", "zh": "红", "en": "red", "rank": 4},
                {"code": "purple", "zh": "紫", "en": "purple", "combinable": True}],
    "default_colour": "green",
    "delivery": {"from_colour": "yellow", "zh": "二级及以上医院分娩", "en": "level-2+"},
    "factors": [{"code": "b1", "zh": "蓝1", "en": "b1", "colour": "blue"},
                {"code": "y1", "zh": "黄1", "en": "y1", "colour": "yellow"},
                {"code": "p1", "zh": "紫1", "en": "p1", "colour": "purple"}],
}


@pytest.mark.parametrize("factors,colours,level2", [
    (["b1"], ("blue",), False),
    (["b1", "y1"], ("yellow",), True),
    (["b1", "p1"], ("blue", "purple"), False),
    (["twins"], ("green",), False),          # the national factor list is not used with another scheme
])
def test_six_colour_scheme_is_swappable(factors, colours, level2):
    r = assess_pregnancy_risk(factors, scheme=SIX)
    assert (r.colours, r.level2_delivery, r.scheme) == (colours, level2, "test_6colour")


# ------------------------------------------------------------------ measurement validation

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("field,ok,bad", [
    ("sbp", [70, 300, "120"], [69, 301, 400]),
    ("dbp", [40, 60, 200], [39, 201]),
    ("heart_rate", [30, 220], [29, 221]),
    ("weight", [2, 300, 65.5], [1.9, 300.1]),
    ("height", [40, 250], [39.9, 251]),
    ("fasting_glucose", [1.0, 40.0, "6.1"], [0.9, 40.1]),
    ("risk_grade", [0, 5, "3"], [-1, 6]),
])
def test_ranges(field, ok, bad):
    for value in ok:
        assert validate_followup({field: value}) == [], (field, value)
    for value in bad:
        issues = validate_followup({field: value})
        assert [(i.field, i.code) for i in issues] == [(field, "out_of_range")], (field, value)
        assert str(value) in issues[0].message_zh and str(value) in issues[0].message_en


def test_sbp_400_is_refused_with_both_messages():
    (issue,) = validate_followup({"sbp": 400, "dbp": 90})
    assert (issue.field, issue.code) == ("sbp", "out_of_range")
    assert issue.message_zh == "收缩压 400 mmHg 超出允许范围 70–300 mmHg"
    assert issue.message_en == "systolic blood pressure 400 mmHg is outside the allowed range 70–300 mmHg"


@pytest.mark.parametrize("sbp,dbp", [(80, 90), (100, 100)])
def test_sbp_must_exceed_dbp(sbp, dbp):
    (issue,) = validate_followup({"sbp": sbp, "dbp": dbp})
    assert (issue.field, issue.code) == ("sbp", "sbp_not_above_dbp")
    assert issue.message_zh == f"收缩压（{sbp}）应高于舒张压（{dbp}）"
    assert issue.message_en == f"systolic ({sbp}) must be higher than diastolic ({dbp})"


@pytest.mark.parametrize("measurements,expected", [
    ({"sbp": 130, "dbp": 85, "heart_rate": 72, "weight": 70, "height": 170, "fasting_glucose": 6.2, "risk_grade": 0},
     []),
    ({"sbp": "abc"}, [("sbp", "not_a_number")]),
    ({"weight": True}, [("weight", "not_a_number")]),
    ({"fasting_glucose": float("nan")}, [("fasting_glucose", "not_a_number")]),
    ({"risk_grade": 2.5}, [("risk_grade", "not_an_integer")]),
    ({"sbp": None, "dbp": "", "remarks": "x"}, []),                                  # absent: not checked
    ({"sbp": 400, "dbp": 250, "heart_rate": 10}, [("sbp", "out_of_range"), ("dbp", "out_of_range"),
                                                   ("heart_rate", "out_of_range")]),
])
def test_validation_codes(measurements, expected):
    issues = validate_followup(measurements)
    assert [(i.field, i.code) for i in issues] == expected
    for i in issues:
        assert CJK.search(i.message_zh) and not CJK.search(i.message_en)
