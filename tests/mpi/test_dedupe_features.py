"""Derived columns for Splink (table-driven) and the pairwise scoring of clusterings."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from rhip.mpi.dedupe_eval import pairwise_scores
from rhip.mpi.dedupe_features import (
    FEATURE_COLUMNS, address_features, build_features, date_features, id_features, name_features,
)

TODAY = date(2026, 11, 1)


@pytest.mark.parametrize("raw,norm,py,sur_py,given_sorted", [
    ("张丽", "张丽", "zhangli", "zhang", None),
    ("張 麗", "张丽", "zhangli", "zhang", None),
    ("单田芳", "单田芳", "shantianfang", "shan", "fang tian"),
    ("欧阳娜娜", "欧阳娜娜", "ouyangnana", "ouyang", "na na"),
    ("曾　国藩", "曾国藩", "zengguofan", "zeng", "fan guo"),
    ("阿依古丽·买买提", "阿依古丽·买买提", "ayigulimaimaiti", None, None),
])
def test_name_features(raw, norm, py, sur_py, given_sorted):
    got = name_features(raw)
    assert (got[0], got[1], got[3], got[6]) == (norm, py, sur_py, given_sorted)


@pytest.mark.parametrize("raw", ["", "无", "不详", "123", "???", "张#丽", None])
def test_unusable_names(raw):
    assert name_features(raw) is None


def test_one_char_given_names_that_look_alike_share_a_shape_key():
    assert name_features("王己")[7] == name_features("王已")[7]
    assert name_features("王丽")[7] != name_features("王强")[7]


@pytest.mark.parametrize("raw,expected", [
    ("11010519491231002X", ("11010519491231002", "X", "11010519491231")),
    ("１１０１０５１９４９１２３１００２ｘ", ("11010519491231002", "X", "11010519491231")),
    ("110105491231002", ("11010519491231002", None, "11010519491231")),
    ("11010519491231002", None),
    ("1101051949123100XX", None),
    ("abc", None),
])
def test_id_features(raw, expected):
    got = id_features(raw)
    assert (got[:3] if got else None) == expected


@pytest.mark.parametrize("raw,dob,swap", [
    ("1980-03-05", "1980-03-05", "1980-05-03"),
    ("19800305", "1980-03-05", "1980-05-03"),
    ("1980年3月5日", "1980-03-05", "1980-05-03"),
    ("1980-03-03", "1980-03-03", None),
    ("1980-03-25", "1980-03-25", None),
    ("1980-02-30", None, None),   # impossible: treated as missing
    ("2030-01-01", None, None),   # in the future
    ("1700-01-01", None, None),
    ("not a date", None, None),
])
def test_date_features(raw, dob, swap):
    got = date_features(raw, TODAY)
    assert (got[0], got[1]) == (dob, swap) if dob else got is None


@pytest.mark.parametrize("raw,town,village", [
    ("城关镇王庄村3组27号", "城关镇", "王庄村"),
    ("安徽省阜阳市某某县城关镇王庄村3组", "城关镇", "王庄村"),
    ("王庄村3组", None, "王庄村"),
    ("东关街道建设路社区5号楼", "东关街道", "建设路社区"),
    ("新村镇李家村", "新村镇", "李家村"),
])
def test_address_features(raw, town, village):
    _, t, v = address_features(raw)
    assert (t, v) == (town, village)


def test_build_features_counts_faults_and_keeps_every_row():
    frame = pd.DataFrame({
        "record_id": ["1", "2", "3", "4"],
        "name": ["张丽", "无", None, "李#"],
        "id_number": ["11010519491231002X", "12AB", None, ""],
        "sex": ["2", "x", "0", None],
        "birth_date": ["1949-12-31", "1949-02-30", "", None],
        "phone": ["13800138000", "无", None, "0571-88881234"],
        "address": [None, "王庄村", None, None],
    })
    feats, faults = build_features(frame, today=TODAY)
    assert list(feats.columns) == list(FEATURE_COLUMNS) and len(feats) == 4
    assert faults.counts == {"name": 2, "id_number": 1, "birth_date": 1, "sex": 1, "phone": 1}
    assert feats.loc[1, "id17"] is None and feats.loc[1, "dob"] is None
    assert feats.loc[3, "phone8"] == "88881234"
    assert all("按缺失处理" in line and "treated as missing" in line for line in faults.lines())


@pytest.mark.parametrize("predicted,truth,p,r", [
    ([1, 1, 2, 3], [1, 1, 2, 3], 1.0, 1.0),
    ([1, 1, 1, 3], [1, 1, 2, 3], 1 / 3, 1.0),
    ([1, 2, 3, 4], [1, 1, 2, 2], 1.0, 0.0),
    (["a", "a", "b", "b"], [1, 1, 1, 2], 0.5, 1 / 3),
])
def test_pairwise_scores(predicted, truth, p, r):
    s = pairwise_scores(pd.Series(predicted), pd.Series(truth))
    assert s.precision == pytest.approx(p) and s.recall == pytest.approx(r)
