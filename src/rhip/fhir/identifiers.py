"""Identifier systems used on FHIR resources (documented in docs/fhir.md).

- Resident ID number (居民身份证号, GB 11643): the OID of the Chinese national identity card number
  used by the national health information standards.
- Health-record number (健康档案编号): this platform's 17-digit number (village code + sequence).
- A facility's local patient number: one system per organization code.
"""

from __future__ import annotations

RESIDENT_ID_NUMBER = "urn:oid:2.16.156.10011.1.1"
HEALTH_RECORD_NUMBER = "urn:rhip:sid:health-record-number"
FACILITY_PATIENT_PREFIX = "urn:rhip:sid:patient:"  # + organization code
DIVISION_CODE_EXT = "urn:rhip:fhir:StructureDefinition:division-code"  # 12-digit village code on address
ETHNICITY_EXT = "urn:rhip:fhir:StructureDefinition:ethnicity"  # GB/T 3304 code
GB2261_SEX_EXT = "urn:rhip:fhir:StructureDefinition:gb2261-sex"  # original sex code when it is 0 or 9
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"


def facility_system(org_code: str) -> str:
    return FACILITY_PATIENT_PREFIX + org_code
