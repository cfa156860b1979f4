"""Fellegi–Sunter scoring over the comparison levels of ``rules`` (pure: no database, no I/O but
reading the parameter file).

For every field and comparison level the parameters hold *m* = P(level | same person) and *u* =
P(level | different people). A pair's match weight is ``log2(λ/(1-λ)) + Σ log2(m/u)`` over its fields
(a MISSING level adds nothing), and its match probability is ``1 / (1 + 2^-weight)``; λ is the share of
true matches among candidate pairs found by blocking.

Classification uses two probability thresholds: at or above ``match_threshold`` the pair is linked
automatically, at or above ``possible_threshold`` it is queued for review, below it is no match. The
parameters and thresholds are fitted on data (``rhip.mpi.fit``: EM over blocked candidate pairs) and
stored in ``data/fs_params.json``; docs/decisions/0006-mpi-online-matching.md says how.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rhip.mpi.rules import COMPARISON_FIELDS
from rhip.mpi.rules_levels import (
    DateLevel, HouseholdLevel, IdLevel, Level, NameLevel, PhoneLevel, SexLevel, VillageLevel,
)

__all__ = [
    "FIELD_LEVELS", "ScoringParams", "Score", "score", "classify", "classify_pair", "match_grade", "load_params",
    "DEFAULT_PARAMS_PATH", "MATCH", "POSSIBLE", "NO_MATCH", "GRADES",
]

DEFAULT_PARAMS_PATH = Path(__file__).resolve().parent / "data" / "fs_params.json"

#: The level Enum of each compared field, in ``COMPARISON_FIELDS`` order.
FIELD_LEVELS: dict[str, type[Level]] = {
    "name": NameLevel, "id_number": IdLevel, "sex": SexLevel, "birth_date": DateLevel, "phone": PhoneLevel,
    "village": VillageLevel, "household": HouseholdLevel,
}
assert tuple(FIELD_LEVELS) == COMPARISON_FIELDS

MATCH, POSSIBLE, NO_MATCH = "match", "possible", "no_match"
#: FHIR match grades (http://hl7.org/fhir/ValueSet/match-grade), best first.
GRADES = ("certain", "probable", "possible", "certainly-not")
_FLOOR = 1e-6  # smallest m or u used in a weight: an estimate of 0 must not give an infinite weight


@dataclass(frozen=True)
class ScoringParams:
    """m and u per field and (non-missing) level value, the prior λ and the thresholds."""

    m: dict[str, dict[str, float]]
    u: dict[str, dict[str, float]]
    prior: float
    match_threshold: float
    possible_threshold: float
    candidate_threshold: float  # $match reports grade "possible" from here (below: certainly-not, left out)
    fitted: dict = field(default_factory=dict)  # how, when and on what the parameters were fitted

    def __post_init__(self) -> None:
        problems = []
        for f, levels in FIELD_LEVELS.items():
            for lv in levels:
                if lv.is_missing:
                    continue
                for name, table in (("m", self.m), ("u", self.u)):
                    v = table.get(f, {}).get(lv.value)
                    if v is None or not 0 <= v <= 1:
                        problems.append(f"{name}[{f}][{lv.value}] = {v!r}")
        if not 0 < self.prior < 1:
            problems.append(f"prior = {self.prior!r}")
        if not 0 < self.candidate_threshold <= self.possible_threshold <= self.match_threshold < 1:
            problems.append("thresholds must satisfy 0 < candidate <= possible <= match < 1, got "
                            f"{self.candidate_threshold}, {self.possible_threshold}, {self.match_threshold}")
        if problems:
            raise ValueError("invalid matching parameters: " + "; ".join(problems))
        weights = {f: {lv: math.log2(max(self.m[f][lv], _FLOOR) / max(self.u[f][lv], _FLOOR))
                       for lv in self.m[f]} for f in FIELD_LEVELS}
        object.__setattr__(self, "_weights", weights)
        object.__setattr__(self, "_prior_weight", math.log2(self.prior / (1 - self.prior)))

    def weight(self, field_name: str, level: Level) -> float:
        """log2(m/u) of one field's level; 0 for MISSING."""
        if level.is_missing:
            return 0.0
        return self._weights[field_name][level.value]  # type: ignore[attr-defined]

    @property
    def prior_weight(self) -> float:
        return self._prior_weight  # type: ignore[attr-defined]

    def to_json(self) -> dict:
        return {"prior": self.prior, "match_threshold": self.match_threshold,
                "possible_threshold": self.possible_threshold, "candidate_threshold": self.candidate_threshold,
                "m": self.m, "u": self.u, "fitted": self.fitted}

    @classmethod
    def from_json(cls, data: dict) -> "ScoringParams":
        return cls(m=data["m"], u=data["u"], prior=data["prior"], match_threshold=data["match_threshold"],
                   possible_threshold=data["possible_threshold"],
                   candidate_threshold=data["candidate_threshold"], fitted=data.get("fitted", {}))


@dataclass(frozen=True, slots=True)
class Score:
    weight: float  # total match weight (log2 odds)
    probability: float
    contributions: dict[str, float]  # field → log2(m/u)


def _probability(weight: float) -> float:
    if weight > 60:
        return 1.0
    if weight < -60:
        return 0.0
    return 1.0 / (1.0 + 2.0 ** -weight)


def score(levels: dict[str, Level], params: ScoringParams) -> Score:
    """Match weight and probability of one comparison vector (``rules.compare_records``)."""
    contributions = {f: params.weight(f, lv) for f, lv in levels.items()}
    total = params.prior_weight + sum(contributions.values())
    return Score(total, _probability(total), contributions)


def classify(probability: float, params: ScoringParams) -> str:
    """MATCH (link automatically), POSSIBLE (queue for review) or NO_MATCH."""
    if probability >= params.match_threshold:
        return MATCH
    if probability >= params.possible_threshold:
        return POSSIBLE
    return NO_MATCH


#: Name levels that may be linked without a person looking: a wholly different given name is never an
#: automatic link, whatever the other fields say (twins share surname, birth date, village and phone).
AUTO_LINK_NAME_LEVELS = frozenset({"exact", "same_pinyin", "swapped_given", "one_char_different_same_surname",
                                   "missing"})


def classify_pair(levels: dict[str, Level], probability: float, params: ScoringParams) -> str:
    """``classify`` with hard guards against Fellegi–Sunter's independence assumption: a pair whose names
    differ beyond one character, whose ID numbers are both present and plainly different, or whose sexes
    differ, is at most a POSSIBLE match (a person decides). (People born the same day in the same county
    have ID numbers one sequence digit apart — with the other sex, that is not a typo.) A given name one
    character apart is linked automatically only with an agreeing ID number or phone: babies born the same
    day with similar names (王舒汐/王舒岚) otherwise look like one child registered twice."""
    outcome = classify(probability, params)
    if outcome == MATCH:
        name, idn = levels.get("name"), levels.get("id_number")
        sex, phone = levels.get("sex"), levels.get("phone")
        corroborated = (idn is not None and idn.value in ("exact", "one_digit_typo", "transposition")) or (
            phone is not None and phone.value in ("exact", "one_digit_different"))
        if (name is not None and name.value not in AUTO_LINK_NAME_LEVELS) or (
                name is not None and name.value == "one_char_different_same_surname" and not corroborated) or (
                idn is not None and idn.value in ("different", "same_birth_and_division")) or (
                sex is not None and sex.value == "different"):
            return POSSIBLE
    return outcome


def match_grade(probability: float, params: ScoringParams) -> str:
    """FHIR match grade: certain (would be linked), probable (would be queued), possible, certainly-not."""
    if probability >= params.match_threshold:
        return "certain"
    if probability >= params.possible_threshold:
        return "probable"
    if probability >= params.candidate_threshold:
        return "possible"
    return "certainly-not"


def grade_pair(levels: dict[str, Level], probability: float, params: ScoringParams) -> str:
    """``match_grade`` consistent with ``classify_pair``: a guarded pair is at most "probable"."""
    grade = match_grade(probability, params)
    if grade == "certain" and classify_pair(levels, probability, params) != MATCH:
        return "probable"
    return grade


@lru_cache(maxsize=8)
def _load(path: str) -> ScoringParams:
    with open(path, encoding="utf-8") as fh:
        return ScoringParams.from_json(json.load(fh))


def load_params(path: Path | str | None = None) -> ScoringParams:
    """The parameters in ``path`` (default: the fitted defaults shipped in ``data/fs_params.json``)."""
    return _load(str(path or DEFAULT_PARAMS_PATH))
