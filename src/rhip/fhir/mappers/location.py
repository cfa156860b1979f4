"""Location ← registry division (county, township, village; read only).

id and identifier = the 12-digit division code, name, mode ``instance``, physicalType ``area``, type = the
division level, partOf = the parent division.
"""

from __future__ import annotations

from rhip.registry.models import Division

DIVISION_SYSTEM = "urn:rhip:sid:division"
LEVEL_SYSTEM = "urn:rhip:cs:division-level"
PHYSICAL_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"
LEVEL_LABELS = {"county": "县", "township": "乡镇", "village": "村（社区）"}


class LocationMapper:
    resource_type = "Location"
    search_params = {"_id": "token", "name": "string", "partof": "reference"}

    @staticmethod
    def to_fhir(d: Division) -> dict:
        r: dict = {"resourceType": "Location", "id": d.code,
                   "identifier": [{"use": "official", "system": DIVISION_SYSTEM, "value": d.code}],
                   "status": "active", "name": d.name, "mode": "instance"}
        coding = {"system": LEVEL_SYSTEM, "code": d.level}
        if d.level in LEVEL_LABELS:
            coding["display"] = LEVEL_LABELS[d.level]
        r["type"] = [{"coding": [coding]}]
        r["physicalType"] = {"coding": [{"system": PHYSICAL_TYPE, "code": "area", "display": "Area"}]}
        if d.parent_code:
            r["partOf"] = {"reference": f"Location/{d.parent_code}"}
        return r
