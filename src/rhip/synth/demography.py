"""Pure demographic rules of the synthetic county: household shapes, mortality, disability, phones."""

from __future__ import annotations

import math
import random

# Household shapes of a rural ageing county (weights), each a function of rng → [(relation, sex, age, may_be_away)].
# Relations are GB/T 4761 codes (02 head, 10 spouse, 20 son, 30 daughter, 40 grandchild, 50 parent, 80 child-in-law).


def _ri(rng: random.Random, lo: int, hi: int) -> int:
    """_ri(rng, lo, hi) at a third of the cost (this runs for every person of the county)."""
    return lo + int(rng.random() * (hi - lo + 1))


def _pick(rng: random.Random, values: tuple, cum: tuple) -> object:
    r = rng.random() * cum[-1]
    for v, c in zip(values, cum):
        if r < c:
            return v
    return values[-1]


def _couple(rng: random.Random, head_age: int) -> list[tuple[str, str, int, bool]]:
    wife_age = max(18, head_age - max(-3, round(2 + 2.5 * (rng.random() + rng.random() + rng.random() - 1.5) * 2)))
    return [("02", "1", head_age, False), ("10", "2", wife_age, False)]


def _child_sex(rng: random.Random) -> str:
    return "1" if rng.random() < 0.53 else "2"  # rural sex ratio at birth ~ 113


def _children(rng: random.Random, mother_age: int, n: int, *, max_age: int = 40) -> list[tuple[str, str, int, bool]]:
    out = []
    for _ in range(n):
        age = mother_age - _ri(rng, 21, 36)
        if 0 <= age <= max_age:
            sex = _child_sex(rng)
            out.append(("20" if sex == "1" else "30", sex, age, age >= 18))
    return out


def elderly_alone(rng):
    age = _ri(rng, 65, 95)
    return [("02", "2" if rng.random() < 0.62 else "1", age, False)]


def elderly_couple(rng):
    return _couple(rng, _ri(rng, 66, 90))


def empty_nest(rng):
    hh = _couple(rng, _ri(rng, 45, 65))
    if rng.random() < 0.45:  # a grown child registered here but working away
        hh += _children(rng, hh[1][2], 1, max_age=40)
    return hh


def young_family(rng):
    hh = _couple(rng, _ri(rng, 26, 48))
    return hh + _children(rng, hh[1][2], _pick(rng, (1, 2, 3), (0.42, 0.90, 1.0)), max_age=22)


def three_generations(rng):
    grand = _couple(rng, _ri(rng, 52, 82))
    if rng.random() < 0.25:
        grand = grand[:1] if rng.random() < 0.5 else grand[1:]  # one grandparent widowed
        grand[0] = ("02", grand[0][1], grand[0][2], False)
    g_age = grand[-1][2]
    parent_age = max(20, g_age - _ri(rng, 22, 32))
    son = ("20", "1", parent_age, True)
    dil = ("80", "2", max(20, parent_age - _ri(rng, 0, 4)), True)
    kids = [("40", _child_sex(rng), a, False) for a in
            (parent_age - _ri(rng, 20, 34) for _ in range(_pick(rng, (1, 2, 3), (0.45, 0.90, 1.0)))) if a >= 0]
    return grand + [son, dil] + kids


def single_adult(rng):
    return [("02", "1" if rng.random() < 0.7 else "2", _ri(rng, 22, 64), True)]


HOUSEHOLD_SHAPES = (
    (elderly_alone, 0.08), (elderly_couple, 0.10), (empty_nest, 0.19), (young_family, 0.30),
    (three_generations, 0.23), (single_adult, 0.10),
)
SHAPE_FUNCS = tuple(f for f, _ in HOUSEHOLD_SHAPES)
SHAPE_CUM = tuple(math.fsum(w for _, w in HOUSEHOLD_SHAPES[: i + 1]) for i in range(len(HOUSEHOLD_SHAPES)))


def away_probability(age: int) -> float:
    """Share of registered adults living elsewhere for work (外出务工), by age."""
    if age < 18 or age > 55:
        return 0.0
    if age <= 40:
        return 0.42
    return 0.22


def death_probability(age: int, years: int) -> float:
    """Probability that a person now ``age`` (if alive) would have died within the last ``years`` years.

    Gompertz hazard fitted roughly to rural China life tables (q ≈ 1.8 % at 80, 4.5 % at 90).
    """
    hazard = 0.00022 * math.exp(0.088 * (age - 30)) + (0.004 if age == 0 else 0.0)
    return 1 - math.exp(-years * min(hazard, 0.35))


def disability_probability(age: int) -> float:
    if age < 15:
        return 0.01
    if age < 60:
        return 0.03
    if age < 80:
        return 0.10
    return 0.20


DISABILITY_CATS = ("4", "2", "1", "7", "6", "5", "3")
DISABILITY_CUM = (0.30, 0.55, 0.70, 0.83, 0.91, 0.98, 1.0)
GRADE_CUM = (0.10, 0.30, 0.60, 1.0)

MOBILE_PREFIXES = ("130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153",
                   "155", "156", "157", "158", "159", "166", "173", "176", "177", "180", "181", "182", "183", "185",
                   "186", "187", "188", "189", "191", "198", "199")


def phone_probability(age: int) -> float:
    if age < 14:
        return 0.0
    if age < 18:
        return 0.5
    if age <= 70:
        return 0.93
    if age <= 80:
        return 0.6
    return 0.35


ETHNIC_CODES = ("01", "03", "06", "11", "08", "15")
ETHNIC_CUM = (0.985, 0.993, 0.995, 0.997, 0.999, 1.0)
