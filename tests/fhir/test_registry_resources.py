"""FHIR Organization, Practitioner, PractitionerRole and Location over the registry (read + search)."""

from __future__ import annotations

import pytest

from rhip.fhir import identifiers as ids
from rhip.fhir.endpoints_registry import CAPABILITY
from rhip.fhir.mappers.location import DIVISION_SYSTEM, LEVEL_SYSTEM, PHYSICAL_TYPE
from rhip.fhir.mappers.organization import (
    KIND_SYSTEM,
    MEDICAL_COMMUNITY_EXT,
    ORG_SYSTEM,
    TIER_SYSTEM,
)
from rhip.fhir.mappers.practitioner import PROFESSION_SYSTEM, QUALIFICATION_SYSTEM
from rhip.fhir.validation import validate
from rhip.registry.models import Organization, Practitioner
from rhip.security import service as sec
from tests.factories import COUNTY, PASSWORD, T1, T2, V11, V12
from tests.fhir.support import fh

FHIR = "application/fhir+json"


def _ok(r, rtype):
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(FHIR)
    body = r.json()
    if body["resourceType"] == "Bundle":
        assert body["type"] == "searchset"
        for e in body["entry"]:
            assert e["resource"]["resourceType"] == rtype and e["fullUrl"].endswith(f"/{rtype}/{e['resource']['id']}")
            assert validate(e["resource"], rtype) == e["resource"]
        validate(body, "Bundle")
    else:
        assert body["resourceType"] == rtype
        assert validate(body, rtype) == body  # what the server returns is valid R4(B), unchanged by the models
    return body


def _outcome(r, status):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(FHIR)
    body = r.json()
    assert body["resourceType"] == "OperationOutcome" and body["issue"]
    validate(body, "OperationOutcome")
    return body["issue"]


def _names(bundle, key=lambda r: r["name"]):
    return [key(e["resource"]) for e in bundle["entry"]]


def _path(url: str) -> str:
    return url.replace("https://testserver", "").replace("http://testserver", "")


def _link(bundle, relation):
    return next((link["url"] for link in bundle["link"] if link["relation"] == relation), None)


def test_capability_entries_describe_what_is_served():
    types = {c["type"]: c for c in CAPABILITY}
    assert set(types) == {"Organization", "Practitioner", "PractitionerRole", "Location"}
    for c in CAPABILITY:
        assert [i["code"] for i in c["interaction"]] == ["read", "search-type"]
    assert {p["name"] for p in types["Organization"]["searchParam"]} == {"_id", "name", "type", "partof"}
    assert {p["name"] for p in types["Practitioner"]["searchParam"]} == {"_id", "name"}
    assert {p["name"] for p in types["Location"]["searchParam"]} == {"_id", "name", "partof"}


def test_read_county_hospital_organization(client, county, db):
    oid = county.org["county_hospital"]
    with db.unit_of_work() as s:
        s.get(Organization, oid).phone = "0376-1234567"
        s.get(Organization, county.org["thc1"]).parent_id = oid
    o = _ok(client.get(f"/fhir/Organization/{oid}", headers=fh(county)), "Organization")
    assert o["id"] == str(oid) and o["name"] == "青岚县人民医院" and o["active"] is True
    assert o["identifier"] == [{"use": "official", "system": ORG_SYSTEM, "value": "CH411530"}]
    assert o["type"][0]["coding"] == [
        {"system": KIND_SYSTEM, "code": "county_hospital", "display": "县人民医院"},
        {"system": TIER_SYSTEM, "code": "county", "display": "县级"}]
    assert o["extension"] == [{"url": MEDICAL_COMMUNITY_EXT, "valueString": "青岚县医共体"}]
    assert o["address"][0]["extension"] == [{"url": ids.DIVISION_CODE_EXT, "valueCode": COUNTY}]
    assert o["address"][0]["text"] == "青岚县"
    assert o["telecom"] == [{"system": "phone", "value": "0376-1234567", "use": "work"}]
    assert "partOf" not in o
    thc1 = _ok(client.get(f"/fhir/Organization/{county.org['thc1']}", headers=fh(county)), "Organization")
    assert thc1["partOf"] == {"reference": f"Organization/{oid}"}
    clinic = _ok(client.get(f"/fhir/Organization/{county.org['vc11']}", headers=fh(county)), "Organization")
    assert "extension" not in clinic and clinic["address"][0]["text"] == "王庄村"


def test_search_organizations(client, county, db):
    h = fh(county)
    with db.unit_of_work() as s:
        s.get(Organization, county.org["thc1"]).parent_id = county.org["county_hospital"]
        s.get(Organization, county.org["thc2"]).parent_id = county.org["county_hospital"]
    everything = _ok(client.get("/fhir/Organization", headers=h), "Organization")
    assert everything["total"] == 4
    assert _names(_ok(client.get("/fhir/Organization", params={"name": "青岚"}, headers=h), "Organization")) \
        == ["青岚县人民医院"]
    assert _names(_ok(client.get("/fhir/Organization", params={"name": "人民医院"}, headers=h), "Organization")) \
        == []  # starts with, not contains
    assert _names(_ok(client.get("/fhir/Organization", params={"type": "township_centre"}, headers=h),
                      "Organization")) == ["城关镇卫生院", "白塔乡卫生院"]
    assert _ok(client.get("/fhir/Organization", params={"type": f"{KIND_SYSTEM}|village_clinic"}, headers=h),
               "Organization")["total"] == 1
    for partof in (f"Organization/{county.org['county_hospital']}", str(county.org["county_hospital"])):
        b = _ok(client.get("/fhir/Organization", params={"partof": partof}, headers=h), "Organization")
        assert _names(b) == ["城关镇卫生院", "白塔乡卫生院"]
    b = _ok(client.get("/fhir/Organization", params={"_id": f"{county.org['vc11']},{county.org['thc2']}"},
                       headers=h), "Organization")
    assert sorted(_names(b)) == sorted(["王庄村卫生室", "白塔乡卫生院"])
    assert _outcome(client.get("/fhir/Organization", params={"type": "hospital"}, headers=h), 400)[0]["expression"] \
        == ["type"]
    assert _outcome(client.get("/fhir/Organization", params={"partof": "Location/1"}, headers=h), 400)[0][
        "expression"] == ["partof"]


def test_organization_paging_links(client, county):
    h = fh(county)
    p1 = _ok(client.get("/fhir/Organization", params={"_count": 3}, headers=h), "Organization")
    assert p1["total"] == 4 and len(p1["entry"]) == 3
    assert _link(p1, "previous") is None
    assert "_page=1" in _link(p1, "self") and "_count=3" in _link(p1, "self")
    p2 = _ok(client.get(_path(_link(p1, "next")), headers=h), "Organization")
    assert len(p2["entry"]) == 1 and _link(p2, "next") is None
    assert "_page=1" in _link(p2, "previous")
    assert not set(_names(p1)) & set(_names(p2))
    assert _outcome(client.get("/fhir/Organization", params={"_count": "x"}, headers=h), 400)[0]["expression"] \
        == ["_count"]


def test_read_village_doctor_practitioner_with_qualification_and_id_number(client, county, db):
    with db.read_only() as s:
        doc = s.query(Practitioner).filter_by(name="赵村医").one()
        pid, idn = doc.id, doc.id_number
    p = _ok(client.get(f"/fhir/Practitioner/{pid}", headers=fh(county)), "Practitioner")
    assert p["name"] == [{"use": "official", "text": "赵村医", "family": "赵", "given": ["村医"]}]
    assert p["gender"] == "male" and p["birthDate"] == "1975-05-01" and p["active"] is True
    assert p["qualification"][0]["code"]["coding"] == [
        {"system": QUALIFICATION_SYSTEM, "code": "rural_doctor_cert", "display": "乡村医生执业证书"}]
    assert [(i["system"], i["value"]) for i in p["identifier"]] == [(ids.RESIDENT_ID_NUMBER, idn)]


def test_search_practitioners_leaves_out_the_id_number(client, county):
    h = fh(county)
    b = _ok(client.get("/fhir/Practitioner", headers=h), "Practitioner")
    assert b["total"] == 2
    assert all("identifier" not in e["resource"] for e in b["entry"])
    found = _ok(client.get("/fhir/Practitioner", params={"name": "赵"}, headers=h), "Practitioner")
    assert _names(found, lambda r: r["name"][0]["text"]) == ["赵村医"]
    pid = found["entry"][0]["resource"]["id"]
    assert _ok(client.get("/fhir/Practitioner", params={"_id": pid}, headers=h), "Practitioner")["total"] == 1
    p1 = _ok(client.get("/fhir/Practitioner", params={"_count": 1, "_page": 2}, headers=h), "Practitioner")
    assert len(p1["entry"]) == 1 and _link(p1, "next") is None and "_page=1" in _link(p1, "previous")


def test_practitioner_roles(client, county, db):
    h = fh(county)
    with db.read_only() as s:
        doc = s.query(Practitioner).filter_by(name="赵村医").one().id
    rid = f"{doc}-{county.org['vc11']}"
    role = _ok(client.get(f"/fhir/PractitionerRole/{rid}", headers=h), "PractitionerRole")
    assert role["practitioner"]["reference"] == f"Practitioner/{doc}"
    assert role["organization"] == {"reference": f"Organization/{county.org['vc11']}"}
    assert role["code"][0]["coding"] == [{"system": PROFESSION_SYSTEM, "code": "village_doctor", "display": "乡村医生"}]
    b = _ok(client.get("/fhir/PractitionerRole", params={"organization": f"Organization/{county.org['thc1']}"},
                       headers=h), "PractitionerRole")
    assert b["total"] == 1 and b["entry"][0]["resource"]["practitioner"]["display"] == "钱全科"
    assert _ok(client.get("/fhir/PractitionerRole", params={"practitioner": str(doc)}, headers=h),
               "PractitionerRole")["total"] == 1
    _outcome(client.get(f"/fhir/PractitionerRole/{doc}-{county.org['thc2']}", headers=h), 404)
    _outcome(client.get("/fhir/PractitionerRole/abc", headers=h), 404)


def test_read_village_location(client, county):
    loc = _ok(client.get(f"/fhir/Location/{V11}", headers=fh(county)), "Location")
    assert loc["id"] == V11 and loc["name"] == "王庄村" and loc["mode"] == "instance"
    assert loc["identifier"] == [{"use": "official", "system": DIVISION_SYSTEM, "value": V11}]
    assert loc["partOf"] == {"reference": f"Location/{T1}"}
    assert loc["type"][0]["coding"][0] == {"system": LEVEL_SYSTEM, "code": "village", "display": "村（社区）"}
    assert loc["physicalType"]["coding"][0]["system"] == PHYSICAL_TYPE
    assert loc["physicalType"]["coding"][0]["code"] == "area"
    top = _ok(client.get(f"/fhir/Location/{COUNTY}", headers=fh(county)), "Location")
    assert "partOf" not in top and top["type"][0]["coding"][0]["code"] == "county"


def test_search_locations(client, county):
    h = fh(county)
    assert _ok(client.get("/fhir/Location", headers=h), "Location")["total"] == 6
    kids = _ok(client.get("/fhir/Location", params={"partof": f"Location/{T1}"}, headers=h), "Location")
    assert [e["resource"]["id"] for e in kids["entry"]] == [V11, V12]
    townships = _ok(client.get("/fhir/Location", params={"partof": COUNTY}, headers=h), "Location")
    assert [e["resource"]["id"] for e in townships["entry"]] == [T1, T2]
    assert _names(_ok(client.get("/fhir/Location", params={"name": "王"}, headers=h), "Location")) == ["王庄村"]
    both = _ok(client.get("/fhir/Location", params={"name": "李", "partof": T1}, headers=h), "Location")
    assert _names(both) == ["李家湾村"]
    assert _ok(client.get("/fhir/Location", params={"_id": T2}, headers=h), "Location")["total"] == 1
    p1 = _ok(client.get("/fhir/Location", params={"_count": 4}, headers=h), "Location")
    p2 = _ok(client.get(_path(_link(p1, "next")), headers=h), "Location")
    assert len(p1["entry"]) == 4 and len(p2["entry"]) == 2 and _link(p2, "next") is None
    assert _outcome(client.get("/fhir/Location", params={"partof": "12"}, headers=h), 400)[0]["expression"] \
        == ["partof"]


@pytest.mark.parametrize("path", ["/fhir/Organization/999999", "/fhir/Organization/abc", "/fhir/Practitioner/999999",
                                  "/fhir/Location/411530999999", "/fhir/Location/nowhere"])
def test_unknown_ids_are_404_outcomes(client, county, path):
    assert _outcome(client.get(path, headers=fh(county)), 404)[0]["code"] == "not-found"


@pytest.mark.parametrize("rtype", ["Organization", "Practitioner", "PractitionerRole", "Location"])
def test_unknown_search_parameters_are_400_naming_them(client, county, rtype):
    issues = _outcome(client.get(f"/fhir/{rtype}", params={"colour": "red", "address": "x"}, headers=fh(county)),
                      400)
    assert sorted(i["expression"][0] for i in issues) == ["address", "colour"]
    assert all(i["code"] == "not-supported" for i in issues)


def test_needs_registry_read(client, county, db):
    with db.unit_of_work() as s:
        sec.create_user(s, username="citizen", display_name="居民", role="resident", password=PASSWORD)
        token, _ = sec.create_token(s, "citizen", "test")
    h = {"Authorization": f"Bearer {token}", "Accept": FHIR}
    for path in ("/fhir/Organization", f"/fhir/Organization/{county.org['vc11']}", "/fhir/Practitioner",
                 "/fhir/Practitioner/1", "/fhir/PractitionerRole", f"/fhir/Location/{V11}", "/fhir/Location"):
        issues = _outcome(client.get(path, headers=h), 403)
        assert issues[0]["code"] == "forbidden" and "registry.read" in issues[0]["diagnostics"]
    assert _outcome(client.get("/fhir/Location"), 401)[0]["code"] == "login"
    # supervision staff may read the registry but no resident data
    assert _ok(client.get(f"/fhir/Location/{T2}", headers=fh(county, "supervision")), "Location")["name"] == "白塔乡"


def test_other_formats_are_refused(client, county):
    _outcome(client.get("/fhir/Location", params={"_format": "xml"}, headers=fh(county)), 415)
