"""The CapabilityStatement is truthful: every search parameter, _include and _revinclude it lists is run once per
resource type against the small test county, and must find the resource it was derived from."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from rhip.kit import clock
from rhip.programs import enrollment as enrol
from rhip.programs.models import Enrollment
from rhip.registry.models import Organization, Practitioner, Team
from rhip.security.service import system_principal
from tests.fhir.support import fh
from tests.fhir.test_golden import RECORD_CASES, Ids, _create
from tests.programs.support import add_condition


def _day(value: str) -> str:
    return value[:10]


def _coding(concept: dict) -> str:
    c = concept["coding"][0]
    return f"{c['system']}|{c['code']}"


def _ref(resource: dict, *paths: str) -> str | None:
    for path in paths:
        node = resource
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, list):
                node = node[0] if node else None
        if isinstance(node, dict) and "reference" in node:
            return node["reference"]
    return None


# search parameter → a value, taken from a resource, that the search must match it by
DATES = {"Encounter": lambda r: r["period"]["start"], "Observation": lambda r: r["effectiveDateTime"],
         "Condition": lambda r: r["recordedDate"], "Immunization": lambda r: r["occurrenceDateTime"],
         "MedicationRequest": lambda r: r["authoredOn"],
         "MedicationStatement": lambda r: r["effectivePeriod"]["start"],
         "DiagnosticReport": lambda r: r["effectiveDateTime"], "DocumentReference": lambda r: r["date"],
         "EpisodeOfCare": lambda r: r["period"]["start"], "CarePlan": lambda r: r["period"]["start"]}
VALUES = {
    "_id": lambda t, r: r["id"],
    "_lastUpdated": lambda t, r: "ge" + _day(r["meta"]["lastUpdated"]),
    "patient": lambda t, r: _ref(r, "subject", "patient"),
    "subject": lambda t, r: _ref(r, "subject", "patient"),
    "encounter": lambda t, r: _ref(r, "encounter", "context.encounter"),
    "code": lambda t, r: _coding(r.get("code") or r["medicationCodeableConcept"]),
    "vaccine-code": lambda t, r: _coding(r["vaccineCode"]),
    "type": lambda t, r: _coding(r["type"][0] if isinstance(r["type"], list) else r["type"]),
    "date": lambda t, r: _day(DATES[t](r)), "recorded-date": lambda t, r: _day(DATES[t](r)),
    "authoredon": lambda t, r: _day(DATES[t](r)), "effective": lambda t, r: _day(DATES[t](r)),
    "category": lambda t, r: (r["category"][0] if isinstance(r["category"][0], str)
                              else r["category"][0]["coding"][0]["code"]),
    "status": lambda t, r: r["status"],
    "clinical-status": lambda t, r: r["clinicalStatus"]["coding"][0]["code"],
    "intent": lambda t, r: r["intent"],
    "identifier": lambda t, r: f"{r['identifier'][0]['system']}|{r['identifier'][0]['value']}",
    "name": lambda t, r: (r["name"][0]["text"] if isinstance(r["name"], list) else r["name"])[:2],
    "family": lambda t, r: r["name"][0]["family"],
    "gender": lambda t, r: r["gender"],
    "birthdate": lambda t, r: r["birthDate"],
    "phone": lambda t, r: r["telecom"][0]["value"],
    "telecom": lambda t, r: r["telecom"][0]["value"],
    "partof": lambda t, r: r["partOf"]["reference"],
    "practitioner": lambda t, r: r["practitioner"]["reference"],
    "organization": lambda t, r: r["organization"]["reference"],
    "care-team": lambda t, r: _ref(r, "team", "careTeam"),
    "activity-date": lambda t, r: r["activity"][0]["detail"]["scheduledPeriod"]["start"],
    "participant": lambda t, r: r["participant"][0]["member"]["reference"],
}


def _seed(client, county, db) -> dict[str, dict]:
    """One resource of every type, as the server returns it."""
    with db.unit_of_work() as s:  # give an organization a parent, so that Organization?partof finds something
        s.execute(update(Organization).where(Organization.id == county.org["thc1"])
                  .values(parent_id=county.org["county_hospital"]))
    ids, h = Ids(county, db), fh(county)
    seeded = {}
    for rtype, name in RECORD_CASES:
        seeded.setdefault(rtype, _create(client, county, ids, rtype, name))
    seeded["Patient"] = client.get(f"/fhir/Patient/{county.residents['zhang']}", headers=h).json()
    seeded["Organization"] = client.get(f"/fhir/Organization/{county.org['thc1']}", headers=h).json()
    doc = ids.by_key["practitioner:doc"][1]
    seeded["Practitioner"] = client.get(f"/fhir/Practitioner/{doc}", headers=h).json()
    seeded["PractitionerRole"] = client.get(f"/fhir/PractitionerRole/{doc}-{county.org['vc11']}", headers=h).json()
    seeded["Location"] = client.get("/fhir/Location/411530101201", headers=h).json()
    # a programme enrolment (EpisodeOfCare, CarePlan) and a signed contract (CareTeam?patient=)
    add_condition(db, county.residents["zhang"], "I10", date(2019, 4, 2), cid="walk-I10")
    with db.unit_of_work() as s:
        enrol.recompute(s, system_principal("test"), [county.residents["zhang"]], on=date(2026, 3, 1))
        team = s.scalar(select(Team).where(Team.code == "T01"))
        vdoc = s.scalar(select(Practitioner.id).where(Practitioner.name == "赵村医"))
        episode = s.scalar(select(Enrollment.id).where(Enrollment.resident_id == county.residents["zhang"],
                                                       Enrollment.program == "hypertension"))
    today = clock.now().date().isoformat()
    r = client.post("/api/contracts", headers=h, json={
        "resident_id": county.residents["zhang"], "team_id": team.id, "doctor_id": vdoc, "packages": ["basic"],
        "consent_date": today, "consent_method": "written"})
    assert r.status_code == 201, r.text
    seeded["EpisodeOfCare"] = client.get(f"/fhir/EpisodeOfCare/{episode}", headers=h).json()
    seeded["CarePlan"] = client.get(f"/fhir/CarePlan/{episode}", headers=h).json()
    seeded["CareTeam"] = client.get(f"/fhir/CareTeam/{team.id}", headers=h).json()
    return seeded


def test_every_listed_search_parameter_works(client, county, db):
    seeded = _seed(client, county, db)
    h = fh(county)
    statement = client.get("/fhir/metadata").json()
    walked: dict[str, int] = {}
    for res in statement["rest"][0]["resource"]:
        rtype = res["type"]
        target = seeded[rtype]
        for p in res["searchParam"]:
            name = p["name"]
            assert name in VALUES, f"{rtype}?{name} is listed but this test has no value for it"
            value = (f"Patient/{county.residents['zhang']}" if (rtype, name) == ("CareTeam", "patient")
                     else VALUES[name](rtype, target))  # a team names its patients nowhere; the contract links them
            assert value, f"{rtype}?{name}: the seeded {rtype} has no value for it"
            r = client.get(f"/fhir/{rtype}", params={name: value, "_count": 200}, headers=h)
            assert r.status_code == 200, (rtype, name, value, r.text)
            found = {e["resource"]["id"] for e in r.json().get("entry", [])}
            assert target["id"] in found, f"{rtype}?{name}={value} did not find {rtype}/{target['id']}"
            walked[rtype] = walked.get(rtype, 0) + 1
        for kind, key in (("_include", "searchInclude"), ("_revinclude", "searchRevInclude")):
            for inc in res.get(key, []):
                r = client.get(f"/fhir/{rtype}", params={"_id": target["id"], kind: inc}, headers=h)
                assert r.status_code == 200, (rtype, kind, inc, r.text)
                assert target["id"] in {e["resource"]["id"] for e in r.json()["entry"]
                                        if e["search"]["mode"] == "match"}
    assert set(walked) == set(seeded) and len(seeded) == 17  # every type listed, each with its parameters


def test_every_listed_history_interaction_works(client, county, db):
    """history-type and history-instance, where listed, find the seeded resource's current version, also with
    _since at that version's lastUpdated (and not with _since after it)."""
    seeded = _seed(client, county, db)
    h = fh(county)
    walked = set()
    for res in client.get("/fhir/metadata").json()["rest"][0]["resource"]:
        rtype, codes = res["type"], {i["code"] for i in res["interaction"]}
        if not codes & {"history-type", "history-instance"}:
            continue
        target = seeded[rtype]
        version = (target["id"], target["meta"]["versionId"])
        since = target["meta"]["lastUpdated"]
        for code, path in (("history-type", f"/fhir/{rtype}/_history"),
                           ("history-instance", f"/fhir/{rtype}/{target['id']}/_history")):
            if code not in codes:
                continue
            for params, present in (({"_count": 200}, True), ({"_count": 200, "_since": since}, True),
                                    ({"_count": 200, "_since": "2999-01-01T00:00:00+08:00"}, False)):
                r = client.get(path, params=params, headers=h)
                assert r.status_code == 200, (rtype, code, r.text)
                b = r.json()
                assert b["type"] == "history"
                found = {(e["resource"]["id"], e["resource"]["meta"]["versionId"]) for e in b.get("entry", [])
                         if "resource" in e}
                assert (version in found) == present, (rtype, code, params)
            walked.add((rtype, code))
    assert {t for t, _ in walked} == {"Patient", "Encounter", "Condition", "Observation", "Immunization",
                                      "AllergyIntolerance", "MedicationRequest", "MedicationStatement",
                                      "DiagnosticReport", "DocumentReference"}
    assert len(walked) == 20


def test_includes_find_what_they_name(client, county, db):
    """A few includes whose targets the seeded data holds, checked by what they bring."""
    seeded = _seed(client, county, db)
    h = fh(county)

    def included(rtype, rid, **params):
        b = client.get(f"/fhir/{rtype}", params={"_id": rid, **params}, headers=h).json()
        return sorted(f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in b["entry"]
                      if e["search"]["mode"] == "include")

    report = seeded["DiagnosticReport"]
    assert included("DiagnosticReport", report["id"], _include="DiagnosticReport:result") == \
        [report["result"][0]["reference"]]
    lab = report["result"][0]["reference"].split("/")[1]
    assert included("Observation", lab, _revinclude="DiagnosticReport:result") == [f"DiagnosticReport/{report['id']}"]
    enc = seeded["Encounter"]
    assert f"DocumentReference/{seeded['DocumentReference']['id']}" in \
        included("Encounter", enc["id"], _revinclude="DocumentReference:encounter")
    assert included("MedicationStatement", seeded["MedicationStatement"]["id"], _include="MedicationStatement:source") \
        == [seeded["MedicationStatement"]["informationSource"]["reference"]]
    assert included("Location", "411530101201", _include="Location:partof") == ["Location/411530101000"]
    docs = client.get("/fhir/DocumentReference", params={"type": "http://loinc.org|18842-5"}, headers=h).json()
    assert docs["total"] == 1
    assert client.get("/fhir/DocumentReference", params={"type": "http://loinc.org|11506-3"},
                      headers=h).json()["total"] == 0
