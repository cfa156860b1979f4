"""Pure contract rules, table-driven: key-population classification, contract dates, packages, fulfilment."""

from __future__ import annotations

from datetime import date

import pytest

from rhip.contracts import rules
from rhip.contracts.rules import ConditionFact as C
from rhip.contracts.rules import ResidentFacts as F

ON = date(2026, 11, 23)


def pops(facts: F, on: date = ON) -> dict[str, str]:
    return {m.population: m.reason_zh for m in rules.classify(facts, on)}


@pytest.mark.parametrize("facts, expected", [
    # age boundaries: 65 on the birthday, not the day before; a 29 February birth turns 65 on 1 March
    (F(date(1961, 11, 23)), {"elderly65": "年龄 65"}),
    (F(date(1961, 11, 24)), {}),
    (F(date(1960, 2, 29)), {"elderly65": "年龄 66"}),
    (F(date(2020, 11, 23)), {"child0_6": "年龄 6（2020-11-23 出生）"}),
    (F(date(2019, 11, 23)), {}),  # seven today: no longer a child 0–6
    (F(date(2026, 11, 1)), {"child0_6": "年龄 0（2026-11-01 出生）"}),
    # diagnoses: ranges I10–I15, E11, A15–A19, the SMI list; the earliest diagnosis is the reason
    (F(date(1980, 1, 1), conditions=(C("I10", date(2025, 3, 2)), C("I11.9", date(2024, 5, 1)))),
     {"hypertension": "I11.9 诊断于 2024-05-01"}),
    (F(date(1980, 1, 1), conditions=(C("I15.0", date(2025, 3, 2)),)), {"hypertension": "I15.0 诊断于 2025-03-02"}),
    (F(date(1980, 1, 1), conditions=(C("I16", date(2025, 3, 2)), C("I09", date(2025, 3, 2)))), {}),
    (F(date(1980, 1, 1), conditions=(C("E11.9", date(2025, 3, 2)),)), {"diabetes": "E11.9 诊断于 2025-03-02"}),
    (F(date(1980, 1, 1), conditions=(C("E10.9", date(2025, 3, 2)),)), {}),  # type 1 is not a key population
    (F(date(1980, 1, 1), conditions=(C("A16.2", date(2026, 9, 1)),)), {"tb": "A16.2 诊断于 2026-09-01"}),
    (F(date(1980, 1, 1), conditions=(C("F20.0", None),)), {"smi": "F20.0 诊断（日期不详）"}),
    (F(date(1980, 1, 1), conditions=(C("F32", date(2025, 1, 1)),)), {}),  # depression is not an SMI
    # inactive, refuted or future diagnoses do not count
    (F(date(1980, 1, 1), conditions=(C("I10", date(2025, 3, 2), "resolved"),)), {}),
    (F(date(1980, 1, 1), conditions=(C("I10", date(2025, 3, 2), "active", "refuted"),)), {}),
    (F(date(1980, 1, 1), conditions=(C("I10", date(2026, 12, 1)),)), {}),
    # registry facts
    (F(date(1980, 1, 1), disability="4", poverty_registered=True, fp_special_family=True),
     {"disabled": "残疾类别 4", "poor": "建档立卡贫困人口", "fp_special": "计生特殊家庭"}),
    # the dead and the moved-away are in no population
    (F(date(1940, 1, 1), status="deceased", conditions=(C("I10", date(2025, 3, 2)),)), {}),
])
def test_classification(facts, expected):
    assert pops(facts) == expected


@pytest.mark.parametrize("conditions, sex, expected", [
    ((C("Z34.0", date(2026, 6, 1)),), "2", "妊娠 Z34.0 记录于 2026-06-01"),
    ((C("Z34.0", date(2026, 6, 1)),), "1", None),  # a pregnancy code on a man's record is not trusted
    ((C("Z34.0", date(2025, 1, 1)),), "2", None),  # more than 42 weeks ago
    ((C("Z34.0", date(2026, 2, 1)), C("O80", date(2026, 10, 20))), "2", "产后34天（2026-10-20 分娩）"),
    ((C("Z34.0", date(2026, 2, 1)), C("O80", date(2026, 10, 12))), "2", "产后42天（2026-10-12 分娩）"),  # last day
    ((C("Z34.0", date(2026, 2, 1)), C("O80", date(2026, 10, 11))), "2", None),
])
def test_pregnancy_and_postpartum(conditions, sex, expected):
    assert pops(F(date(1995, 1, 1), sex=sex, conditions=conditions)).get("pregnant") == expected


def test_reasons_in_english_and_since_dates():
    m = rules.classify(F(date(1950, 3, 1), conditions=(C("I10", date(2025, 3, 2)),)), ON)
    assert [(x.population, x.since, x.reason_en) for x in m] == [
        ("elderly65", date(2015, 3, 1), "aged 76"), ("hypertension", date(2025, 3, 2), "I10 diagnosed on 2025-03-02")]


PARAMS = rules.catalogue_on(ON).params


@pytest.mark.parametrize("start, end, consent, codes", [
    (None, None, ON, []),
    (date(2026, 10, 24), None, date(2026, 10, 24), []),  # 30 days back is allowed (a paper form keyed later)
    (date(2026, 10, 23), None, date(2026, 10, 23), ["start_date.too_early"]),
    (date(2027, 2, 21), None, ON, []),  # 90 days ahead
    (date(2027, 2, 22), None, ON, ["start_date.too_late"]),
    (ON, date(2026, 11, 1), ON, ["end_date.before_start"]),
    (ON, date(2026, 12, 1), ON, ["end_date.length"]),
    (ON, date(2029, 12, 1), ON, ["end_date.length"]),
    (ON, None, date(2026, 11, 24), ["consent_date.future"]),
    (date(2026, 11, 1), None, date(2026, 11, 2), ["consent_date.after_start"]),
])
def test_contract_terms(start, end, consent, codes):
    term, errors = rules.check_term(start, end, today=ON, params=PARAMS, consent_date=consent)
    assert [e.code for e in errors] == codes
    if not codes:
        assert term.end == rules.default_end(term.start, 12)


@pytest.mark.parametrize("start, end", [
    (date(2026, 3, 1), date(2027, 2, 28)), (date(2024, 2, 29), date(2025, 2, 28)),
    (date(2026, 1, 31), date(2027, 1, 30)),
])
def test_one_contract_year(start, end):
    assert rules.default_end(start, 12) == end


@pytest.mark.parametrize("method, witness, codes", [
    ("written", None, []), ("e_signature", None, []), ("verbal_witnessed", "李四", []),
    ("verbal_witnessed", " ", ["consent_witness.required"]), ("fax", None, ["consent_method.unknown"]),
    (None, None, ["consent_method.unknown"]),
])
def test_consent(method, witness, codes):
    assert [e.code for e in rules.check_consent(method, witness)] == codes


CAT = rules.catalogue_on(ON)


@pytest.mark.parametrize("codes, populations, expected", [
    (["basic"], set(), []),
    (["basic", "hypertension"], {"hypertension"}, []),
    (["basic", "hypertension"], {"diabetes"}, ["package.not_eligible"]),
    (["hypertension"], {"hypertension"}, ["packages.basic"]),
    ([], set(), ["packages.required"]),
    (["basic", "basic"], set(), ["packages.duplicate"]),
    (["basic", "massage"], set(), ["package.unknown"]),
])
def test_packages(codes, populations, expected):
    assert [e.code for e in rules.check_packages(CAT, codes, populations)] == expected


def test_catalogue_prices_add_up_and_promises_take_the_largest():
    for p in CAT.packages.values():
        assert sum(p.payers.values()) == pytest.approx(p.price)
    assert rules.promised_services(CAT, ["basic", "hypertension", "diabetes", "elderly"]) == {
        "contact": 2, "followup": 4, "physical_exam": 1, "home_visit": 1}


Y = (date(2026, 1, 1), date(2026, 12, 31))


@pytest.mark.parametrize("promised, delivered, on, expect", [
    # (promised per year, delivered, as of) → (expected by now, delivered capped, overdue services, 签而不约)
    ({"followup": 4}, {}, date(2026, 2, 15), (0, 0, (), False)),  # nothing due yet
    ({"followup": 4}, {}, date(2026, 5, 1), (1, 0, ("followup",), True)),  # first due 04-01, +30 days grace
    ({"followup": 4}, {}, date(2026, 4, 30), (0, 0, (), False)),
    ({"followup": 4}, {"followup": 1}, date(2026, 5, 1), (1, 1, (), False)),
    ({"followup": 4, "physical_exam": 1}, {"physical_exam": 1}, date(2026, 8, 1), (2, 1, ("followup",), False)),
    ({"followup": 4}, {"followup": 9}, date(2026, 12, 31), (3, 4, (), False)),  # 10-01 + 30 days passed  # capped at what was promised
    ({"physical_exam": 1}, {}, date(2027, 1, 30), (1, 0, ("physical_exam",), True)),
])
def test_fulfilment(promised, delivered, on, expect):
    f = rules.fulfilment(promised, delivered, *Y, on, grace_days=30)
    assert (f.expected, f.delivered, f.overdue, f.signed_not_served) == expect
    assert f.promised == sum(promised.values())
    assert f.rate == round(f.delivered / f.promised, 4)


def test_due_dates_spread_over_the_term_and_pro_rata_promises():
    assert rules.due_dates(4, *Y) == (date(2026, 4, 1), date(2026, 7, 1), date(2026, 10, 1), date(2026, 12, 31))
    assert rules.promised_over(4, date(2026, 7, 1), date(2026, 12, 31)) == 2
    assert rules.promised_over(1, date(2026, 12, 1), date(2026, 12, 31)) == 1


def test_status_as_of_and_in_force():
    assert rules.status_on("active", date(2026, 11, 22), ON) == "expired"
    assert rules.status_on("active", ON, ON) == "active"
    assert rules.in_force(date(2026, 1, 1), date(2026, 12, 31), date(2026, 5, 31), date(2026, 6, 1)) is False
    assert rules.in_force(date(2026, 1, 1), date(2026, 12, 31), None, date(2026, 12, 31)) is True
