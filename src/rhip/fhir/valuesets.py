"""Required value-set bindings that ``fhir.resources`` does not enforce (it accepts ``gender: "man"``).

Each entry: (resource type, FHIRPath of a code element without indices) → allowed codes, from the
FHIR R4 specification's required bindings.
"""

from __future__ import annotations

UNITS_OF_TIME = frozenset({"s", "min", "h", "d", "wk", "mo", "a"})

REQUIRED: dict[tuple[str, str], frozenset[str]] = {
    ("Patient", "gender"): frozenset({"male", "female", "other", "unknown"}),
    ("Patient", "telecom.system"): frozenset({"phone", "fax", "email", "pager", "url", "sms", "other"}),
    ("Patient", "telecom.use"): frozenset({"home", "work", "temp", "old", "mobile"}),
    ("Patient", "name.use"): frozenset({"usual", "official", "temp", "nickname", "anonymous", "old", "maiden"}),
    ("Patient", "identifier.use"): frozenset({"usual", "official", "temp", "secondary", "old"}),
    ("Patient", "address.use"): frozenset({"home", "work", "temp", "old", "billing"}),
    ("Patient", "address.type"): frozenset({"postal", "physical", "both"}),
    ("Patient", "link.type"): frozenset({"replaced-by", "replaces", "refer", "seealso"}),
    ("Encounter", "status"): frozenset({"planned", "arrived", "triaged", "in-progress", "onleave", "finished",
                                        "cancelled", "entered-in-error", "unknown"}),
    ("Observation", "status"): frozenset({"registered", "preliminary", "final", "amended", "corrected",
                                          "cancelled", "entered-in-error", "unknown"}),
    ("Condition", "clinicalStatus.coding.code"): frozenset({"active", "recurrence", "relapse", "inactive",
                                                            "remission", "resolved"}),
    ("Condition", "verificationStatus.coding.code"): frozenset({"unconfirmed", "provisional", "differential",
                                                                "confirmed", "refuted", "entered-in-error"}),
    ("Immunization", "status"): frozenset({"completed", "entered-in-error", "not-done"}),
    ("AllergyIntolerance", "clinicalStatus.coding.code"): frozenset({"active", "inactive", "resolved"}),
    ("AllergyIntolerance", "verificationStatus.coding.code"): frozenset({"unconfirmed", "confirmed", "refuted",
                                                                         "entered-in-error"}),
    ("AllergyIntolerance", "type"): frozenset({"allergy", "intolerance"}),
    ("AllergyIntolerance", "category"): frozenset({"food", "medication", "environment", "biologic"}),
    ("AllergyIntolerance", "criticality"): frozenset({"low", "high", "unable-to-assess"}),
    ("AllergyIntolerance", "reaction.severity"): frozenset({"mild", "moderate", "severe"}),
    ("MedicationRequest", "status"): frozenset({"active", "on-hold", "cancelled", "completed", "entered-in-error",
                                                "stopped", "draft", "unknown"}),
    ("MedicationRequest", "intent"): frozenset({"proposal", "plan", "order", "original-order", "reflex-order",
                                                "filler-order", "instance-order", "option"}),
    ("MedicationRequest", "dosageInstruction.timing.repeat.periodUnit"): UNITS_OF_TIME,
    ("MedicationStatement", "status"): frozenset({"active", "completed", "entered-in-error", "intended", "stopped",
                                                  "on-hold", "unknown", "not-taken"}),
    ("MedicationStatement", "dosage.timing.repeat.periodUnit"): UNITS_OF_TIME,
    ("DiagnosticReport", "status"): frozenset({"registered", "partial", "preliminary", "final", "amended",
                                               "corrected", "appended", "cancelled", "entered-in-error", "unknown"}),
    ("DocumentReference", "status"): frozenset({"current", "superseded", "entered-in-error"}),
    ("DocumentReference", "docStatus"): frozenset({"preliminary", "final", "amended", "entered-in-error"}),
}


def _walk(value, parts: list[str], path: str):
    """Yield (FHIRPath with indices, code) for every value at ``parts`` below ``value``."""
    if not parts:
        if isinstance(value, str):
            yield path, value
        return
    head, rest = parts[0], parts[1:]
    child = value.get(head) if isinstance(value, dict) else None
    if child is None:
        return
    if isinstance(child, list):
        for i, item in enumerate(child):
            yield from _walk(item, rest, f"{path}.{head}[{i}]")
    else:
        yield from _walk(child, rest, f"{path}.{head}")


def check_required_bindings(resource: dict) -> list[tuple[str, str, frozenset[str]]]:
    """(FHIRPath, bad code, allowed codes) for every code outside its required value set."""
    rtype = resource.get("resourceType")
    bad = []
    for (t, path), allowed in REQUIRED.items():
        if t != rtype:
            continue
        for where, code in _walk(resource, path.split("."), rtype):
            if code not in allowed:
                bad.append((where, code, allowed))
    return bad
