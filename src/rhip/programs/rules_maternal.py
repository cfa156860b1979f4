"""Pregnancy risk colour (孕产妇妊娠风险评估, 五色管理) from a swappable scheme.

The default scheme ``data/pregnancy_risk_national_5colour.json`` is a condensed factor list from
public copies of the 2017 assessment form and is marked (verify): check it against the provincial
form. A province with a six-colour (or other) scheme passes its own scheme (a dict of the same
shape, or a file name under ``data/``):

* ``colours``: ``code``, ``zh``, ``en``, ``rank`` (higher wins) or ``combinable: true`` (reported
  in addition, e.g. purple for infectious disease; optional ``advice_zh`` / ``advice_en`` are
  appended to the recommendation);
* ``factors``: ``code``, ``zh``, ``en``, ``colour``;
* ``derived``: factors from measures (``age``, ``bmi``) with ``at_least`` / ``at_most`` /
  ``greater_than`` / ``less_than``;
* ``delivery``: ``from_colour`` — that colour and above deliver at a level-2+ hospital.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterable, Mapping
from typing import Any

from rhip.programs.rules_common import load_json

DEFAULT_SCHEME = "pregnancy_risk_national_5colour.json"


@dataclass(frozen=True)
class RiskAssessment:
    colour: str                       # highest ranked colour (default colour when no factor matches)
    combined: tuple[str, ...]         # combinable colours present (e.g. ("purple",)), reported with ``colour``
    factors_by_colour: Mapping[str, tuple[str, ...]]
    unknown_factors: tuple[str, ...]  # inputs the scheme does not know (not silently dropped: check them)
    level2_delivery: bool             # deliver at a level-2+ hospital
    recommendation_zh: str
    recommendation_en: str
    scheme: str

    @property
    def colours(self) -> tuple[str, ...]:
        """The colour plus any combinable ones, e.g. ("yellow", "purple")."""
        return (self.colour,) + self.combined


def load_risk_scheme(name: str = DEFAULT_SCHEME) -> Mapping[str, Any]:
    """A packaged scheme by file name (default: the national five-colour scheme)."""
    return load_json(name)


def _derived(scheme: Mapping[str, Any], measures: Mapping[str, float | None]) -> list[str]:
    out = []
    for rule in scheme.get("derived", []):
        v = measures.get(rule["measure"])
        if v is None:
            continue
        ok = all((
            "at_least" not in rule or v >= rule["at_least"],
            "at_most" not in rule or v <= rule["at_most"],
            "greater_than" not in rule or v > rule["greater_than"],
            "less_than" not in rule or v < rule["less_than"],
        ))
        if ok:
            out.append(rule["factor"])
    return out


def assess_pregnancy_risk(factors: Iterable[str] = (), *, age: int | None = None, bmi: float | None = None,
                          scheme: Mapping[str, Any] | str | None = None) -> RiskAssessment:
    """Colour of a pregnancy from risk factor codes (or Chinese labels) plus derived age/BMI factors.

    The highest ranked colour wins; combinable colours (purple) are returned alongside in
    ``combined``. Yellow and above (the scheme's ``delivery.from_colour``) → level-2+ delivery.
    """
    sch = load_risk_scheme(scheme) if isinstance(scheme, str) else (scheme or load_risk_scheme())
    colours = {c["code"]: c for c in sch["colours"]}
    by_key = {f["code"]: f for f in sch["factors"]} | {f["zh"]: f for f in sch["factors"]}
    found: dict[str, list[str]] = {}
    unknown: list[str] = []
    for raw in list(factors) + _derived(sch, {"age": age, "bmi": bmi}):
        f = by_key.get(str(raw).strip())
        if f is None:
            if raw not in unknown:
                unknown.append(raw)
            continue
        lst = found.setdefault(f["colour"], [])
        if f["code"] not in lst:
            lst.append(f["code"])
    ranked = [c for c in found if not colours[c].get("combinable")]
    colour = max(ranked, key=lambda c: colours[c]["rank"]) if ranked else sch["default_colour"]
    combined = tuple(c for c in colours if colours[c].get("combinable") and c in found)
    delivery = sch.get("delivery")
    level2 = bool(delivery) and colours[colour]["rank"] >= colours[delivery["from_colour"]]["rank"]
    if level2:
        zh, en = delivery["zh"], delivery["en"]
    else:
        zh, en = "可在一级及以上医疗机构分娩", "may deliver at a level-1 or higher facility"
    for c in combined:
        if colours[c].get("advice_zh"):
            zh, en = f"{zh}；{colours[c]['advice_zh']}", f"{en}; {colours[c]['advice_en']}"
    return RiskAssessment(colour, combined, {c: tuple(v) for c, v in found.items()}, tuple(unknown), level2, zh, en,
                          sch.get("scheme", "custom"))
