"""Immunization ↔ immunization row (national programme vaccine codes, or CVX)."""

from __future__ import annotations

from rhip.fhir.errors import Issue
from rhip.fhir.mappers import common
from rhip.records.models_immunization import VACCINE_SYSTEM, VACCINE_SYSTEMS, VACCINES

PERFORMER_FUNCTION = "http://terminology.hl7.org/CodeSystem/v2-0443"  # AP = administering provider
ACT_SITE = "http://terminology.hl7.org/CodeSystem/v3-ActSite"
# v3-ActSite codes (stored as the code; any other site is stored as its text)
ACT_SITES = frozenset({
    "BE", "BN", "BU", "LA", "LACF", "LAC", "LD", "LE", "LEJ", "LF", "LG", "LH", "LIJ", "LLAQ", "LLFA", "LMFA", "LN",
    "LPC", "LSC", "LT", "LUA", "LUAQ", "LUFA", "LVG", "LVL", "OD", "OS", "OU", "PA", "PERIN", "RA", "RACF", "RAC",
    "RD", "RE", "REJ", "RF", "RG", "RH", "RIJ", "RLAQ", "RLFA", "RMFA", "RN", "RPC", "RSC", "RT", "RUA", "RUAQ",
    "RUFA", "RVG", "RVL",
})


def _dose(o: dict, issues: list[Issue]) -> int | None:
    applied = (o.get("protocolApplied") or [{}])[0]
    if applied.get("doseNumberPositiveInt") is not None:
        return applied["doseNumberPositiveInt"]
    text = applied.get("doseNumberString")
    if text is None:
        return None
    if not text.strip().isdigit():
        issues.append(Issue("value", f"doseNumberString {text!r} is not a dose number (use doseNumberPositiveInt)",
                            "Immunization.protocolApplied[0].doseNumberString"))
        return None
    return int(text)


def _site(o: dict) -> str | None:
    site = o.get("site") or {}
    for c in site.get("coding", []):
        if c.get("system") == ACT_SITE and c.get("code") in ACT_SITES:
            return c["code"]
    return site.get("text") or next((c.get("display") or c.get("code") for c in site.get("coding", [])), None)


def _performers(o: dict, issues: list[Issue]) -> tuple[int | None, int | None]:
    org_id = practitioner_id = None
    for i, p in enumerate(o.get("performer", [])):
        actor = p.get("actor") or {}
        path = f"Immunization.performer[{i}].actor"
        kind = actor.get("reference", "").rpartition("/")[0].rpartition("/")[2]
        if kind == "Organization" and org_id is None:
            org_id = common.ref_id(actor, "Organization", path, issues, required=True)
        elif kind == "Practitioner" and practitioner_id is None:
            practitioner_id = common.ref_id(actor, "Practitioner", path, issues, required=True)
        else:
            issues.append(Issue("not-supported", f"{path}: one Organization (the administering unit) and one "
                                                 f"Practitioner (the vaccinator) are stored; got "
                                                 f"{actor.get('reference')!r}", path))
    return org_id, practitioner_id


class ImmunizationMapper:
    resource_type = "Immunization"
    search_params = {"_id": "token", "patient": "reference", "vaccine-code": "token", "date": "date",
                     "status": "token"}

    @staticmethod
    def to_fhir(row, _extra=None) -> dict:
        im = {"resourceType": "Immunization", "id": str(row.id), "meta": common.meta(row),
              "identifier": common.identifier(row), "status": row.status,
              "vaccineCode": {"coding": [{"system": row.vaccine_system, "code": row.vaccine_code,
                                          **({"display": row.vaccine_display} if row.vaccine_display else {})}]},
              "patient": {"reference": f"Patient/{row.resident_id}"},
              "occurrenceDateTime": row.occurrence_date.isoformat()}
        if row.lot_number:
            im["lotNumber"] = row.lot_number
        if row.site:
            im["site"] = ({"coding": [{"system": ACT_SITE, "code": row.site}]} if row.site in ACT_SITES
                          else {"text": row.site})
        performer = []
        if row.practitioner_id:
            performer.append({"function": {"coding": [{"system": PERFORMER_FUNCTION, "code": "AP"}]},
                              "actor": {"reference": f"Practitioner/{row.practitioner_id}"}})
        if row.org_id:
            performer.append({"actor": {"reference": f"Organization/{row.org_id}"}})
        if performer:
            im["performer"] = performer
        if row.dose_number is not None:
            im["protocolApplied"] = [{"doseNumberPositiveInt": row.dose_number}]
        return im

    @staticmethod
    def to_fields(o: dict) -> tuple[dict, None]:
        issues: list[Issue] = []
        codings = (o.get("vaccineCode") or {}).get("coding", [])
        coding = next((c for c in codings if c.get("system") in VACCINE_SYSTEMS), codings[0] if codings else None)
        if not coding or not coding.get("code") or not coding.get("system"):
            issues.append(Issue("required", f"Immunization.vaccineCode needs a coding with system and code "
                                            f"({VACCINE_SYSTEM} or CVX)", "Immunization.vaccineCode"))
            coding = {}
        if o.get("occurrenceDateTime") is None:
            issues.append(Issue("required", "Immunization.occurrenceDateTime is required (the day the dose was "
                                            "given)", "Immunization.occurrenceDateTime"))
        when = common.parse_datetime(o.get("occurrenceDateTime"), "Immunization.occurrenceDateTime", issues)
        org_id, practitioner_id = _performers(o, issues)
        code = coding.get("code")
        display = coding.get("display") or (o.get("vaccineCode") or {}).get("text")
        if not display and coding.get("system") == VACCINE_SYSTEM:
            display = VACCINES.get(code)
        fields = {
            "resident_id": common.ref_id(o.get("patient"), "Patient", "Immunization.patient", issues, required=True),
            "org_id": org_id, "practitioner_id": practitioner_id, "status": o.get("status"),
            "vaccine_system": coding.get("system"), "vaccine_code": code, "vaccine_display": display,
            "dose_number": _dose(o, issues), "occurrence_date": when.date() if when else None,
            "lot_number": o.get("lotNumber"), "site": _site(o),
        }
        fields["source_system"], fields["source_id"] = common.source_of(o, "Immunization")
        common.raise_if(issues)
        return fields, None
