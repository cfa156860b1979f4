"""One mapper per FHIR resource type. ``MAPPERS`` is what the server implements, and what the
CapabilityStatement lists."""

from __future__ import annotations

from rhip.fhir.mappers.patient import PatientMapper

MAPPERS = {m.resource_type: m for m in (PatientMapper,)}
