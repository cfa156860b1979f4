"""Practitioner (and PractitionerRole) ← registry practitioner (read only).

Practitioner: name (text, family, given), gender, birthDate, telecom, active, qualification (the platform's
code with its Chinese name). The ID number (居民身份证号) is an identifier on **read only**: search results
(lists) leave it out, following the platform's privacy rule for lists — masking it inside
``identifier.value`` would be wrong FHIR, so it is omitted instead.

PractitionerRole: one per practitioner–organization link (``practitioner_org``), id
``<practitioner id>-<organization id>``; code = the practitioner's profession, the department as an
extension, ``is_primary`` as an extension.
"""

from __future__ import annotations

from rhip.fhir import identifiers as ids
from rhip.fhir.mappers.patient import GENDER_TO_FHIR
from rhip.registry.models import Practitioner, PractitionerOrg
from rhip.registry.rules import PROFESSIONS, QUALIFICATIONS
from rhip.kit.hanzi import surname_of

QUALIFICATION_SYSTEM = "urn:rhip:cs:qualification"
PROFESSION_SYSTEM = "urn:rhip:cs:profession"
DEPARTMENT_EXT = "urn:rhip:fhir:StructureDefinition:department"
PRIMARY_ORG_EXT = "urn:rhip:fhir:StructureDefinition:primary-organization"


def _name(full: str) -> dict:
    family = surname_of(full) if full else ""
    given = full[len(family):] if family and full.startswith(family) else ""
    name: dict = {"use": "official", "text": full}
    if family:
        name["family"] = family
    if given:
        name["given"] = [given]
    return name


class PractitionerMapper:
    resource_type = "Practitioner"
    search_params = {"_id": "token", "name": "string"}

    @staticmethod
    def to_fhir(p: Practitioner, *, with_id_number: bool) -> dict:
        """``with_id_number``: True on read; False in search results (lists never carry the ID number)."""
        r: dict = {"resourceType": "Practitioner", "id": str(p.id)}
        if with_id_number and p.id_number:
            r["identifier"] = [{"use": "official", "system": ids.RESIDENT_ID_NUMBER, "value": p.id_number,
                                "type": {"coding": [{"system": ids.V2_0203, "code": "NNCHN"}],
                                         "text": "居民身份证号"}}]
        r["active"] = bool(p.active)
        r["name"] = [_name(p.name)]
        if p.phone:
            r["telecom"] = [{"system": "phone", "value": p.phone,
                             "use": "mobile" if p.phone.startswith("1") else "work"}]
        r["gender"] = GENDER_TO_FHIR.get(p.sex, "unknown")
        if p.birth_date:
            r["birthDate"] = p.birth_date.isoformat()
        if p.qualification:
            label = QUALIFICATIONS.get(p.qualification)
            coding = {"system": QUALIFICATION_SYSTEM, "code": p.qualification}
            if label:
                coding["display"] = label[0]
            r["qualification"] = [{"code": {"coding": [coding], **({"text": label[0]} if label else {})}}]
        return r


class PractitionerRoleMapper:
    resource_type = "PractitionerRole"
    search_params = {"_id": "token", "practitioner": "reference", "organization": "reference"}

    @staticmethod
    def role_id(po: PractitionerOrg) -> str:
        return f"{po.practitioner_id}-{po.org_id}"

    @staticmethod
    def to_fhir(po: PractitionerOrg, p: Practitioner) -> dict:
        r: dict = {"resourceType": "PractitionerRole", "id": PractitionerRoleMapper.role_id(po)}
        ext = [{"url": PRIMARY_ORG_EXT, "valueBoolean": bool(po.is_primary)}]
        if po.department:
            ext.append({"url": DEPARTMENT_EXT, "valueString": po.department})
        r["extension"] = ext
        r["active"] = bool(p.active)
        r["practitioner"] = {"reference": f"Practitioner/{p.id}", "display": p.name}
        r["organization"] = {"reference": f"Organization/{po.org_id}"}
        label = PROFESSIONS.get(p.profession)
        coding = {"system": PROFESSION_SYSTEM, "code": p.profession}
        if label:
            coding["display"] = label[0]
        r["code"] = [{"coding": [coding], **({"text": label[0]} if label else {})}]
        return r
