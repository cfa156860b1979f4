"""_include and _revinclude: included resources carry search.mode "include", respect scope, are audited and
are listed in the CapabilityStatement."""

from __future__ import annotations

from sqlalchemy import select

from rhip.fhir.validation import validate
from rhip.security.models import AuditEvent, AuditSubject
from tests.fhir.support import fh
from tests.fhir.test_records import bp, encounter


def _seed(client, county):
    """Zhang: an encounter with two blood pressures; Li (another village): one blood pressure."""
    h = fh(county)
    enc = client.post("/fhir/Encounter", json=encounter(county), headers=h).json()
    for i in range(2):
        r = client.post("/fhir/Observation", json=bp(county, enc["id"], source=f"Z{i}",
                                                     when=f"2026-03-02T09:4{i}:00+08:00"), headers=h)
        assert r.status_code == 201, r.text
    r = client.post("/fhir/Observation", json=bp(county, None, source="L0", rid_key="li"), headers=h)
    assert r.status_code == 201, r.text
    return enc


def _split(bundle):
    match = [(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"]
             if e["search"]["mode"] == "match"]
    inc = [(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"]
           if e["search"]["mode"] == "include"]
    return match, inc


def test_include_patient_and_encounter_of_observations(client, county):
    enc = _seed(client, county)
    b = client.get("/fhir/Observation", params={"code": "http://loinc.org|85354-9",
                                                "_include": ["Observation:patient", "Observation:encounter"]},
                   headers=fh(county)).json()
    match, inc = _split(b)
    assert len(match) == 3 and b["total"] == 3  # total counts matches only
    assert sorted(inc) == sorted([("Patient", str(county.residents["zhang"])), ("Patient", str(county.residents["li"])),
                                  ("Encounter", enc["id"])])  # each once although two observations refer to them
    assert all(e["fullUrl"].endswith(f"/{e['resource']['resourceType']}/{e['resource']['id']}") for e in b["entry"])
    nxt = client.get("/fhir/Observation", params={"_count": 1, "_include": "Observation:patient"},
                     headers=fh(county)).json()
    assert any("_include=Observation%3Apatient" in link["url"] for link in nxt["link"] if link["relation"] == "next")


def test_include_registry_references(client, county):
    _seed(client, county)
    b = client.get("/fhir/Encounter", params={"_include": "Encounter:service-provider"}, headers=fh(county)).json()
    assert _split(b)[1] == [("Organization", str(county.org["thc1"]))]
    roles = client.get("/fhir/PractitionerRole", params={"_include": ["PractitionerRole:practitioner",
                                                                       "PractitionerRole:organization"]},
                       headers=fh(county)).json()
    kinds = sorted(t for t, _ in _split(roles)[1])
    assert kinds == ["Organization", "Organization", "Practitioner", "Practitioner"]
    assert all("identifier" not in e["resource"] or all(i.get("system") != "urn:oid:2.16.156.10011.1.1"
                                                        for i in e["resource"]["identifier"])
               for e in roles["entry"] if e["resource"]["resourceType"] == "Practitioner")  # no ID numbers in lists
    orgs = client.get("/fhir/Organization", params={"_id": county.org["vc11"],
                                                    "_revinclude": "PractitionerRole:organization"},
                      headers=fh(county)).json()
    assert [t for t, _ in _split(orgs)[1]] == ["PractitionerRole"]


def test_revinclude_records_of_patients_and_encounters(client, county, db):
    enc = _seed(client, county)
    zhang = county.residents["zhang"]
    b = client.get("/fhir/Patient", params={"_id": zhang, "_revinclude": ["Observation:patient",
                                                                          "Encounter:patient"]},
                   headers=fh(county)).json()
    match, inc = _split(b)
    assert match == [("Patient", str(zhang))]
    assert sorted(t for t, _ in inc) == ["Encounter", "Observation", "Observation"]
    e = client.get("/fhir/Encounter", params={"_id": enc["id"], "_revinclude": "Observation:encounter"},
                   headers=fh(county)).json()
    assert sorted(t for t, _ in _split(e)[1]) == ["Observation", "Observation"]
    with db.read_only() as s:
        included = list(s.execute(select(AuditEvent.action, AuditSubject.resident_id)
                                  .join(AuditSubject, AuditSubject.event_id == AuditEvent.id)
                                  .where(AuditEvent.detail.like('%"include"%'))))
    assert ("observation.search", zhang) in included and ("encounter.search", zhang) in included


def test_included_resources_respect_scope(client, county):
    _seed(client, county)
    # the village doctor serves 王庄村 (Zhang), not 李家湾村 (Li)
    b = client.get("/fhir/Observation", params={"_include": "Observation:patient"},
                   headers=fh(county, "village_doctor")).json()
    match, inc = _split(b)
    assert len(match) == 2 and inc == [("Patient", str(county.residents["zhang"]))]
    li = client.get("/fhir/Patient", params={"_id": county.residents["li"], "_revinclude": "Observation:patient"},
                    headers=fh(county, "village_doctor")).json()
    assert li.get("entry", []) == []


def test_unknown_or_wildcard_include_is_refused(client, county):
    h = fh(county)
    for params, name in (({"_include": "Observation:colour"}, "_include"),
                         ({"_include": "Patient:organization"}, "_include"),
                         ({"_revinclude": "Observation:performer"}, "_revinclude"),
                         ({"_include": "*"}, "_include"),
                         ({"_include": "Observation"}, "_include")):
        r = client.get("/fhir/Observation", params=params, headers=h)
        assert r.status_code == 400, (params, r.text)
        issue = r.json()["issue"][0]
        assert issue["expression"] == [name] and name in issue["diagnostics"], issue
    assert "Observation:patient" in client.get("/fhir/Observation", params={"_include": "Observation:x"},
                                               headers=h).json()["issue"][0]["diagnostics"]


def test_capability_statement_lists_includes(client):
    statement = client.get("/fhir/metadata").json()
    assert validate(statement, "CapabilityStatement")["resourceType"] == "CapabilityStatement"
    cs = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert all(r.get(k) != [] for r in cs.values() for k in ("searchInclude", "searchRevInclude"))
    assert "searchRevInclude" not in cs["Immunization"]  # nothing refers to an Immunization
    assert "Observation:patient" in cs["Observation"]["searchInclude"]
    assert "DiagnosticReport:result" in cs["DiagnosticReport"]["searchInclude"]
    assert {"Observation:patient", "Condition:patient", "Encounter:patient", "Immunization:patient"} <= \
        set(cs["Patient"]["searchRevInclude"])
    assert "Observation:encounter" in cs["Encounter"]["searchRevInclude"]
    assert cs["Practitioner"]["searchRevInclude"] == ["PractitionerRole:practitioner"]
