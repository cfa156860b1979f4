"""Synthetic Chinese names and place names (rhip.synth.names, rhip.synth.places)."""

from __future__ import annotations

import random
import re
from collections import Counter
from itertools import accumulate

import pytest

from rhip.synth import names as N
from rhip.synth.names import (
    COMPOUND_SURNAMES,
    HOMOPHONES,
    SIMILAR_SHAPE,
    SURNAME_PINYIN_OVERRIDES,
    SURNAMES,
    TRADITIONAL,
    NameSampler,
    given_name_chars,
    surname_of,
)
from rhip.synth.places import (
    TOWNSHIP_CODE_RANGES,
    community_names,
    street_address,
    township_names,
    village_names,
)

SPECIAL_SURNAMES = ("单", "曾", "解", "区", "仇", "朴", "尉迟")
SURNAME_SET = {s for s, _ in SURNAMES}

# Registered population of a rural county in the mid-2020s, births per decade
# (relative): small pre-war cohorts, the 1960s–80s booms, shrinking since.
_DECADE_WEIGHT = {1920: 0.3, 1930: 1.5, 1940: 3.5, 1950: 9, 1960: 16, 1970: 16,
                  1980: 15, 1990: 14, 2000: 11, 2010: 12, 2020: 3}
_YEARS = [y for d in _DECADE_WEIGHT for y in range(d, d + (5 if d == 2020 else 10))]
_YEAR_CUM = list(accumulate(_DECADE_WEIGHT[y // 10 * 10] for y in _YEARS))


def population(rng: random.Random, n: int) -> list[tuple[str, int]]:
    """(sex, birth_year) pairs with a realistic county mix."""
    years = rng.choices(_YEARS, cum_weights=_YEAR_CUM, k=n)
    sexes = rng.choices("12", k=n)
    return list(zip(sexes, years))


def draw_names(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    people = population(rng, n)
    full_name = NameSampler(rng).full_name
    return [full_name(s, y) for s, y in people]


# --------------------------------------------------------------------------- names

def test_same_seed_same_names_different_seed_different_names():
    a, b, c = draw_names(42, 1000), draw_names(42, 1000), draw_names(43, 1000)
    assert a == b
    assert a != c
    assert sum(x != y for x, y in zip(a, c)) > 900


def test_names_are_chinese_and_plausibly_shaped():
    for name in draw_names(1, 20_000):
        assert 2 <= len(name) <= 4
        assert all("\u4e00" <= ch <= "\u9fff" for ch in name), name
        sur = surname_of(name)
        assert sur in SURNAME_SET, name
        assert 1 <= len(name) - len(sur) <= 2, name


def test_special_surnames_in_table_and_drawn():
    weights = dict(SURNAMES)
    for s in SPECIAL_SURNAMES:
        assert weights.get(s, 0) > 0, s
    sampler = NameSampler(random.Random(2024))
    seen = {sampler.surname() for _ in range(2_000_000)}
    assert set(SPECIAL_SURNAMES) <= seen
    assert {"欧阳", "上官", "司马", "诸葛"} <= seen


def test_surname_table_shape():
    assert 280 <= len(SURNAMES) <= 400
    assert [s for s, _ in SURNAMES[:10]] == list("王李张刘陈杨黄赵吴周")
    weights = [w for _, w in SURNAMES]
    assert all(w > 0 for w in weights)
    assert len(SURNAME_SET) == len(SURNAMES)
    assert {"欧阳", "上官", "司马", "诸葛", "尉迟", "东方", "皇甫", "令狐"} <= SURNAME_SET


def test_surname_pinyin_overrides():
    expected = {"单": "shan", "曾": "zeng", "解": "xie", "区": "ou", "仇": "qiu", "朴": "piao",
                "尉迟": "yuchi", "查": "zha", "盖": "ge", "缪": "miao", "覃": "qin", "翟": "zhai",
                "万俟": "moqi", "长孙": "zhangsun"}
    for s, py in expected.items():
        assert SURNAME_PINYIN_OVERRIDES[s] == py
    assert all(re.fullmatch(r"[a-z]+", v) for v in SURNAME_PINYIN_OVERRIDES.values())


def test_top_surname_shares():
    sampler = NameSampler(random.Random(7))
    counts = Counter(sampler.surname() for _ in range(200_000))
    for s in "王李张":
        assert 0.05 <= counts[s] / 200_000 <= 0.08, (s, counts[s])
    assert 0.045 <= counts["刘"] / 200_000 <= 0.065
    top5 = sum(counts[s] for s in "王李张刘陈") / 200_000
    assert 0.28 <= top5 <= 0.36  # census: about 31%
    assert counts["王"] > counts["杨"] > counts["徐"] > counts["罗"] > counts["欧"]


def test_diversity_of_a_million_names():
    """Measured for seeds 1–3: most common name 271–280 times (王华, 李伟 …),
    ~677,600 distinct names, 42.2% of people share their full name with someone
    (single-character given names account for nearly half of that).  Real counties:
    the commonest names (张伟, 王伟, 王芳, 李伟 …) reach a few hundred per million;
    a sizeable minority, but far from all, share their name."""
    names = draw_names(1, 1_000_000)
    counts = Counter(names)
    (top_name, top_count), = counts.most_common(1)
    assert top_count < 400, (top_name, top_count)
    assert len(counts) >= 640_000
    shared = sum(c for c in counts.values() if c > 1) / len(names)
    assert 0.30 <= shared <= 0.55, shared
    # the commonest names are common surname + one-character given name
    for name, _ in counts.most_common(20):
        assert name[0] in "王李张刘陈" and len(name) == 2, name


def test_given_name_length_depends_on_era():
    sampler = NameSampler(random.Random(5))

    def single_share(year: int) -> float:
        gs = [sampler.given(sex, year) for sex in "12" for _ in range(20_000)]
        return sum(len(g) == 1 for g in gs) / len(gs)

    s1985, s2005 = single_share(1985), single_share(2005)
    assert 0.20 <= s1985 <= 0.32
    assert 0.08 <= s2005 <= 0.16
    assert 0.12 <= single_share(1950) <= 0.24


def test_given_name_pools_depend_on_sex_and_era():
    sampler = NameSampler(random.Random(11))

    def char_share(sex: str, year: int, chars: str) -> float:
        gs = [sampler.given(sex, year) for _ in range(20_000)]
        return sum(any(c in g for c in chars) for g in gs) / len(gs)

    old_female, young_female = "秀英兰珍桂凤", "涵怡萱梓琪馨"
    assert char_share("2", 1945, old_female) > 5 * char_share("2", 2015, old_female)
    assert char_share("2", 2015, young_female) > 5 * char_share("2", 1945, young_female)
    revolutionary = "建国军卫红兵"
    assert char_share("1", 1958, revolutionary) > 3 * char_share("1", 2012, revolutionary)
    assert char_share("1", 1960, "秀英兰芳") < char_share("2", 1960, "秀英兰芳") / 3


def test_other_sex_codes_and_out_of_range_years():
    sampler = NameSampler(random.Random(3))
    for sex in ("0", "9"):
        assert all(1 <= len(sampler.given(sex, 1980)) <= 2 for _ in range(200))
    assert sampler.full_name("1", 1850)
    assert sampler.full_name("2", 2100)


def test_full_name_never_reads_as_a_compound_surname(monkeypatch):
    # Force surname 欧 and a first-position pool containing 阳: 欧 + 阳光 would
    # read as 欧阳 + 光, so the sampler must redraw the first character.
    monkeypatch.setattr(N, "_SURNAME_CHARS", ("欧",))
    monkeypatch.setattr(N, "_SURNAME_CUM", (1.0,))
    profile = (0.0, 0.0, ("x",), (1.0,), ("xx",), (1.0,), ("阳", "明"), (0.5, 1.0), ("光",), (1.0,))
    monkeypatch.setattr(N, "_MALE_BY_YEAR", (profile,) * (N.MAX_YEAR - N.MIN_YEAR + 1))
    sampler = NameSampler(random.Random(8))
    assert {sampler.full_name("1", 1990) for _ in range(500)} == {"欧明光"}


def test_generated_surnames_parse_back():
    rng = random.Random(8)
    sampler = NameSampler(rng)
    for sex, year in population(rng, 200_000):
        name = sampler.full_name(sex, year)
        assert surname_of(name) in SURNAME_SET, name


def test_surname_of():
    assert surname_of("张伟") == "张"
    assert surname_of("欧阳娜") == "欧阳"
    assert surname_of("尉迟恭") == "尉迟"
    assert surname_of("司马相如") == "司马"
    assert surname_of("欧阳") == "欧"  # surname 欧, given name 阳
    assert surname_of("单于飞") == "单于"
    assert surname_of("") == ""
    assert "尉迟" in COMPOUND_SURNAMES


def test_homophone_tables():
    assert "莉" in HOMOPHONES["丽"]
    assert "玮" in HOMOPHONES["伟"]
    assert "晶" in HOMOPHONES["静"]
    for c, alts in HOMOPHONES.items():
        assert c not in alts and len(alts) == len(set(alts)), c
    assert set(SIMILAR_SHAPE["己"]) == {"已", "巳"}
    assert "未" in SIMILAR_SHAPE["末"] and "土" in SIMILAR_SHAPE["士"] and "曰" in SIMILAR_SHAPE["日"]
    assert TRADITIONAL["华"] == "華" and TRADITIONAL["国"] == "國"
    assert all(k != v for k, v in TRADITIONAL.items())
    # every character the sampler can produce has at least one typo variant
    chars = given_name_chars()
    assert len(chars) >= 400
    missing = sorted(c for c in chars if c not in HOMOPHONES and c not in SIMILAR_SHAPE
                     and c not in TRADITIONAL)
    assert not missing
    # and almost all have a true homophone
    assert sum(c in HOMOPHONES for c in chars) / len(chars) > 0.98


def test_homophone_variant_changes_exactly_one_given_name_character():
    rng = random.Random(99)
    sampler = NameSampler(rng)
    homophone_changes = 0
    for sex, year in population(rng, 1000):
        name = sampler.full_name(sex, year)
        variant = sampler.homophone_variant(name)
        assert variant != name
        assert len(variant) == len(name)
        sur = surname_of(name)
        assert surname_of(variant) == sur, (name, variant)
        diffs = [i for i, (a, b) in enumerate(zip(name, variant)) if a != b]
        assert len(diffs) == 1 and diffs[0] >= len(sur), (name, variant)
        i = diffs[0]
        if variant[i] in HOMOPHONES.get(name[i], ()):
            homophone_changes += 1
    assert homophone_changes >= 800  # mostly pinyin-IME typos, some shape/traditional


def test_homophone_variant_examples_and_errors():
    sampler = NameSampler(random.Random(1))
    for name in ("张丽", "王伟", "刘静"):
        variants = {sampler.homophone_variant(name) for _ in range(200)}
        assert name not in variants
        assert {"张莉", "王玮", "刘晶"} & variants
    assert {sampler.homophone_variant("欧阳娜")[:2] for _ in range(50)} == {"欧阳"}
    # 洋 → 阳 would turn 欧洋光 into 欧阳光 (surname 欧阳): never offered
    assert "阳" in HOMOPHONES["洋"]
    assert all(surname_of(sampler.homophone_variant("欧洋光")) == "欧" for _ in range(300))
    with pytest.raises(ValueError):
        sampler.homophone_variant("王")


def test_homophone_variant_is_deterministic():
    names = draw_names(5, 300)
    a = [NameSampler(random.Random(6)).homophone_variant(n) for n in names]
    b = [NameSampler(random.Random(6)).homophone_variant(n) for n in names]
    assert a == b


# --------------------------------------------------------------------------- places

def test_township_names():
    towns = township_names(random.Random(1), 25)
    assert len(towns) == 25
    assert towns[0] == ("城关镇", "town")
    names = [n for n, _ in towns]
    assert len(set(names)) == 25
    assert len({n[:-1] for n in names}) == 25  # no 白塔镇 next to 白塔乡
    for name, kind in towns:
        assert kind in ("town", "township")
        assert name.endswith("镇" if kind == "town" else "乡"), (name, kind)
        assert 2 <= len(name) - 1 <= 4
    kinds = Counter(k for _, k in towns)
    assert kinds["town"] >= 5 and kinds["township"] >= 5
    assert township_names(random.Random(1), 25) == towns
    assert township_names(random.Random(2), 25) != towns
    assert township_names(random.Random(1), 0) == []
    assert TOWNSHIP_CODE_RANGES["town"] == (100, 199)
    assert TOWNSHIP_CODE_RANGES["township"] == (200, 399)


def test_village_and_community_names_unique_across_county():
    rng = random.Random(12)
    used: set[str] = set()
    communities = community_names(rng, 15, used)
    villages = [v for _ in range(20) for v in village_names(rng, 30, used=used)]
    assert len(villages) == 600 and len(set(villages)) == 600
    assert len(communities) == 15 and len(set(communities)) == 15
    assert not set(villages) & set(communities)
    assert used == set(villages) | set(communities)
    assert all(v.endswith("村") and 3 <= len(v) <= 7 for v in villages)
    assert all(c.endswith("社区") and 4 <= len(c) <= 7 for c in communities)
    # a realistic mix: lineage names (王庄村, 李家湾村) dominate but are not everything
    lineage = sum(v[0] in "王李张刘陈杨黄赵吴周" or v[1:2] in "王李张刘陈杨黄赵吴周" for v in villages)
    assert 0.15 <= lineage / 600 <= 0.6


def test_village_names_respect_preexisting_used_and_saturate_gracefully():
    used = {"红星村", "前进村"}
    rng = random.Random(4)
    villages = village_names(rng, 5000, used=used)
    assert len(set(villages)) == 5000
    assert "红星村" not in villages and "前进村" not in villages
    communities = community_names(rng, 150, set())  # more than the plain pool: numbered
    assert len(set(communities)) == 150
    assert all(c.endswith("社区") for c in communities)


def test_place_names_deterministic():
    a = village_names(random.Random(8), 100, used=set())
    b = village_names(random.Random(8), 100, used=set())
    assert a == b
    assert community_names(random.Random(8), 10, set()) == community_names(random.Random(8), 10, set())


def test_street_address():
    rng = random.Random(3)
    groups = Counter()
    for _ in range(2000):
        addr = street_address(rng, "王庄村")
        m = re.fullmatch(r"王庄村(\d+)组(\d+)号", addr)
        assert m, addr
        g, h = int(m[1]), int(m[2])
        assert 1 <= g <= 12 and 1 <= h <= 80
        groups[g] += 1
    assert groups[1] > groups[10]  # small villages (few groups) are commoner
    assert re.fullmatch(r"建设路社区\d+号楼\d单元[1-6]0[1-3]室", street_address(rng, "建设路社区"))
    assert street_address(random.Random(1), "李家湾村") == street_address(random.Random(1), "李家湾村")
