"""_summary=count, _sort and _lastUpdated on Patient and the record types."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from rhip.records.models import Observation
from tests.fhir.test_records import bp
from tests.fhir.support import fh

FHIR = "application/fhir+json"


def _seed(client, county):
    for i, day in enumerate(("2026-01-10", "2026-02-10", "2026-03-10")):
        r = client.post("/fhir/Observation", json=bp(county, None, 130 + i, 80, f"S{i}", f"{day}T09:00:00+08:00"),
                        headers=fh(county))
        assert r.status_code == 201, r.text


def test_summary_count(client, county):
    _seed(client, county)
    b = client.get("/fhir/Observation", params={"patient": county.residents["zhang"], "_summary": "count"},
                   headers=fh(county)).json()
    assert b == {"resourceType": "Bundle", "type": "searchset", "total": 3}
    p = client.get("/fhir/Patient", params={"gender": "female", "_summary": "count"}, headers=fh(county)).json()
    assert p["total"] == 2 and "entry" not in p
    bad = client.get("/fhir/Patient", params={"_summary": "text"}, headers=fh(county))
    assert bad.status_code == 400 and bad.json()["issue"][0]["expression"] == ["_summary"]


def test_sort(client, county):
    _seed(client, county)
    h = fh(county)

    def days(params):
        b = client.get("/fhir/Observation", params={"patient": county.residents["zhang"], **params}, headers=h).json()
        return [e["resource"]["effectiveDateTime"][:10] for e in b["entry"]]

    assert days({}) == ["2026-03-10", "2026-02-10", "2026-01-10"]  # newest first by default
    assert days({"_sort": "date"}) == ["2026-01-10", "2026-02-10", "2026-03-10"]
    assert days({"_sort": "-date"}) == ["2026-03-10", "2026-02-10", "2026-01-10"]
    births = [e["resource"]["birthDate"] for e in
              client.get("/fhir/Patient", params={"_sort": "-birthdate"}, headers=h).json()["entry"]]
    assert births == sorted(births, reverse=True)
    assert client.get("/fhir/Patient", params={"_sort": "colour"}, headers=h).status_code == 400


def test_last_updated(client, county, db):
    _seed(client, county)
    with db.unit_of_work() as s:
        s.execute(update(Observation).where(Observation.source_id == "S0").values(updated_at=datetime(2025, 1, 1)))
    h = fh(county)
    recent = client.get("/fhir/Observation", params={"patient": county.residents["zhang"], "_lastUpdated": "ge2026"},
                        headers=h).json()
    assert sorted(e["resource"]["identifier"][0]["value"] for e in recent["entry"]) == ["S1", "S2"]
    old = client.get("/fhir/Observation", params={"_lastUpdated": "lt2026-01-01"}, headers=h).json()
    assert [e["resource"]["identifier"][0]["value"] for e in old["entry"]] == ["S0"]
    by_updated = client.get("/fhir/Observation", params={"_sort": "_lastUpdated"}, headers=h).json()
    assert by_updated["entry"][0]["resource"]["identifier"][0]["value"] == "S0"
    patients = client.get("/fhir/Patient", params={"_lastUpdated": "ge2000"}, headers=h).json()
    assert patients["total"] == 5


def _path(url: str) -> str:
    """The path and query of an absolute link (the test client talks to its own host)."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_paging_links_stay_stable_while_records_are_added(client, county):
    h = fh(county)
    for i in range(5):
        day = f"2026-01-{10 + i:02d}"
        assert client.post("/fhir/Observation", json=bp(county, None, 130, 80, f"K{i}", f"{day}T09:00:00+08:00"),
                           headers=h).status_code == 201
    first = client.get("/fhir/Observation", params={"patient": county.residents["zhang"], "_count": 2}, headers=h).json()
    ids1 = [e["resource"]["identifier"][0]["value"] for e in first["entry"]]
    assert ids1 == ["K4", "K3"] and first["total"] == 5
    assert {link["relation"] for link in first["link"]} == {"self", "next"}
    nxt = next(link["url"] for link in first["link"] if link["relation"] == "next")
    # a newer reading arrives between two page requests: with numbered pages K3 would be shown again
    assert client.post("/fhir/Observation", json=bp(county, None, 130, 80, "K9", "2026-02-01T09:00:00+08:00"),
                       headers=h).status_code == 201
    second = client.get(_path(nxt), headers=h).json()
    assert [e["resource"]["identifier"][0]["value"] for e in second["entry"]] == ["K2", "K1"]
    third = client.get(_path(next(link["url"] for link in second["link"] if link["relation"] == "next")),
                       headers=h).json()
    assert [e["resource"]["identifier"][0]["value"] for e in third["entry"]] == ["K0"]
    assert "next" not in {link["relation"] for link in third["link"]}
    back = client.get(_path(next(link["url"] for link in third["link"] if link["relation"] == "previous")),
                      headers=h).json()
    assert [e["resource"]["identifier"][0]["value"] for e in back["entry"]] == ["K2", "K1"]
    bad = client.get("/fhir/Observation", params={"_after": "yesterday"}, headers=h)
    assert bad.status_code == 400 and bad.json()["issue"][0]["expression"] == ["_after"]
