"""FHIR errors: every failure becomes an OperationOutcome whose issues name the element (FHIRPath)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rhip.kit.errors import RhipError


@dataclass(frozen=True, slots=True)
class Issue:
    code: str  # OperationOutcome.issue.code (IssueType): invalid, structure, required, value, code-invalid, …
    diagnostics: str
    expression: str | None = None
    severity: str = "error"

    def as_dict(self) -> dict:
        d = {"severity": self.severity, "code": self.code, "diagnostics": self.diagnostics}
        if self.expression:
            d["expression"] = [self.expression]
        return d


@dataclass
class FhirError(Exception):
    status: int
    issues: list[Issue] = field(default_factory=list)

    def outcome(self) -> dict:
        return operation_outcome(self.issues)


def operation_outcome(issues: list[Issue]) -> dict:
    return {"resourceType": "OperationOutcome", "issue": [i.as_dict() for i in issues]}


def not_found(resource_type: str, rid: str) -> FhirError:
    return FhirError(404, [Issue("not-found", f"{resource_type}/{rid} does not exist (不存在或不在您的服务范围内)")])


# Registry field → FHIRPath of the element it came from, per resource type.
FIELD_PATHS = {
    "Patient": {
        "name": "Patient.name", "sex": "Patient.gender", "birth_date": "Patient.birthDate",
        "id_number": "Patient.identifier", "phone": "Patient.telecom", "phone2": "Patient.telecom",
        "village_code": "Patient.address[0].extension", "address": "Patient.address[0].text",
        "status": "Patient.deceased", "status_date": "Patient.deceasedDateTime", "ethnicity": "Patient.extension",
    },
}

RECORD_PATHS = {"subject": "subject", "encounter": "encounter", "identifier": "identifier",
                "organization": "serviceProvider", "practitioner": "participant", "value": "valueQuantity",
                "component": "component", "type": "type", "period": "period"}

# Where a type names the element differently (Immunization.patient, Observation.performer, …).
RECORD_PATH_OVERRIDES = {
    "Immunization": {"subject": "patient", "practitioner": "performer", "organization": "performer"},
    "AllergyIntolerance": {"subject": "patient", "practitioner": "recorder"},
    "Observation": {"practitioner": "performer", "organization": "performer"},
    "Condition": {"practitioner": "recorder"},
    "MedicationRequest": {"subject": "subject", "practitioner": "requester", "organization": "requester",
                          "encounter": "encounter"},
    "MedicationStatement": {"subject": "subject", "practitioner": "informationSource",
                            "organization": "informationSource", "encounter": "context"},
    "DiagnosticReport": {"practitioner": "performer", "organization": "performer"},
    "DocumentReference": {"practitioner": "author", "organization": "author", "encounter": "context.encounter"},
}

HTTP_TO_ISSUE = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 409: "conflict",
                 412: "conflict", 422: "processing"}


def from_rhip_error(err: RhipError, resource_type: str | None = None) -> FhirError:
    """A platform error (bilingual, with fields) as a FHIR error with FHIRPath expressions."""
    paths = FIELD_PATHS.get(resource_type or "") or {
        k: f"{resource_type}.{RECORD_PATH_OVERRIDES.get(resource_type, {}).get(k, v)}"
        for k, v in RECORD_PATHS.items()} if resource_type else {}
    status = 422 if err.http_status == 422 else err.http_status
    if not err.errors:
        return FhirError(status, [Issue(HTTP_TO_ISSUE.get(err.http_status, "processing"),
                                        f"{err.message_en} ({err.message_zh})")])
    issues = []
    for fe in err.errors:
        code = "value" if fe.code.startswith(("id_number.", "sex.", "birth_date.", "phone.")) else "invalid"
        if fe.code.endswith("duplicate"):
            code = "duplicate"
        where = paths.get(fe.field) or (f"{resource_type}.{fe.field}" if resource_type and fe.field.startswith(
            "component[") else fe.field)
        issues.append(Issue(code, f"{fe.message_en} ({fe.message_zh})", where))
    return FhirError(status, issues)
