"""Pure checks of record values (plausible ranges with bilingual messages)."""

from __future__ import annotations

from datetime import date

from rhip.kit.errors import FieldError
from rhip.records.models import ENCOUNTER_KINDS
from rhip.records.models_immunization import VACCINE_SYSTEM, VACCINE_SYSTEMS, VACCINES
from rhip.records.models_reports import MAX_ATTACHMENT_BYTES

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
    if resource_type == "Immunization":
        _immunization(fields, errors)
    if resource_type in DOSAGE_PATH:
        _medication(resource_type, fields, errors)
    if resource_type == "DiagnosticReport":
        _report(fields, errors)
    if resource_type == "DocumentReference":
        _document(fields, errors)
    return errors


def _report(fields: dict, errors: list[FieldError]) -> None:
    """A report is issued no earlier than its specimen was taken or its exam done."""
    effective, issued = fields.get("effective_at"), fields.get("issued")
    if effective and issued and issued < effective:
        errors.append(FieldError("DiagnosticReport.issued", "issued.order",
                                 f"报告时间{issued.isoformat(sep=' ')}早于检查时间{effective.isoformat(sep=' ')}",
                                 f"issued {issued.isoformat()} is before effectiveDateTime {effective.isoformat()}"))


ATTACHMENT_DATA = "DocumentReference.content[0].attachment.data"


def _document(fields: dict, errors: list[FieldError]) -> None:
    """An attachment of at most MAX_ATTACHMENT_BYTES (larger documents are linked by url)."""
    size = fields.get("size") if fields.get("data") is not None else None
    if size is not None and size > MAX_ATTACHMENT_BYTES:
        errors.append(FieldError(ATTACHMENT_DATA, "attachment.too_large",
                                 f"附件{size:,}字节超过上限{MAX_ATTACHMENT_BYTES:,}字节（请以url引用）",
                                 f"attachment too large (413): {size:,} bytes exceeds the limit of "
                                 f"{MAX_ATTACHMENT_BYTES:,} bytes; link larger documents by url"))


# Medication errors name their FHIR element too.
DOSAGE_PATH = {"MedicationRequest": "MedicationRequest.dosageInstruction[0]",
               "MedicationStatement": "MedicationStatement.dosage[0]"}
DAILY_FREQUENCY = (1, 12)  # plausible administrations per day
HOURS = {"h": 1, "d": 24, "wk": 24 * 7}


def daily_frequency(frequency: int, period: float, unit: str) -> float:
    """Administrations per day of "``frequency`` times per ``period`` ``unit``" (e.g. 1 per 8 h → 3)."""
    return frequency * 24 / (period * HOURS[unit])


def _medication(resource_type: str, fields: dict, errors: list[FieldError]) -> None:
    """Dose above zero; at least once per period and at most 12 administrations a day (less than daily, e.g.
    weekly or every other day, is plausible); an effective period that does not end before it starts."""
    dosage = DOSAGE_PATH[resource_type]
    dose = fields.get("dose_value")
    if dose is not None and not dose > 0:
        errors.append(FieldError(f"{dosage}.doseAndRate[0].doseQuantity.value", "dose.implausible",
                                 f"单次剂量{dose:g}必须大于0", f"dose quantity {dose:g} must be greater than 0"))
    freq, period, unit = fields.get("frequency"), fields.get("period"), fields.get("period_unit")
    repeat = f"{dosage}.timing.repeat"
    if freq is not None and freq < 1:
        errors.append(FieldError(f"{repeat}.frequency", "frequency.implausible", f"频次{freq}必须至少为1",
                                 f"frequency {freq} must be at least 1"))
    elif period is not None and not period > 0:
        errors.append(FieldError(f"{repeat}.period", "period.implausible", f"频次周期{period:g}必须大于0",
                                 f"timing period {period:g} must be greater than 0"))
    elif freq is not None and unit in HOURS:
        daily = daily_frequency(freq, period or 1, unit)
        lo, hi = DAILY_FREQUENCY
        if daily > hi:
            errors.append(FieldError(f"{repeat}", "frequency.implausible",
                                     f"每{period or 1:g}{unit}{freq}次（每日{daily:g}次）超出合理范围（每日{lo}–{hi}次）",
                                     f"{freq} times per {period or 1:g} {unit} ({daily:g} a day) is outside the "
                                     f"plausible daily frequency {lo}–{hi}"))
    start, end = fields.get("effective_start"), fields.get("effective_end")
    if start and end and end < start:
        errors.append(FieldError("MedicationStatement.effectivePeriod.end", "period.order",
                                 f"结束日期{end.isoformat()}早于开始日期{start.isoformat()}",
                                 f"effectivePeriod.end {end.isoformat()} is before effectivePeriod.start "
                                 f"{start.isoformat()}"))


# Immunization errors name their FHIR element (there is no registry field they come from).
DOSE_PATH = "Immunization.protocolApplied[0].doseNumberPositiveInt"
DOSE_RANGE = (1, 10)


def _immunization(fields: dict, errors: list[FieldError]) -> None:
    system, code = fields.get("vaccine_system"), fields.get("vaccine_code")
    if system not in VACCINE_SYSTEMS:
        errors.append(FieldError("Immunization.vaccineCode", "vaccine.system",
                                 f"疫苗编码体系{system!r}不受支持（请用{VACCINE_SYSTEM}或CVX）",
                                 f"vaccine code system {system!r} is not supported (use {VACCINE_SYSTEM} or "
                                 f"{VACCINE_SYSTEMS[1]})"))
    elif system == VACCINE_SYSTEM and code not in VACCINES:
        errors.append(FieldError("Immunization.vaccineCode", "vaccine.code",
                                 f"疫苗编码{code!r}不在国家免疫规划疫苗代码中",
                                 f"vaccine code {code!r} is not one of {VACCINE_SYSTEM} ({', '.join(VACCINES)})"))
    dose = fields.get("dose_number")
    lo, hi = DOSE_RANGE
    if dose is not None and not lo <= dose <= hi:
        errors.append(FieldError(DOSE_PATH, "dose.implausible", f"剂次{dose}超出合理范围（{lo}–{hi}）",
                                 f"dose number {dose} is outside the plausible range {lo}–{hi}"))


def validate_against_birth(resource_type: str, fields: dict, birth_date: date | None) -> list[FieldError]:
    """Checks that need the patient's birth date: a vaccine dose cannot be given before birth."""
    errors: list[FieldError] = []
    when = fields.get("occurrence_date")
    if resource_type == "Immunization" and birth_date and when and when < birth_date:
        errors.append(FieldError("Immunization.occurrenceDateTime", "occurrence.before_birth",
                                 f"接种日期{when.isoformat()}早于出生日期{birth_date.isoformat()}",
                                 f"occurrence date {when.isoformat()} is before the patient's birth date "
                                 f"{birth_date.isoformat()}"))
    return errors
