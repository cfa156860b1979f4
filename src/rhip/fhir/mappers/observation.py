"""Observation ↔ observation row + components (blood pressure as systolic/diastolic components)."""

from __future__ import annotations

from rhip.fhir.errors import Issue
from rhip.fhir.mappers import common

CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
UCUM = "http://unitsofmeasure.org"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


def _quantity(value, unit) -> dict:
    q = {"value": value}
    if unit:
        q.update({"unit": unit, "system": UCUM, "code": unit})
    return q


class ObservationMapper:
    resource_type = "Observation"
    search_params = {"_id": "token", "patient": "reference", "subject": "reference", "code": "token",
                     "date": "date", "category": "token", "status": "token", "encounter": "reference"}

    @staticmethod
    def to_fhir(row, components=None) -> dict:
        o = {"resourceType": "Observation", "id": str(row.id), "meta": common.meta(row),
             "identifier": common.identifier(row), "status": row.status}
        if row.category:
            o["category"] = [{"coding": [{"system": CATEGORY, "code": row.category}]}]
        o["code"] = {"coding": [{"system": row.code_system, "code": row.code,
                                 **({"display": row.display} if row.display else {})}]}
        o.update(common.refs(row, "Observation"))
        o["effectiveDateTime"] = common.instant(row.effective_at)
        if row.practitioner_id:
            o["performer"] = [{"reference": f"Practitioner/{row.practitioner_id}"}]
        if row.value is not None:
            o["valueQuantity"] = _quantity(row.value, row.unit)
        elif row.value_text:
            o["valueString"] = row.value_text
        if row.interpretation:
            o["interpretation"] = [{"coding": [{"system": INTERPRETATION, "code": row.interpretation}]}]
        if row.ref_low is not None or row.ref_high is not None:
            rr = {}
            if row.ref_low is not None:
                rr["low"] = _quantity(row.ref_low, row.unit)
            if row.ref_high is not None:
                rr["high"] = _quantity(row.ref_high, row.unit)
            o["referenceRange"] = [rr]
        if components:
            o["component"] = [{"code": {"coding": [{"system": c.code_system, "code": c.code,
                                                    **({"display": c.display} if c.display else {})}]},
                               **({"valueQuantity": _quantity(c.value, c.unit)} if c.value is not None else {})}
                              for c in components]
        return o

    @staticmethod
    def to_fields(o: dict) -> tuple[dict, list[dict]]:
        issues: list[Issue] = []
        coding = next(iter((o.get("code") or {}).get("coding", [])), None)
        if not coding or not coding.get("code") or not coding.get("system"):
            issues.append(Issue("required", "Observation.code needs a coding with system and code (LOINC where one "
                                            "exists)", "Observation.code"))
            coding = {}
        effective = common.parse_datetime(o.get("effectiveDateTime"), "Observation.effectiveDateTime", issues)
        if effective is None and not any(i.expression == "Observation.effectiveDateTime" for i in issues):
            issues.append(Issue("required", "Observation.effectiveDateTime is required", "Observation.effectiveDateTime"))
        q = o.get("valueQuantity") or {}
        rr = (o.get("referenceRange") or [{}])[0]
        fields = {
            "resident_id": common.ref_id(o.get("subject"), "Patient", "Observation.subject", issues, required=True),
            "encounter_id": common.ref_id(o.get("encounter"), "Encounter", "Observation.encounter", issues,
                                          required=False),
            "practitioner_id": common.ref_id((o.get("performer") or [None])[0], "Practitioner",
                                             "Observation.performer[0]", issues, required=False),
            "status": o.get("status"),
            "category": next((c.get("code") for cat in o.get("category", []) for c in cat.get("coding", [])
                              if c.get("system") == CATEGORY), None),
            "code_system": coding.get("system"), "code": coding.get("code"), "display": coding.get("display"),
            "effective_at": effective, "value": q.get("value"), "unit": q.get("code") or q.get("unit"),
            "value_text": o.get("valueString"),
            "ref_low": (rr.get("low") or {}).get("value"), "ref_high": (rr.get("high") or {}).get("value"),
            "interpretation": next((c.get("code") for i in o.get("interpretation", []) for c in i.get("coding", [])),
                                   None),
        }
        components = []
        for i, comp in enumerate(o.get("component", [])):
            cc = next(iter((comp.get("code") or {}).get("coding", [])), {})
            if not cc.get("code"):
                issues.append(Issue("required", "component.code needs a coding", f"Observation.component[{i}].code"))
                continue
            cq = comp.get("valueQuantity") or {}
            components.append({"code_system": cc.get("system") or "", "code": cc["code"], "display": cc.get("display"),
                               "value": cq.get("value"), "unit": cq.get("code") or cq.get("unit")})
        fields["source_system"], fields["source_id"] = common.source_of(o, "Observation")
        common.raise_if(issues)
        return fields, components
