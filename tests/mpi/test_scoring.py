"""Pure MPI scoring rules: Fellegi–Sunter weights, classification and guards, candidate pairs, query checks,
and the EM fit recovering known parameters."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import date

import numpy as np
import pytest

from rhip.mpi import fit
from rhip.mpi.candidates import candidate_pairs, compare_pair, fields_of, hashed_keys, key_hash, worth_scoring
from rhip.mpi.rules import PersonFields
from rhip.mpi.rules_input import check_count, check_query
from rhip.mpi.rules_levels import (
    DateLevel, HouseholdLevel, IdLevel, NameLevel, PhoneLevel, SexLevel, VillageLevel,
)
from rhip.mpi.rules_score import (
    MATCH, NO_MATCH, POSSIBLE, ScoringParams, classify, classify_pair, grade_pair, load_params, match_grade, score,
)

P = load_params()


def _levels(name=NameLevel.EXACT, idn=IdLevel.MISSING, sex=SexLevel.SAME, birth=DateLevel.EXACT,
            phone=PhoneLevel.MISSING, village=VillageLevel.SAME_VILLAGE, household=HouseholdLevel.MISSING):
    return {"name": name, "id_number": idn, "sex": sex, "birth_date": birth, "phone": phone, "village": village,
            "household": household}


def test_shipped_parameters_are_valid_and_documented():
    assert 0 < P.candidate_threshold <= P.possible_threshold <= P.match_threshold < 1
    assert P.fitted["method"].startswith("u started from random pairs")
    assert P.fitted["candidate_pairs"] > 1000


@pytest.mark.parametrize("field, better, worse", [
    ("name", NameLevel.EXACT, NameLevel.DIFFERENT),
    ("name", NameLevel.SAME_PINYIN, NameLevel.SAME_SURNAME_ONLY),
    ("id_number", IdLevel.EXACT, IdLevel.DIFFERENT),
    ("id_number", IdLevel.ONE_DIGIT_TYPO, IdLevel.DIFFERENT),
    ("birth_date", DateLevel.EXACT, DateLevel.WITHIN_1_YEAR),
    ("birth_date", DateLevel.DAY_MONTH_SWAPPED, DateLevel.DIFFERENT),
    ("phone", PhoneLevel.EXACT, PhoneLevel.DIFFERENT),
    ("sex", SexLevel.SAME, SexLevel.DIFFERENT),
])
def test_fitted_weights_order_evidence(field, better, worse):
    assert P.weight(field, better) > 0 > P.weight(field, worse)


@pytest.mark.parametrize("field, level", [
    ("name", NameLevel.MISSING), ("id_number", IdLevel.MISSING), ("phone", PhoneLevel.MISSING),
    ("household", HouseholdLevel.SAME), ("household", HouseholdLevel.DIFFERENT),
])
def test_missing_and_neutral_levels_weigh_nothing(field, level):
    assert P.weight(field, level) == 0


def test_score_is_prior_plus_sum_of_weights():
    lv = _levels()
    s = score(lv, P)
    assert s.weight == pytest.approx(P.prior_weight + sum(P.weight(f, v) for f, v in lv.items()))
    assert s.probability == pytest.approx(1 / (1 + 2 ** -s.weight))
    assert set(s.contributions) == set(lv)


@pytest.mark.parametrize("levels, expected", [
    (_levels(idn=IdLevel.EXACT, phone=PhoneLevel.EXACT), MATCH),
    (_levels(name=NameLevel.SAME_PINYIN, birth=DateLevel.DAY_MONTH_SWAPPED, phone=PhoneLevel.EXACT), MATCH),
    # strong evidence, but another given name: twins look like this — a person decides
    (_levels(name=NameLevel.SAME_SURNAME_ONLY, phone=PhoneLevel.EXACT), POSSIBLE),
    # the other sex: a person decides, however well the rest agrees
    (_levels(sex=SexLevel.DIFFERENT, idn=IdLevel.ONE_DIGIT_TYPO, phone=PhoneLevel.EXACT), POSSIBLE),
    (_levels(idn=IdLevel.DIFFERENT, phone=PhoneLevel.EXACT), POSSIBLE),
    (_levels(name=NameLevel.DIFFERENT, birth=DateLevel.DIFFERENT, idn=IdLevel.DIFFERENT), NO_MATCH),
])
def test_classify_pair(levels, expected):
    s = score(levels, P)
    assert classify_pair(levels, s.probability, P) == expected


@pytest.mark.parametrize("probability, grade", [(0.9999, "certain"), (0.95, "probable"), (0.2, "possible"),
                                                (0.001, "certainly-not")])
def test_match_grades(probability, grade):
    params = ScoringParams(m=P.m, u=P.u, prior=P.prior, match_threshold=0.99, possible_threshold=0.5,
                           candidate_threshold=0.05)
    assert match_grade(probability, params) == grade
    assert classify(probability, params) == {"certain": MATCH, "probable": POSSIBLE}.get(grade, NO_MATCH)


def test_guarded_pair_is_at_most_probable():
    lv = _levels(name=NameLevel.SAME_SURNAME_ONLY, phone=PhoneLevel.EXACT, idn=IdLevel.EXACT)
    assert grade_pair(lv, 0.99999, P) == "probable"


@pytest.mark.parametrize("bad", [
    {"prior": 0.0}, {"match_threshold": 1.0}, {"possible_threshold": 0.999, "match_threshold": 0.9},
])
def test_invalid_parameters_are_refused(bad):
    data = {**P.to_json(), **bad}
    with pytest.raises(ValueError, match="invalid matching parameters"):
        ScoringParams.from_json(data)


def test_missing_level_in_parameters_is_refused():
    data = P.to_json()
    data["m"] = {**data["m"], "phone": {k: v for k, v in data["m"]["phone"].items() if k != "exact"}}
    with pytest.raises(ValueError, match=r"m\[phone\]\[exact\]"):
        ScoringParams.from_json(data)


# ---------------------------------------------------------------- candidates

def test_two_valid_id_numbers_one_digit_apart_are_different_people():
    from rhip.kit.idcard import make_id_number

    a = PersonFields(name="刘霞", id_number=make_id_number("411530", date(1983, 11, 28), 710))
    b = PersonFields(name="刘霞", id_number=make_id_number("411530", date(1983, 11, 28), 712))
    assert compare_pair(a, b)["id_number"] == IdLevel.DIFFERENT
    typo = a.id_number[:16] + str((int(a.id_number[16]) + 1) % 10) + a.id_number[17]  # check char now wrong
    assert compare_pair(a, PersonFields(name="刘霞", id_number=typo))["id_number"] == IdLevel.ONE_DIGIT_TYPO


def test_fields_of_uses_an_invalid_number_as_keyed():
    p = fields_of("张丽", None, "41153019580314002", "2", date(1958, 3, 14), "138", None, "411530101201", 7)
    assert p.id_number == "41153019580314002" and p.phones == ("138",) and p.household_id == "7"


def test_hashed_keys_hide_the_values_and_keep_the_kind():
    p = PersonFields(name="张丽", id_number="11010519491231002X", birth_date="1949-12-31", phones=("13812345678",))
    keys = hashed_keys(p)
    assert sorted(keys.values()) == ["id", "ph", "py"]
    assert all(isinstance(h, int) and -2 ** 63 <= h < 2 ** 63 for h in keys)
    assert key_hash("py:zhangli:1949") in keys


@pytest.mark.parametrize("kinds, ya, yb, expected", [
    ({"py"}, 1950, 1990, True), ({"hh"}, 1950, 1990, False), ({"vi"}, 1950, 1951, True),
    ({"hh", "vi"}, None, 1990, True), ({"hh", "ph"}, 1950, 1990, True),
])
def test_worth_scoring(kinds, ya, yb, expected):
    assert worth_scoring(kinds, ya, yb) is expected


def test_candidate_pairs_window_weak_blocks():
    hh = "9"
    recs = {
        1: PersonFields(name="王建国", birth_date="1955-08-01", household_id=hh),
        2: PersonFields(name="张丽", birth_date="1958-03-14", household_id=hh),
        3: PersonFields(name="王小宇", birth_date="2022-02-03", household_id=hh),
        4: PersonFields(name="王建国", birth_date="1955-08-01"),  # same pinyin + year as 1
        5: PersonFields(name="王建果", birth_date="1956-01-01", household_id=hh),  # within a year of 1, same household
    }
    pairs = candidate_pairs(recs)
    assert pairs[(1, 4)] == {"py"}
    assert pairs[(1, 5)] == {"hh"}
    assert (1, 2) not in pairs and (1, 3) not in pairs and (2, 3) not in pairs


# ---------------------------------------------------------------- query checks

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize("data, field, code", [
    ({"name": "   "}, "name", "name.empty"),
    ({"name": "###"}, "name", "name.garbage"),
    ({"name": "张3丽"}, "name", "name.digits"),
    ({"name": "张丽", "id_number": "12345X6789"}, "id_number", "id_number.format"),
    ({"name": "张丽", "id_number": "11010519491231002A"}, "id_number", "id_number.format"),
    ({"name": "张丽", "birth_date": "1958-02-30"}, "birth_date", "birth_date.invalid"),
    ({"name": "张丽", "birth_date": "2999-01-01"}, "birth_date", "birth_date.impossible"),
    ({"name": "张丽", "phones": ["12"]}, "phone", "phone.format"),
    ({"name": "张丽", "village_code": "4115"}, "village_code", "village_code.format"),
    ({"sex": "2"}, "name", "query.nothing_to_match"),
])
def test_check_query_refuses_garbage(data, field, code):
    fields, errors = check_query(data, today=TODAY)
    assert fields is None
    assert [(e.field, e.code) for e in errors] == [(field, code)]
    assert errors[0].message_zh and errors[0].message_en


def test_check_query_accepts_a_usable_query():
    fields, errors = check_query({"name": " 张 丽 ", "id_number": "11010519491231002x", "birth_date": "1949-12-31",
                                  "phones": ["138-1234-5678"]}, today=TODAY)
    assert errors == [] and fields.id_number == "11010519491231002X" and fields.birth_date == date(1949, 12, 31)


@pytest.mark.parametrize("count, ok", [(None, True), (1, True), (50, True), (0, False), (51, False),
                                       (True, False), ("5", False)])
def test_check_count(count, ok):
    assert (check_count(count) == []) is ok


# ---------------------------------------------------------------- EM

def _simulate(rng, n, lam, m, u):
    counts = Counter()
    for _ in range(n):
        table = m if rng.random() < lam else u
        pat = []
        for f in fit.FIELDS:
            probs = table[f]
            r, acc, idx = rng.random(), 0.0, len(probs) - 1
            for i, p in enumerate(probs):
                acc += p
                if r < acc:
                    idx = i
                    break
            pat.append(idx)
        counts[tuple(pat)] += 1
    return counts


def test_em_recovers_known_parameters():
    rng = random.Random(3)
    m, u = {}, {}
    for f in fit.FIELDS:  # matches mostly agree (first level), non-matches mostly disagree (before MISSING)
        n = len(fit.LEVEL_VALUES[f])
        mm = np.full(n, 0.02)
        mm[0] = 1 - 0.02 * (n - 1)
        uu = np.full(n, 0.02)
        uu[n - 2] = 1 - 0.02 * (n - 1)
        m[f], u[f] = mm, uu
    counts = _simulate(rng, 40_000, 0.2, m, u)
    lam, m_hat, u_hat, _, post = fit.fit_patterns(counts, fix_u=False, prior_start=0.5)
    assert lam == pytest.approx(0.2, abs=0.01)
    assert m_hat["name"][0] == pytest.approx(m["name"][0] / (1 - m["name"][-1]), abs=0.03)
    assert u_hat["id_number"][4] > 0.8
    w = np.array(list(counts.values()), dtype=float)
    match_t, possible_t = fit.thresholds_from_model(w, post, max_false_link_share=0.001, max_missed_share=0.005)
    assert fit.POSSIBLE_BAND[0] <= possible_t <= fit.POSSIBLE_BAND[1] and fit.MATCH_BAND[0] <= match_t
    assert math.isfinite(match_t)


def test_fit_records_on_a_small_synthetic_set():
    rng = random.Random(5)
    records = {}
    surnames, given = "王李张刘陈杨赵黄周吴", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
    rid = 0
    for i in range(600):
        rid += 1
        name = rng.choice(surnames) + rng.choice(given) + rng.choice(given)
        birth = date(rng.randint(1940, 2010), rng.randint(1, 12), rng.randint(1, 28))
        phone = f"13{rng.randint(0, 999_999_999):09d}"
        village = f"4115301012{rng.randint(10, 19)}"
        records[rid] = PersonFields(name=name, sex=rng.choice("12"), birth_date=birth, phones=(phone,),
                                    village_code=village)
        if i % 10 == 0:  # a second registration with another phone
            rid += 1
            records[rid] = PersonFields(name=name, sex=records[rid - 1].sex, birth_date=birth,
                                        phones=(phone[:-1] + "0",), village_code=village)
    params, extra = fit.fit_records(records, random_pair_count=5_000)
    assert params.fitted["records"] == len(records) and extra["pairs"]
    assert params.weight("name", NameLevel.EXACT) > 0 and params.weight("birth_date", DateLevel.EXACT) > 0


@pytest.mark.parametrize("phone, expected", [(PhoneLevel.MISSING, POSSIBLE), (PhoneLevel.EXACT, MATCH)])
def test_one_character_apart_needs_an_agreeing_number(phone, expected):
    lv = _levels(name=NameLevel.ONE_CHAR_DIFFERENT_SAME_SURNAME, phone=phone)
    assert classify_pair(lv, 0.9999, P) == expected
