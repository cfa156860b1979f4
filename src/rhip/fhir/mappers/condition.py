"""Condition ↔ condition row (diagnoses in ICD-10)."""

from __future__ import annotations

from rhip.fhir.errors import Issue
from rhip.fhir.mappers import common

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ICD10 = "http://hl7.org/fhir/sid/icd-10"


class ConditionMapper:
    resource_type = "Condition"
    search_params = {"_id": "token", "patient": "reference", "subject": "reference", "code": "token",
                     "clinical-status": "token", "category": "token", "encounter": "reference",
                     "recorded-date": "date"}

    @staticmethod
    def to_fhir(row, _extra=None) -> dict:
        c = {"resourceType": "Condition", "id": str(row.id), "meta": common.meta(row),
             "identifier": common.identifier(row),
             "category": [{"coding": [{"system": CATEGORY, "code": row.category}]}],
             "code": {"coding": [{"system": row.code_system, "code": row.code,
                                  **({"display": row.display} if row.display else {})}]},
             **common.refs(row, "Condition")}
        if row.clinical_status:
            c["clinicalStatus"] = {"coding": [{"system": CLINICAL, "code": row.clinical_status}]}
        if row.verification_status:
            c["verificationStatus"] = {"coding": [{"system": VERIFICATION, "code": row.verification_status}]}
        if row.onset_date:
            c["onsetDateTime"] = row.onset_date.isoformat()
        if row.recorded_date:
            c["recordedDate"] = row.recorded_date.isoformat()
        if row.practitioner_id:
            c["recorder"] = {"reference": f"Practitioner/{row.practitioner_id}"}
        return c

    @staticmethod
    def to_fields(c: dict) -> tuple[dict, None]:
        issues: list[Issue] = []
        coding = next(iter((c.get("code") or {}).get("coding", [])), None)
        if not coding or not coding.get("code"):
            issues.append(Issue("required", "Condition.code needs a coding (ICD-10)", "Condition.code"))
            coding = {}
        category = next((cd.get("code") for cat in c.get("category", []) for cd in cat.get("coding", [])
                         if cd.get("system") == CATEGORY), "encounter-diagnosis" if c.get("encounter")
                        else "problem-list-item")
        fields = {
            "resident_id": common.ref_id(c.get("subject"), "Patient", "Condition.subject", issues, required=True),
            "encounter_id": common.ref_id(c.get("encounter"), "Encounter", "Condition.encounter", issues,
                                          required=False),
            "practitioner_id": common.ref_id(c.get("recorder"), "Practitioner", "Condition.recorder", issues,
                                             required=False),
            "code_system": coding.get("system") or ICD10, "code": coding.get("code"),
            "display": coding.get("display") or (c.get("code") or {}).get("text"), "category": category,
            "clinical_status": next(iter((c.get("clinicalStatus") or {}).get("coding", [])), {}).get("code"),
            "verification_status": next(iter((c.get("verificationStatus") or {}).get("coding", [])), {}).get("code"),
            "onset_date": common.as_date(c.get("onsetDateTime")),
            "recorded_date": common.as_date(c.get("recordedDate")),
        }
        fields["source_system"], fields["source_id"] = common.source_of(c, "Condition")
        common.raise_if(issues)
        return fields, None
