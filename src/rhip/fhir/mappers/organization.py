"""Organization ← registry organization (read only; organizations are maintained in the registry).

id, identifier (the registry code), active, type (the platform's kind, plus a second coding for the tier),
name, telecom (phone), partOf (the parent organization), address (the division: 12-digit code as an
extension, its name as text) and the medical community (医共体) as an extension holding its name.
"""

from __future__ import annotations

from rhip.fhir import identifiers as ids
from rhip.registry.models import Organization
from rhip.registry.rules import ORG_KINDS, TIERS

ORG_SYSTEM = "urn:rhip:sid:organization"
KIND_SYSTEM = "urn:rhip:cs:organization-kind"
TIER_SYSTEM = "urn:rhip:cs:organization-tier"
MEDICAL_COMMUNITY_EXT = "urn:rhip:fhir:StructureDefinition:medical-community"


class OrganizationMapper:
    resource_type = "Organization"
    search_params = {"_id": "token", "name": "string", "type": "token", "partof": "reference"}

    @staticmethod
    def to_fhir(o: Organization, *, division_name: str | None = None, community_name: str | None = None) -> dict:
        r: dict = {"resourceType": "Organization", "id": str(o.id)}
        if community_name:
            r["extension"] = [{"url": MEDICAL_COMMUNITY_EXT, "valueString": community_name}]
        r["identifier"] = [{"use": "official", "system": ORG_SYSTEM, "value": o.code}]
        r["active"] = bool(o.active)
        codings = []
        kind = ORG_KINDS.get(o.kind)
        codings.append({"system": KIND_SYSTEM, "code": o.kind, **({"display": kind[1]} if kind else {})})
        tier = TIERS.get(o.tier)
        codings.append({"system": TIER_SYSTEM, "code": o.tier, **({"display": tier[0]} if tier else {})})
        r["type"] = [{"coding": codings, **({"text": kind[1]} if kind else {})}]
        r["name"] = o.name
        if o.phone:
            r["telecom"] = [{"system": "phone", "value": o.phone, "use": "work"}]
        address: dict = {"use": "work", "extension": [{"url": ids.DIVISION_CODE_EXT, "valueCode": o.division_code}]}
        if division_name:
            address["text"] = division_name
        r["address"] = [address]
        if o.parent_id:
            r["partOf"] = {"reference": f"Organization/{o.parent_id}"}
        return r
