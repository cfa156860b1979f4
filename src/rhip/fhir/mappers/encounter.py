"""Encounter ↔ encounter row. The platform's kind (outpatient, emergency, inpatient, home visit, public-health
follow-up, physical examination) travels in ``type``; ``class`` carries the v3 ActCode."""

from __future__ import annotations

from rhip.fhir.errors import Issue
from rhip.fhir.mappers import common

KIND_SYSTEM = "urn:rhip:cs:encounter-kind"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CLASS_OF_KIND = {"outpatient": "AMB", "emergency": "EMER", "inpatient": "IMP", "home_visit": "HH",
                 "followup": "AMB", "physical_exam": "AMB"}
KIND_LABELS = {"outpatient": "门诊", "emergency": "急诊", "inpatient": "住院", "home_visit": "家庭访视",
               "followup": "公共卫生随访", "physical_exam": "健康体检"}


class EncounterMapper:
    resource_type = "Encounter"
    search_params = {"_id": "token", "patient": "reference", "subject": "reference", "date": "date",
                     "status": "token"}

    @staticmethod
    def to_fhir(row, _extra=None) -> dict:
        e = {"resourceType": "Encounter", "id": str(row.id), "meta": common.meta(row),
             "identifier": common.identifier(row), "status": row.status,
             "class": {"system": ACT_CODE, "code": CLASS_OF_KIND[row.kind]},
             "type": [{"coding": [{"system": KIND_SYSTEM, "code": row.kind, "display": KIND_LABELS[row.kind]}]}],
             **common.refs(row, "Encounter"),
             "period": {"start": common.instant(row.period_start)}}
        if row.period_end:
            e["period"]["end"] = common.instant(row.period_end)
        if row.practitioner_id:
            e["participant"] = [{"individual": {"reference": f"Practitioner/{row.practitioner_id}"}}]
        if row.org_id:
            e["serviceProvider"] = {"reference": f"Organization/{row.org_id}"}
        if row.reason:
            e["reasonCode"] = [{"text": row.reason}]
        return e

    @staticmethod
    def to_fields(e: dict) -> tuple[dict, None]:
        issues: list[Issue] = []
        kind = next((c.get("code") for t in e.get("type", []) for c in t.get("coding", [])
                     if c.get("system") == KIND_SYSTEM), None)
        if kind is None:
            cls = (e.get("class") or {}).get("code")
            kind = {"AMB": "outpatient", "EMER": "emergency", "IMP": "inpatient", "HH": "home_visit"}.get(cls)
        if kind is None:
            issues.append(Issue("required", f"Encounter.type needs a coding of {KIND_SYSTEM} (or class AMB, EMER, "
                                            "IMP or HH)", "Encounter.type"))
        period = e.get("period") or {}
        start = common.parse_datetime(period.get("start"), "Encounter.period.start", issues)
        if start is None and "Encounter.period.start" not in str(issues):
            issues.append(Issue("required", "Encounter.period.start is required", "Encounter.period.start"))
        fields = {
            "resident_id": common.ref_id(e.get("subject"), "Patient", "Encounter.subject", issues, required=True),
            "org_id": common.ref_id(e.get("serviceProvider"), "Organization", "Encounter.serviceProvider", issues,
                                    required=False),
            "practitioner_id": common.ref_id((e.get("participant") or [{}])[0].get("individual"), "Practitioner",
                                             "Encounter.participant[0].individual", issues, required=False),
            "kind": kind, "status": e.get("status"), "period_start": start,
            "period_end": common.parse_datetime(period.get("end"), "Encounter.period.end", issues),
            "reason": ((e.get("reasonCode") or [{}])[0]).get("text"),
        }
        fields["source_system"], fields["source_id"] = common.source_of(e, "Encounter")
        common.raise_if(issues)
        return fields, None
