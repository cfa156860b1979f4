"""Pure checks of record values (plausible ranges with bilingual messages)."""

from __future__ import annotations

from rhip.kit.errors import FieldError
from rhip.records.models import ENCOUNTER_KINDS

LOINC = "http://loinc.org"
# code → (zh name, low, high, unit) of plausible values (refuse typing errors such as an SBP of 400)
PLAUSIBLE = {
    "8480-6": ("收缩压", 40, 300, "mm[Hg]"), "8462-4": ("舒张压", 20, 200, "mm[Hg]"),
    "8867-4": ("心率", 20, 250, "/min"), "29463-7": ("体重", 0.5, 300, "kg"), "8302-2": ("身高", 30, 250, "cm"),
    "39156-5": ("BMI", 8, 80, "kg/m2"), "8280-0": ("腰围", 30, 200, "cm"),
    "1558-6": ("空腹血糖", 1.0, 40.0, "mmol/L"), "2339-0": ("随机血糖", 1.0, 60.0, "mmol/L"),
    "4548-4": ("糖化血红蛋白", 2.0, 20.0, "%"),
}


def _range(code: str, value: float | None, field: str, errors: list[FieldError]) -> None:
    if code not in PLAUSIBLE or value is None:
        return
    zh, lo, hi, unit = PLAUSIBLE[code]
    if not lo <= value <= hi:
        errors.append(FieldError(field, "value.implausible", f"{zh}{value:g}{unit}超出合理范围（{lo:g}–{hi:g}）",
                                 f"{code} value {value:g} {unit} is outside the plausible range {lo:g}–{hi:g}"))


def validate_record(resource_type: str, fields: dict, components: list[dict]) -> list[FieldError]:
    errors: list[FieldError] = []
    if resource_type == "Encounter":
        if fields.get("kind") not in ENCOUNTER_KINDS:
            errors.append(FieldError("type", "encounter.kind", "就诊类型无效",
                                     f"encounter kind must be one of {', '.join(ENCOUNTER_KINDS)}"))
        if fields.get("period_end") and fields["period_end"] < fields["period_start"]:
            errors.append(FieldError("period", "period.order", "结束时间早于开始时间", "period.end is before period.start"))
    if resource_type == "Observation":
        _range(fields.get("code", ""), fields.get("value"), "value", errors)
        by_code = {}
        for i, c in enumerate(components):
            _range(c["code"], c.get("value"), f"component[{i}]", errors)
            by_code[c["code"]] = c.get("value")
        sbp, dbp = by_code.get("8480-6"), by_code.get("8462-4")
        if sbp is not None and dbp is not None and sbp <= dbp:
            errors.append(FieldError("component", "bp.order", f"收缩压{sbp:g}不高于舒张压{dbp:g}",
                                     f"systolic {sbp:g} must be higher than diastolic {dbp:g}"))
    return errors
