"""Plausibility checks of follow-up measurements, with bilingual messages.

Ranges are inclusive and refuse only impossible or mistyped values (an SBP of 400), not
clinically alarming ones (an SBP of 220 is valid and goes to the emergency rule). Absent or
empty fields are not checked: which fields a form requires is the form's business. Pass
``ranges`` to override (e.g. a paediatric form with lower weight/height bounds).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple


class ValidationIssue(NamedTuple):
    field: str
    code: str            # "not_a_number", "not_an_integer", "out_of_range", "sbp_not_above_dbp"
    message_zh: str
    message_en: str


class Range(NamedTuple):
    low: float
    high: float
    unit: str            # shown in English messages
    zh: str
    en: str
    integer: bool = False
    unit_zh: str | None = None   # shown in Chinese messages (default: ``unit``)


MEASUREMENT_RANGES: Mapping[str, Range] = {
    "sbp": Range(70, 300, "mmHg", "收缩压", "systolic blood pressure"),
    "dbp": Range(40, 200, "mmHg", "舒张压", "diastolic blood pressure"),
    "heart_rate": Range(30, 220, "/min", "心率", "heart rate", unit_zh="次/分"),
    "weight": Range(2, 300, "kg", "体重", "weight"),
    "height": Range(40, 250, "cm", "身高", "height"),
    "fasting_glucose": Range(1.0, 40.0, "mmol/L", "空腹血糖", "fasting glucose"),
    "risk_grade": Range(0, 5, "", "危险性评估等级", "risk grade", integer=True),
}


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        d = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def validate_followup(measurements: Mapping[str, Any], *,
                      ranges: Mapping[str, Range] | None = None) -> list[ValidationIssue]:
    """Issues with the measurements of one follow-up; an empty list means all given values are plausible.

    Checks (inclusive): SBP 70–300, DBP 40–200 mmHg and SBP > DBP; heart rate 30–220/min; weight
    2–300 kg; height 40–250 cm; fasting glucose 1.0–40.0 mmol/L; risk grade an integer 0–5.
    Unknown keys are ignored.
    """
    table = dict(MEASUREMENT_RANGES) | dict(ranges or {})
    issues: list[ValidationIssue] = []
    numbers: dict[str, Decimal] = {}
    for name, rng in table.items():
        raw = measurements.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        n = _number(raw)
        if n is None:
            issues.append(ValidationIssue(name, "not_a_number", f"{rng.zh}应为数字，收到“{raw}”",
                                          f"{rng.en} must be a number, got {raw!r}"))
            continue
        if rng.integer and n != n.to_integral_value():
            issues.append(ValidationIssue(name, "not_an_integer", f"{rng.zh}应为整数 {_fmt(rng.low)}–{_fmt(rng.high)}",
                                          f"{rng.en} must be a whole number {_fmt(rng.low)}–{_fmt(rng.high)}"))
            continue
        if not Decimal(str(rng.low)) <= n <= Decimal(str(rng.high)):
            unit = f" {rng.unit}" if rng.unit else ""
            unit_zh = f" {rng.unit_zh}" if rng.unit_zh else unit
            lo, hi = _fmt(rng.low), _fmt(rng.high)
            issues.append(ValidationIssue(
                name, "out_of_range", f"{rng.zh} {raw}{unit_zh} 超出允许范围 {lo}–{hi}{unit_zh}",
                f"{rng.en} {raw}{unit} is outside the allowed range {lo}–{hi}{unit}"))
            continue
        numbers[name] = n
    if "sbp" in numbers and "dbp" in numbers and numbers["sbp"] <= numbers["dbp"]:
        issues.append(ValidationIssue("sbp", "sbp_not_above_dbp",
                                      f"收缩压（{measurements['sbp']}）应高于舒张压（{measurements['dbp']}）",
                                      f"systolic ({measurements['sbp']}) must be higher than diastolic "
                                      f"({measurements['dbp']})"))
    return issues
