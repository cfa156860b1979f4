"""One mapper per FHIR resource type. ``MAPPERS`` is what the server implements, and what the
CapabilityStatement lists."""

from __future__ import annotations

from rhip.fhir.mappers.allergy import AllergyIntoleranceMapper
from rhip.fhir.mappers.condition import ConditionMapper
from rhip.fhir.mappers.diagnostic_report import DiagnosticReportMapper
from rhip.fhir.mappers.document_reference import DocumentReferenceMapper
from rhip.fhir.mappers.encounter import EncounterMapper
from rhip.fhir.mappers.immunization import ImmunizationMapper
from rhip.fhir.mappers.medication_request import MedicationRequestMapper
from rhip.fhir.mappers.medication_statement import MedicationStatementMapper
from rhip.fhir.mappers.observation import ObservationMapper
from rhip.fhir.mappers.patient import PatientMapper

MAPPERS = {m.resource_type: m for m in (PatientMapper, EncounterMapper, ConditionMapper, ObservationMapper,
                                        ImmunizationMapper, AllergyIntoleranceMapper, MedicationRequestMapper,
                                        MedicationStatementMapper, DiagnosticReportMapper, DocumentReferenceMapper)}
RECORD_MAPPERS = {k: v for k, v in MAPPERS.items() if k != "Patient"}
