"""AllergyIntolerance ↔ allergy_intolerance row (one category; the reactions kept as text)."""

from __future__ import annotations

from rhip.fhir.errors import Issue
from rhip.fhir.mappers import common

CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"


def _status(o: dict, element: str) -> str | None:
    return next(iter((o.get(element) or {}).get("coding", [])), {}).get("code")


def _reaction_text(o: dict) -> str | None:
    """Each reaction's description, or else its manifestations' text/display, joined with '；'."""
    parts = []
    for r in o.get("reaction", []):
        text = r.get("description") or "、".join(
            m.get("text") or next((c.get("display") or c.get("code") for c in m.get("coding", [])), "")
            for m in r.get("manifestation", []))
        if text:
            parts.append(text)
    return "；".join(parts)[:500] or None


class AllergyIntoleranceMapper:
    resource_type = "AllergyIntolerance"
    search_params = {"_id": "token", "patient": "reference", "code": "token", "clinical-status": "token",
                     "category": "token"}

    @staticmethod
    def to_fhir(row, _extra=None) -> dict:
        a = {"resourceType": "AllergyIntolerance", "id": str(row.id), "meta": common.meta(row),
             "identifier": common.identifier(row)}
        if row.clinical_status:
            a["clinicalStatus"] = {"coding": [{"system": CLINICAL, "code": row.clinical_status}]}
        if row.verification_status:
            a["verificationStatus"] = {"coding": [{"system": VERIFICATION, "code": row.verification_status}]}
        if row.type:
            a["type"] = row.type
        if row.category:
            a["category"] = [row.category]
        if row.criticality:
            a["criticality"] = row.criticality
        a["code"] = {"coding": [{"system": row.code_system, "code": row.code,
                                 **({"display": row.display} if row.display else {})}]}
        a["patient"] = {"reference": f"Patient/{row.resident_id}"}
        if row.recorded_date:
            a["recordedDate"] = row.recorded_date.isoformat()
        if row.practitioner_id:
            a["recorder"] = {"reference": f"Practitioner/{row.practitioner_id}"}
        if row.reaction:
            a["reaction"] = [{"description": row.reaction, "manifestation": [{"text": row.reaction}]}]
        return a

    @staticmethod
    def to_fields(a: dict) -> tuple[dict, None]:
        issues: list[Issue] = []
        coding = next(iter((a.get("code") or {}).get("coding", [])), None)
        if not coding or not coding.get("code") or not coding.get("system"):
            issues.append(Issue("required", "AllergyIntolerance.code needs a coding with system and code (the "
                                            "substance or the allergy)", "AllergyIntolerance.code"))
            coding = {}
        clinical, verification = _status(a, "clinicalStatus"), _status(a, "verificationStatus")
        if verification == "entered-in-error" and clinical:  # FHIR invariant ait-2
            issues.append(Issue("invariant", "clinicalStatus must be absent when verificationStatus is "
                                             "entered-in-error", "AllergyIntolerance.clinicalStatus"))
        if verification != "entered-in-error" and not clinical:  # FHIR invariant ait-1
            issues.append(Issue("required", "clinicalStatus is required unless verificationStatus is "
                                            "entered-in-error", "AllergyIntolerance.clinicalStatus"))
        categories = a.get("category") or []
        if len(categories) > 1:
            issues.append(Issue("not-supported", "one category per AllergyIntolerance is stored; got "
                                                 f"{', '.join(categories)}", "AllergyIntolerance.category"))
        recorded = common.parse_datetime(a.get("recordedDate"), "AllergyIntolerance.recordedDate", issues)
        fields = {
            "resident_id": common.ref_id(a.get("patient"), "Patient", "AllergyIntolerance.patient", issues,
                                         required=True),
            "practitioner_id": common.ref_id(a.get("recorder"), "Practitioner", "AllergyIntolerance.recorder", issues,
                                             required=False),
            "code_system": coding.get("system"), "code": coding.get("code"),
            "display": coding.get("display") or (a.get("code") or {}).get("text"),
            "clinical_status": clinical, "verification_status": verification, "type": a.get("type"),
            "category": categories[0] if categories else None, "criticality": a.get("criticality"),
            "recorded_date": recorded.date() if recorded else None, "reaction": _reaction_text(a),
        }
        fields["source_system"], fields["source_id"] = common.source_of(a, "AllergyIntolerance")
        common.raise_if(issues)
        return fields, None
