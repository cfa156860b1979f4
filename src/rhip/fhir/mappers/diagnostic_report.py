"""DiagnosticReport ↔ diagnostic_report row + its ordered results (references to Observations).

Category: v2-0074 (``LAB``, ``RAD``, …), the first coding in that system is kept. Code: LOINC or a local
system, kept as sent. Performer: one Practitioner or Organization. ``result``: Observations of the same
patient (checked when stored, an error names ``DiagnosticReport.result[i]``). ``conclusion`` text and one
``conclusionCode`` coding.
"""

from __future__ import annotations

from rhip.fhir.errors import Issue
from rhip.fhir.mappers import common
from rhip.fhir.mappers.medication_request import actor
from rhip.records.models_reports import REPORT_CATEGORY_SYSTEM

RTYPE = "DiagnosticReport"
MAX_LEN = {"category": 16, "code_system": 64, "code": 32, "conclusion_system": 64, "conclusion_code": 32}
PATHS = {"category": "category", "code_system": "code", "code": "code", "conclusion_system": "conclusionCode",
         "conclusion_code": "conclusionCode"}


def _coding_out(system, code, display) -> dict:
    return {"system": system, "code": code, **({"display": display} if display else {})}


class DiagnosticReportMapper:
    resource_type = RTYPE
    search_params = {"_id": "token", "patient": "reference", "subject": "reference", "code": "token",
                     "date": "date", "category": "token", "status": "token", "encounter": "reference"}

    @staticmethod
    def to_fhir(row, result_ids=None) -> dict:
        """``result_ids``: the result Observation ids when ``row`` is a plain row (else the row's own)."""
        d = {"resourceType": RTYPE, "id": str(row.id), "meta": common.meta(row),
             "identifier": common.identifier(row), "status": row.status}
        if row.category:
            d["category"] = [{"coding": [{"system": REPORT_CATEGORY_SYSTEM, "code": row.category}]}]
        d["code"] = {"coding": [_coding_out(row.code_system, row.code, row.display)]}
        d.update(common.refs(row, RTYPE))
        d["effectiveDateTime"] = common.instant(row.effective_at)
        if row.issued:
            d["issued"] = common.instant(row.issued)
        if row.practitioner_id:
            d["performer"] = [{"reference": f"Practitioner/{row.practitioner_id}"}]
        elif row.org_id:
            d["performer"] = [{"reference": f"Organization/{row.org_id}"}]
        if ids := (row.result_ids if result_ids is None else result_ids):
            d["result"] = [{"reference": f"Observation/{oid}"} for oid in ids]
        if row.conclusion:
            d["conclusion"] = row.conclusion
        if row.conclusion_code:
            d["conclusionCode"] = [{"coding": [_coding_out(row.conclusion_system, row.conclusion_code,
                                                           row.conclusion_display)]}]
        return d

    @staticmethod
    def to_fields(o: dict) -> tuple[dict, None]:
        issues: list[Issue] = []
        coding = next((c for c in (o.get("code") or {}).get("coding", []) if c.get("system") and c.get("code")),
                      None)
        if coding is None:
            issues.append(Issue("required", "DiagnosticReport.code needs a coding with system and code (LOINC or a "
                                            "local system)", f"{RTYPE}.code"))
            coding = {}
        effective = common.parse_datetime(o.get("effectiveDateTime"), f"{RTYPE}.effectiveDateTime", issues)
        if o.get("effectiveDateTime") is None:
            issues.append(Issue("required", "DiagnosticReport.effectiveDateTime is required (when the specimen was "
                                            "taken or the exam done)", f"{RTYPE}.effectiveDateTime"))
        if o.get("effectivePeriod") is not None:
            issues.append(Issue("not-supported", "effectivePeriod is not stored; send effectiveDateTime",
                                f"{RTYPE}.effectivePeriod"))
        issued = common.parse_datetime(o.get("issued"), f"{RTYPE}.issued", issues)
        performers = o.get("performer") or []
        if len(performers) > 1:
            issues.append(Issue("not-supported", f"one performer is stored; got {len(performers)}", f"{RTYPE}.performer"))
        practitioner_id, org_id = actor(performers[0] if performers else None, f"{RTYPE}.performer[0]", issues)
        result_ids = [common.ref_id(r, "Observation", f"{RTYPE}.result[{i}]", issues, required=True)
                      for i, r in enumerate(o.get("result") or [])]
        seen: dict[int, int] = {}
        for i, oid in enumerate(result_ids):
            if oid is not None and oid in seen:
                issues.append(Issue("duplicate", f"Observation/{oid} is already result[{seen[oid]}]",
                                    f"{RTYPE}.result[{i}]"))
            seen.setdefault(oid, i)
        conclusion_codes = o.get("conclusionCode") or []
        if len(conclusion_codes) > 1:
            issues.append(Issue("not-supported", f"one conclusionCode is stored; got {len(conclusion_codes)}",
                                f"{RTYPE}.conclusionCode"))
        cc = next((c for cc in conclusion_codes[:1] for c in cc.get("coding", []) if c.get("code")), {})
        fields = {
            "resident_id": common.ref_id(o.get("subject"), "Patient", f"{RTYPE}.subject", issues, required=True),
            "encounter_id": common.ref_id(o.get("encounter"), "Encounter", f"{RTYPE}.encounter", issues,
                                          required=False),
            "practitioner_id": practitioner_id, "org_id": org_id, "status": o.get("status"),
            "category": next((c.get("code") for cat in o.get("category", []) for c in cat.get("coding", [])
                              if c.get("system") == REPORT_CATEGORY_SYSTEM), None),
            "code_system": coding.get("system"), "code": coding.get("code"),
            "display": (coding.get("display") or (o.get("code") or {}).get("text") or "")[:200] or None,
            "effective_at": effective, "issued": issued, "conclusion": o.get("conclusion"),
            "conclusion_system": cc.get("system") or None if cc else None, "conclusion_code": cc.get("code"),
            "conclusion_display": (cc.get("display") or "")[:200] or None,
            "result_ids": [oid for oid in result_ids if oid is not None],
        }
        if cc and not cc.get("system"):
            issues.append(Issue("required", "conclusionCode.coding needs a system", f"{RTYPE}.conclusionCode[0]"))
        for k, n in MAX_LEN.items():
            if fields.get(k) and len(str(fields[k])) > n:
                issues.append(Issue("value", f"{k.replace('_', ' ')} {fields[k]!r} is longer than {n} characters",
                                    f"{RTYPE}.{PATHS[k]}"))
        fields["source_system"], fields["source_id"] = common.source_of(o, RTYPE)
        common.raise_if(issues)
        return fields, None
