"""Keyset paging for Patient, Condition and AllergyIntolerance: a page reached through a next/previous link stays
the same while rows are added before it (both engines)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from rhip.security.models import AuditEvent, AuditSubject
from tests.factories import V11, resident_row
from tests.fhir.support import fh
from tests.fhir.test_immunization_allergy import allergy

HIS = "urn:rhip:sid:his:CH411530:visit"


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _link(bundle: dict, relation: str) -> str | None:
    return next((_path(link["url"]) for link in bundle["link"] if link["relation"] == relation), None)


def _condition(county, source: str, recorded: str | None) -> dict:
    c = {"resourceType": "Condition", "identifier": [{"system": HIS, "value": source}],
         "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                        "code": "active"}]},
         "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I10"}]},
         "subject": {"reference": f"Patient/{county.residents['wang']}"}}
    if recorded:
        c["recordedDate"] = recorded
    return c


def test_patient_pages_stay_stable_while_patients_are_added(client, county, db):
    h = fh(county)
    births = lambda b: [e["resource"]["birthDate"] for e in b["entry"]]
    first = client.get("/fhir/Patient", params={"_sort": "-birthdate", "_count": 2}, headers=h).json()
    assert births(first) == ["2022-02-03", "1980-07-07"] and first["total"] == 5
    assert _link(first, "previous") is None
    with db.unit_of_work() as s:  # a newborn registers between two page requests: it sorts first
        s.add(resident_row("新生儿", "1", date(2025, 6, 1), V11, 9))
    second = client.get(_link(first, "next"), headers=h).json()
    assert births(second) == ["1958-03-14", "1955-08-01"] and second["total"] == 6
    third = client.get(_link(second, "next"), headers=h).json()
    assert births(third) == ["1949-12-31"] and _link(third, "next") is None
    back = client.get(_link(third, "previous"), headers=h).json()
    assert births(back) == ["1958-03-14", "1955-08-01"]
    again = client.get(_link(back, "previous"), headers=h).json()
    assert births(again) == ["2022-02-03", "1980-07-07"]
    newest = client.get(_link(again, "previous"), headers=h).json()  # walking back reaches the newborn
    assert births(newest) == ["2025-06-01"] and _link(newest, "previous") is None
    # the default order (name) and _page (numbered pages) keep working
    by_name = client.get("/fhir/Patient", params={"_count": 4}, headers=h).json()
    rest = client.get(_link(by_name, "next"), headers=h).json()
    names = [e["resource"]["name"][0]["text"] for b in (by_name, rest) for e in b["entry"]]
    assert len(names) == 6 == len(set(names))
    numbered = client.get("/fhir/Patient", params={"_sort": "-birthdate", "_count": 2, "_page": 2}, headers=h).json()
    assert births(numbered) == ["1980-07-07", "1958-03-14"] and "_page=3" in _link(numbered, "next")
    bad = client.get("/fhir/Patient", params={"_sort": "birthdate", "_after": "soon~1"}, headers=h)
    assert bad.status_code == 400 and bad.json()["issue"][0]["expression"] == ["_after"]


def test_only_the_patients_returned_are_audited(client, county, db):
    client.get("/fhir/Patient", params={"_sort": "birthdate", "_count": 2}, headers=fh(county))
    with db.read_only() as s:
        last = s.scalar(select(AuditEvent.id).where(AuditEvent.action == "resident.search")
                        .order_by(AuditEvent.id.desc()))
        subjects = set(s.scalars(select(AuditSubject.resident_id).where(AuditSubject.event_id == last)))
    assert subjects == {county.residents["li"], county.residents["wang"]}  # the two oldest, not the peeked third


def test_condition_pages_stay_stable_and_undated_conditions_sort_last(client, county):
    h = fh(county)
    for i, day in enumerate(("2020-01-05", None, "2021-01-05", "2022-01-05")):
        assert client.post("/fhir/Condition", json=_condition(county, f"C{i}", day), headers=h).status_code == 201
    ids = lambda b: [e["resource"]["identifier"][0]["value"] for e in b["entry"]]
    first = client.get("/fhir/Condition", params={"patient": county.residents["wang"], "_count": 2}, headers=h).json()
    assert ids(first) == ["C3", "C2"]
    assert client.post("/fhir/Condition", json=_condition(county, "C9", "2023-01-05"), headers=h).status_code == 201
    second = client.get(_link(first, "next"), headers=h).json()
    assert ids(second) == ["C0", "C1"]  # the condition without a recorded date comes last, on both engines
    assert _link(second, "next") is None
    assert ids(client.get(_link(second, "previous"), headers=h).json()) == ["C3", "C2"]
    oldest_first = client.get("/fhir/Condition", params={"patient": county.residents["wang"], "_sort": "date"},
                              headers=h).json()
    assert ids(oldest_first) == ["C1", "C0", "C2", "C3", "C9"]


def test_allergy_pages_stay_stable_while_allergies_are_added(client, county):
    h = fh(county)
    for i, day in enumerate(("2019-05-03", "2020-05-03", "2021-05-03")):
        r = client.post("/fhir/AllergyIntolerance", json=allergy(county, source=f"A{i}", recordedDate=day), headers=h)
        assert r.status_code == 201, r.text
    ids = lambda b: [e["resource"]["identifier"][0]["value"] for e in b["entry"]]
    first = client.get("/fhir/AllergyIntolerance", params={"patient": county.residents["wang"], "_count": 2},
                       headers=h).json()
    assert ids(first) == ["A2", "A1"] and first["total"] == 3
    assert client.post("/fhir/AllergyIntolerance", json=allergy(county, source="A9", recordedDate="2024-01-01"),
                       headers=h).status_code == 201
    second = client.get(_link(first, "next"), headers=h).json()
    assert ids(second) == ["A0"] and second["total"] == 4


def test_rows_loaded_in_bulk_page_by_last_updated_like_the_rest(client, county, db):
    """Conditions loaded outside SQLAlchemy (the synthetic county's way: kit.dialect.bulk_insert and staged
    loads) with one shared last-updated second, some with a datetime and some with text: paging by
    ``_lastUpdated`` through next links returns each of them once — before the fix, SQLite stored them without
    microseconds and a page's cursor skipped every row sharing its instant."""
    from datetime import datetime

    from rhip.kit.dialect import bulk_insert
    from rhip.records.models import Condition

    at = datetime(2025, 7, 1, 8, 0, 0)
    cols = ("resident_id", "code_system", "code", "display", "category", "clinical_status", "source_system",
            "source_id", "version", "created_at", "updated_at")
    rows = [(county.residents["wang"], "http://hl7.org/fhir/sid/icd-10", "I10", "高血压", "problem-list-item",
             "active", HIS, f"BULK-{k}", 1, at, at if k % 2 else "2025-07-01 08:00:00") for k in range(7)]
    with db.unit_of_work() as s:
        bulk_insert(s.connection(), Condition.__table__, cols, rows)
        stored = set(s.scalars(select(Condition.updated_at).where(Condition.source_id.like("BULK-%"))))
    assert stored == {at}
    h = fh(county)
    path, seen = "/fhir/Condition?patient=" + str(county.residents["wang"]) + "&_sort=_lastUpdated&_count=2", []
    while path:
        page = client.get(path, headers=h).json()
        seen += [e["resource"]["identifier"][0]["value"] for e in page.get("entry", [])]
        path = _link(page, "next")
    bulk = [v for v in seen if v.startswith("BULK-")]
    assert sorted(bulk) == [f"BULK-{k}" for k in range(7)] and len(seen) == len(set(seen))
