"""MedicationRequest ↔ medication_request row, and the medication/dosage/reason mapping shared with
MedicationStatement.

Medication: ``medicationCodeableConcept`` (platform system ``urn:rhip:cs:drug``, any other system accepted);
``medicationReference`` is not supported. Dosage: one per resource — its text, one ``doseQuantity``, a
frequency ``timing.repeat`` (frequency per period, periodUnit h, d or wk) and the route as text. Reason:
``reasonCode`` with an ICD-10 coding and/or text.
"""

from __future__ import annotations

from rhip.fhir.errors import Issue
from rhip.fhir.mappers import common
from rhip.records.models_medication import DRUG_SYSTEM, PERIOD_UNITS

ICD10 = "http://hl7.org/fhir/sid/icd-10"
MAX_LEN = {"code": 32, "dose_unit": 24, "route": 64, "reason_code": 16}
TEXT_LEN = {"display": 200, "dosage_text": 500, "reason_text": 200}


def _number(v: float | None):
    return int(v) if v is not None and float(v).is_integer() else v


def medication_fields(o: dict, rtype: str, issues: list[Issue]) -> dict:
    if o.get("medicationReference") is not None:
        issues.append(Issue("not-supported", f"{rtype}.medicationReference is not supported: send the medication as "
                                             f"medicationCodeableConcept ({DRUG_SYSTEM} or another code system)",
                            f"{rtype}.medicationReference"))
        return {}
    concept = o.get("medicationCodeableConcept") or {}
    codings = [c for c in concept.get("coding", []) if c.get("system") and c.get("code")]
    coding = next((c for c in codings if c["system"] == DRUG_SYSTEM), codings[0] if codings else None)
    if coding is None:
        issues.append(Issue("required", f"{rtype}.medicationCodeableConcept needs a coding with system and code "
                                        f"(e.g. {DRUG_SYSTEM})", f"{rtype}.medicationCodeableConcept"))
        return {}
    return {"code_system": coding["system"], "code": coding["code"],
            "display": coding.get("display") or concept.get("text")}


def dosage_fields(dosages: list[dict], path: str, issues: list[Issue]) -> dict:
    """The first (and only) Dosage → dosage_text, dose_value/unit, frequency/period/period_unit, route."""
    if len(dosages) > 1:
        issues.append(Issue("not-supported", f"one dosage per resource is stored; got {len(dosages)}", path))
    d = dosages[0] if dosages else {}
    where = f"{path}[0]"
    rates = d.get("doseAndRate") or [{}]
    q = rates[0].get("doseQuantity") or {}
    if rates[0].get("doseRange") is not None:
        issues.append(Issue("not-supported", "a dose range is not stored; send doseQuantity",
                            f"{where}.doseAndRate[0].doseRange"))
    repeat = (d.get("timing") or {}).get("repeat") or {}
    frequency, period, unit = repeat.get("frequency"), repeat.get("period"), repeat.get("periodUnit")
    if (frequency is not None or period is not None) and unit is None:
        issues.append(Issue("required", "timing.repeat.periodUnit is required with a frequency (h, d or wk)",
                            f"{where}.timing.repeat.periodUnit"))
    elif unit is not None and unit not in PERIOD_UNITS:
        issues.append(Issue("not-supported", f"timing.repeat.periodUnit {unit!r} is not stored (use h, d or wk)",
                            f"{where}.timing.repeat.periodUnit"))
    if unit is not None:
        frequency = 1 if frequency is None else frequency
        period = 1 if period is None else period
    route = d.get("route") or {}
    return {
        "dosage_text": (d.get("text") or "")[:TEXT_LEN["dosage_text"]] or None,
        "dose_value": float(q["value"]) if q.get("value") is not None else None,
        "dose_unit": q.get("unit") or q.get("code"),
        "frequency": frequency, "period": float(period) if period is not None else None, "period_unit": unit,
        "route": route.get("text") or next((c.get("display") or c.get("code") for c in route.get("coding", [])),
                                           None),
    }


def reason_fields(o: dict, rtype: str, issues: list[Issue]) -> dict:
    if o.get("reasonReference"):
        issues.append(Issue("not-supported", f"{rtype}.reasonReference is not stored; send reasonCode (ICD-10 "
                                             "and/or text)", f"{rtype}.reasonReference"))
    reasons = o.get("reasonCode") or []
    if len(reasons) > 1:
        issues.append(Issue("not-supported", f"one reasonCode per {rtype} is stored; got {len(reasons)}",
                            f"{rtype}.reasonCode"))
    r = reasons[0] if reasons else {}
    icd = next((c for c in r.get("coding", []) if c.get("system") == ICD10 and c.get("code")), None)
    text = r.get("text") or next((c.get("display") or c.get("code") for c in r.get("coding", [])
                                  if c is not icd), None) or (icd or {}).get("display")
    return {"reason_code": icd["code"] if icd else None,
            "reason_text": text[:TEXT_LEN["reason_text"]] if text else None}


def check_lengths(fields: dict, rtype: str, issues: list[Issue]) -> None:
    for k, n in MAX_LEN.items():
        if fields.get(k) and len(str(fields[k])) > n:
            issues.append(Issue("value", f"{k.replace('_', ' ')} {fields[k]!r} is longer than {n} characters",
                                rtype))
    if fields.get("display"):
        fields["display"] = fields["display"][:TEXT_LEN["display"]]


def actor(ref: dict | None, path: str, issues: list[Issue]) -> tuple[int | None, int | None]:
    """A Practitioner or Organization reference → (practitioner_id, org_id)."""
    if not ref:
        return None, None
    kind = ref.get("reference", "").rpartition("/")[0].rpartition("/")[2]
    if kind == "Practitioner":
        return common.ref_id(ref, "Practitioner", path, issues, required=True), None
    if kind == "Organization":
        return None, common.ref_id(ref, "Organization", path, issues, required=True)
    issues.append(Issue("not-supported", f"{path}: a Practitioner or an Organization is stored; got "
                                         f"{ref.get('reference')!r}", path))
    return None, None


def medication_out(row) -> dict:
    return {"coding": [{"system": row.code_system, "code": row.code,
                        **({"display": row.display} if row.display else {})}]}


def dosage_out(row) -> list[dict]:
    d: dict = {}
    if row.dosage_text:
        d["text"] = row.dosage_text
    if row.period_unit:
        d["timing"] = {"repeat": {"frequency": row.frequency or 1, "period": _number(row.period or 1),
                                  "periodUnit": row.period_unit}}
    if row.route:
        d["route"] = {"text": row.route}
    if row.dose_value is not None:
        d["doseAndRate"] = [{"doseQuantity": {"value": _number(row.dose_value),
                                              **({"unit": row.dose_unit} if row.dose_unit else {})}}]
    return [d] if d else []


def reason_out(row) -> list[dict]:
    r: dict = {}
    if row.reason_code:
        r["coding"] = [{"system": ICD10, "code": row.reason_code}]
    if row.reason_text:
        r["text"] = row.reason_text
    return [r] if r else []


class MedicationRequestMapper:
    resource_type = "MedicationRequest"
    search_params = {"_id": "token", "patient": "reference", "code": "token", "status": "token", "intent": "token",
                     "authoredon": "date", "encounter": "reference"}

    @staticmethod
    def to_fhir(row, _extra=None) -> dict:
        m = {"resourceType": "MedicationRequest", "id": str(row.id), "meta": common.meta(row),
             "identifier": common.identifier(row), "status": row.status, "intent": row.intent,
             "medicationCodeableConcept": medication_out(row)}
        m.update(common.refs(row, "MedicationRequest"))
        m["authoredOn"] = common.instant(row.authored_on)
        if row.practitioner_id:
            m["requester"] = {"reference": f"Practitioner/{row.practitioner_id}"}
        elif row.org_id:
            m["requester"] = {"reference": f"Organization/{row.org_id}"}
        if reason := reason_out(row):
            m["reasonCode"] = reason
        if dosage := dosage_out(row):
            m["dosageInstruction"] = dosage
        return m

    @staticmethod
    def to_fields(o: dict) -> tuple[dict, None]:
        rtype = "MedicationRequest"
        issues: list[Issue] = []
        authored = common.parse_datetime(o.get("authoredOn"), f"{rtype}.authoredOn", issues)
        if o.get("authoredOn") is None:
            issues.append(Issue("required", "MedicationRequest.authoredOn is required (when it was prescribed)",
                                f"{rtype}.authoredOn"))
        practitioner_id, org_id = actor(o.get("requester"), f"{rtype}.requester", issues)
        fields = {
            "resident_id": common.ref_id(o.get("subject"), "Patient", f"{rtype}.subject", issues, required=True),
            "encounter_id": common.ref_id(o.get("encounter"), "Encounter", f"{rtype}.encounter", issues,
                                          required=False),
            "practitioner_id": practitioner_id, "org_id": org_id,
            "status": o.get("status"), "intent": o.get("intent"), "authored_on": authored,
            **medication_fields(o, rtype, issues),
            **dosage_fields(o.get("dosageInstruction") or [], f"{rtype}.dosageInstruction", issues),
            **reason_fields(o, rtype, issues),
        }
        check_lengths(fields, rtype, issues)
        fields["source_system"], fields["source_id"] = common.source_of(o, rtype)
        common.raise_if(issues)
        return fields, None
