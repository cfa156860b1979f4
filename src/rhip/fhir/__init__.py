"""HL7 FHIR R4 core, independent of FastAPI: request in → (status, resource or OperationOutcome) out.

So far: validation (structure and types by ``fhir.resources``, required value sets by ``valuesets``),
OperationOutcome errors, identifier systems, and ``Patient`` over the registry. Each resource type has
one mapper (``fhir.mappers``); the CapabilityStatement is generated from what is registered there.
"""
