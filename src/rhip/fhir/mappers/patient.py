"""Patient ↔ registry resident.

Resident → Patient: identifiers (ID number, health-record number), name (text, family, given), gender
(GB/T 2261.1 → FHIR; 0 and 9 both map to ``unknown`` and keep the original in an extension), birth date,
phones, address (text + the 12-digit village code as an extension), ethnicity (GB/T 3304), deceased date,
``active`` = not moved out.

Patient → resident fields for create/update: the inverse. The village code is required on create (the
platform files every resident under a village); an ID number with another system than the national one
is ignored here (facility numbers are linked by the MPI, later).
"""

from __future__ import annotations

from datetime import date

from rhip.fhir import identifiers as ids
from rhip.fhir.errors import FhirError, Issue
from rhip.fhir.mappers.common import instant
from rhip.registry.models import Resident
from rhip.kit.hanzi import surname_of

GENDER_TO_FHIR = {"1": "male", "2": "female", "0": "unknown", "9": "unknown"}
GENDER_FROM_FHIR = {"male": "1", "female": "2", "unknown": "0", "other": "9"}


class PatientMapper:
    resource_type = "Patient"

    @staticmethod
    def to_fhir(r: Resident) -> dict:
        p: dict = {"resourceType": "Patient", "id": str(r.id),
                   "meta": {"versionId": str(r.version), "lastUpdated": instant(r.updated_at)}}
        idents = []
        if r.id_number:
            idents.append({"use": "official", "system": ids.RESIDENT_ID_NUMBER, "value": r.id_number,
                           "type": {"coding": [{"system": ids.V2_0203, "code": "NNCHN"}], "text": "居民身份证号"}})
        idents.append({"use": "usual", "system": ids.HEALTH_RECORD_NUMBER, "value": r.record_no,
                       "type": {"coding": [{"system": ids.V2_0203, "code": "MR"}], "text": "健康档案编号"}})
        p["identifier"] = idents
        p["active"] = r.status != "moved_out"
        family = surname_of(r.name) if r.name else ""
        given = r.name[len(family):] if family and r.name.startswith(family) else ""
        name = {"use": "official", "text": r.name}
        if family:
            name["family"] = family
        if given:
            name["given"] = [given]
        p["name"] = [name]
        telecom = [{"system": "phone", "value": ph, "use": "mobile" if ph.startswith("1") else "home"}
                   for ph in (r.phone, r.phone2) if ph]
        if telecom:
            p["telecom"] = telecom
        p["gender"] = GENDER_TO_FHIR[r.sex]
        p["birthDate"] = r.birth_date.isoformat()
        if r.status == "deceased" and r.status_date:
            p["deceasedDateTime"] = r.status_date.isoformat()
        address = {"use": "home", "extension": [{"url": ids.DIVISION_CODE_EXT, "valueCode": r.village_code}]}
        if r.address:
            address["text"] = r.address
        p["address"] = [address]
        ext = [{"url": ids.ETHNICITY_EXT, "valueCode": r.ethnicity}]
        if r.sex in ("0", "9"):
            ext.append({"url": ids.GB2261_SEX_EXT, "valueCode": r.sex})
        p["extension"] = ext
        return p

    @staticmethod
    def to_fields(p: dict, *, creating: bool) -> dict:
        """Registry fields from a validated Patient (JSON). Problems with the mapping raise FhirError 422."""
        issues: list[Issue] = []
        fields: dict = {}
        names = p.get("name") or []
        official = next((n for n in names if n.get("use") == "official"), names[0] if names else None)
        if official is None:
            issues.append(Issue("required", "a Patient needs a name (姓名)", "Patient.name"))
        else:
            text = official.get("text") or (official.get("family", "") + "".join(official.get("given", [])))
            fields["name"] = text
        gender = p.get("gender")
        sex = GENDER_FROM_FHIR.get(gender) if gender else None
        for ext in p.get("extension", []):
            if ext.get("url") == ids.GB2261_SEX_EXT and ext.get("valueCode") in ("0", "9"):
                sex = ext["valueCode"]
            if ext.get("url") == ids.ETHNICITY_EXT:
                fields["ethnicity"] = ext.get("valueCode")
        if sex is None:
            issues.append(Issue("required", "a Patient needs gender (性别)", "Patient.gender"))
        fields["sex"] = sex
        if "birthDate" not in p:
            issues.append(Issue("required", "a Patient needs birthDate (出生日期)", "Patient.birthDate"))
        else:
            bd = p["birthDate"]
            if len(bd) != 10:
                issues.append(Issue("value", f"birthDate must be a full date (YYYY-MM-DD), got {bd!r}",
                                    "Patient.birthDate"))
            else:
                fields["birth_date"] = date.fromisoformat(bd)
        fields["id_number"] = next((i.get("value") for i in p.get("identifier", [])
                                    if i.get("system") == ids.RESIDENT_ID_NUMBER), None)
        phones = [t["value"] for t in p.get("telecom", []) if t.get("system") == "phone" and t.get("value")]
        fields["phone"] = phones[0] if phones else None
        fields["phone2"] = phones[1] if len(phones) > 1 else None
        addresses = p.get("address") or []
        village = None
        for i, a in enumerate(addresses):
            for ext in a.get("extension", []):
                if ext.get("url") == ids.DIVISION_CODE_EXT:
                    village = ext.get("valueCode")
            if a.get("text") and "address" not in fields:
                fields["address"] = a["text"]
        if village:
            fields["village_code"] = village
        elif creating:
            issues.append(Issue("required", "the village of residence is required: Patient.address with the "
                                            f"extension {ids.DIVISION_CODE_EXT} holding the 12-digit village code",
                                "Patient.address"))
        if "deceasedDateTime" in p:
            fields["status"], fields["status_date"] = "deceased", date.fromisoformat(p["deceasedDateTime"][:10])
        elif p.get("deceasedBoolean") is True:
            issues.append(Issue("required", "a deceased Patient needs deceasedDateTime (the date of death)",
                                "Patient.deceasedBoolean"))
        elif p.get("active") is False:
            issues.append(Issue("not-supported", "active=false (moved out) needs the date: use the registry API",
                                "Patient.active"))
        else:
            fields["status"], fields["status_date"] = "alive", None
        if issues:
            raise FhirError(422, issues)
        return fields
