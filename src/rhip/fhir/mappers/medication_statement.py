"""MedicationStatement ↔ medication_statement row (medication, dosage and reason as for MedicationRequest).

The effective time is a period of days: ``effectivePeriod`` (start required, end optional) or
``effectiveDateTime`` (stored as the start); it is always shown as ``effectivePeriod``. ``informationSource``
is a Practitioner or an Organization; ``context`` an Encounter.
"""

from __future__ import annotations

from rhip.fhir.errors import Issue
from rhip.fhir.mappers import common
from rhip.fhir.mappers.medication_request import (
    actor,
    check_lengths,
    dosage_fields,
    dosage_out,
    medication_fields,
    medication_out,
    reason_fields,
    reason_out,
)

RTYPE = "MedicationStatement"


def _effective(o: dict, issues: list[Issue]):
    if o.get("effectiveDateTime") is not None:
        when = common.parse_datetime(o["effectiveDateTime"], f"{RTYPE}.effectiveDateTime", issues)
        return (when.date() if when else None), None
    period = o.get("effectivePeriod") or {}
    if period.get("start") is None:
        issues.append(Issue("required", "MedicationStatement.effectivePeriod.start (or effectiveDateTime) is "
                                        "required (since when the medication is taken)",
                            f"{RTYPE}.effectivePeriod.start"))
        return None, None
    start = common.parse_datetime(period["start"], f"{RTYPE}.effectivePeriod.start", issues)
    end = common.parse_datetime(period.get("end"), f"{RTYPE}.effectivePeriod.end", issues)
    return (start.date() if start else None), (end.date() if end else None)


class MedicationStatementMapper:
    resource_type = RTYPE
    search_params = {"_id": "token", "patient": "reference", "code": "token", "status": "token",
                     "effective": "date"}

    @staticmethod
    def to_fhir(row, _extra=None) -> dict:
        m = {"resourceType": RTYPE, "id": str(row.id), "meta": common.meta(row),
             "identifier": common.identifier(row), "status": row.status,
             "medicationCodeableConcept": medication_out(row),
             "subject": {"reference": f"Patient/{row.resident_id}"}}
        if row.encounter_id:
            m["context"] = {"reference": f"Encounter/{row.encounter_id}"}
        period = {"start": row.effective_start.isoformat()}
        if row.effective_end:
            period["end"] = row.effective_end.isoformat()
        m["effectivePeriod"] = period
        if row.practitioner_id:
            m["informationSource"] = {"reference": f"Practitioner/{row.practitioner_id}"}
        elif row.org_id:
            m["informationSource"] = {"reference": f"Organization/{row.org_id}"}
        if reason := reason_out(row):
            m["reasonCode"] = reason
        if dosage := dosage_out(row):
            m["dosage"] = dosage
        return m

    @staticmethod
    def to_fields(o: dict) -> tuple[dict, None]:
        issues: list[Issue] = []
        start, end = _effective(o, issues)
        practitioner_id, org_id = actor(o.get("informationSource"), f"{RTYPE}.informationSource", issues)
        fields = {
            "resident_id": common.ref_id(o.get("subject"), "Patient", f"{RTYPE}.subject", issues, required=True),
            "encounter_id": common.ref_id(o.get("context"), "Encounter", f"{RTYPE}.context", issues,
                                          required=False),
            "practitioner_id": practitioner_id, "org_id": org_id, "status": o.get("status"),
            "effective_start": start, "effective_end": end,
            **medication_fields(o, RTYPE, issues),
            **dosage_fields(o.get("dosage") or [], f"{RTYPE}.dosage", issues),
            **reason_fields(o, RTYPE, issues),
        }
        check_lengths(fields, RTYPE, issues)
        fields["source_system"], fields["source_id"] = common.source_of(o, RTYPE)
        common.raise_if(issues)
        return fields, None
