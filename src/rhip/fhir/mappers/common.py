"""Helpers shared by the clinical mappers: references, source identifiers, instants."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from rhip.fhir.errors import FhirError, Issue
from rhip.kit import clock

OWN_SOURCE = "urn:rhip:sid:record"  # records created through this API without an identifier of their own


def ref_id(ref: dict | None, rtype: str, path: str, issues: list[Issue], *, required: bool) -> int | None:
    """``{"reference": "Patient/12"}`` → 12; other shapes are reported on ``path``."""
    if not ref:
        if required:
            issues.append(Issue("required", f"{path} is required (a reference to a {rtype})", path))
        return None
    text = ref.get("reference", "")
    kind, _, rid = text.rpartition("/")
    if not kind.endswith(rtype) or not rid.isdigit():
        issues.append(Issue("value", f"{path}.reference must be '{rtype}/<id>', got {text!r}", f"{path}.reference"))
        return None
    return int(rid)


def source_of(resource: dict, rtype: str) -> tuple[str, str]:
    """The record's identity in its source system: its first identifier (system + value)."""
    for ident in resource.get("identifier", []):
        if ident.get("system") and ident.get("value"):
            return ident["system"], ident["value"]
    return OWN_SOURCE, f"{rtype}-{uuid.uuid4().hex}"


def identifier(row) -> list[dict]:
    return [{"system": row.source_system, "value": row.source_id}]


def instant(dt: datetime | None) -> str | None:
    """A stored datetime (naive, platform-local) as a FHIR instant with the platform's offset."""
    return clock.aware(dt).isoformat() if dt is not None else None


def parse_datetime(value: str | None, path: str, issues: list[Issue]) -> datetime | None:
    """FHIR dateTime → naive platform-local datetime (a date alone is its midnight)."""
    if not value:
        return None
    try:
        return clock.to_platform(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        issues.append(Issue("value", f"{path}: {value!r} is not a FHIR dateTime", path))
        return None


def meta(row) -> dict:
    return {"versionId": str(row.version), "lastUpdated": instant(row.updated_at)}


def refs(row, rtype: str) -> dict:
    out = {"subject": {"reference": f"Patient/{row.resident_id}"}}
    if getattr(row, "encounter_id", None):
        out["encounter"] = {"reference": f"Encounter/{row.encounter_id}"}
    return out


def raise_if(issues: list[Issue]) -> None:
    if issues:
        raise FhirError(422, issues)


def as_date(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None
