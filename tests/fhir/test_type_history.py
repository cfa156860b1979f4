"""History of a whole type (GET /fhir/{type}/_history) and _since: every version in the user's scope, newest
first, deletions included, paged like searches (keyset _after links, or _page), audited per page."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from rhip.kit import clock
from tests.fhir.support import fh
from tests.fhir.test_history import _audited, _outcome
from tests.fhir.test_records import bp, encounter


@pytest.fixture
def ticking(monkeypatch):
    """A clock that moves a minute at each reading: every version gets its own lastUpdated."""
    t = {"now": datetime(2026, 3, 1, 8, 0)}

    def now():
        t["now"] += timedelta(minutes=1)
        return t["now"]

    monkeypatch.setattr(clock, "now", now)
    return t


def _versions(b: dict) -> list[tuple[str, str, str]]:
    """(id, version, method) of each entry."""
    return [(e["fullUrl"].rsplit("/", 1)[1], e["response"]["etag"][3:-1], e["request"]["method"])
            for e in b["entry"]]


def _next(b: dict) -> dict[str, list[str]] | None:
    link = next((x["url"] for x in b["link"] if x["relation"] == "next"), None)
    return parse_qs(urlsplit(link).query) if link else None


def test_type_history_lists_every_version_newest_first_with_deletes(client, county, db, ticking):
    h = fh(county)
    enc = client.post("/fhir/Encounter", json=encounter(county), headers=h).json()
    a = client.post("/fhir/Observation", json=bp(county, enc["id"], 150, 95, source="A"), headers=h).json()
    b = client.post("/fhir/Observation", json=bp(county, enc["id"], 140, 90, source="B"), headers=h).json()
    client.post("/fhir/Observation", json=bp(county, enc["id"], 130, 85, source="A"), headers=h)  # A version 2
    assert client.delete(f"/fhir/Observation/{b['id']}", headers=h).status_code == 204
    out = client.post("/fhir/Observation", json=bp(county, None, source="OUT", rid_key="out"), headers=h).json()
    hist = client.get("/fhir/Observation/_history", headers=h).json()
    assert hist["type"] == "history" and hist["total"] == 5
    assert _versions(hist) == [(out["id"], "1", "POST"), (b["id"], "2", "DELETE"), (a["id"], "2", "PUT"),
                               (b["id"], "1", "POST"), (a["id"], "1", "POST")]
    by_version = {(i, v): e for (i, v, _), e in zip(_versions(hist), hist["entry"])}
    assert "resource" not in by_version[(b["id"], "2")]
    assert by_version[(a["id"], "1")]["resource"] == a
    assert by_version[(a["id"], "2")]["resource"]["component"][0]["valueQuantity"]["value"] == 130
    # the village doctor sees only the patients of the villages they serve
    doctor = client.get("/fhir/Observation/_history", headers=fh(county, "village_doctor")).json()
    assert out["id"] not in {i for i, _, _ in _versions(doctor)} and doctor["total"] == 4
    assert (("observation.history", county.residents["zhang"]) in _audited(db, "observation.history"))


def test_type_history_pages_by_cursor_and_by_number_and_since(client, county, ticking):
    h = fh(county)
    made = [client.post("/fhir/Observation", json=bp(county, None, 120 + k, 80, source=f"P{k}"), headers=h).json()
            for k in range(5)]
    seen, params = [], {"_count": "2"}
    while params is not None:
        page = client.get("/fhir/Observation/_history", params=params, headers=h).json()
        assert page["total"] == 5
        seen += [i for i, _, _ in _versions(page)]
        params = _next(page)
    assert seen == [m["id"] for m in reversed(made)]
    second = client.get("/fhir/Observation/_history", params={"_count": 2, "_page": 2}, headers=h).json()
    assert [i for i, _, _ in _versions(second)] == seen[2:4]
    assert {x["relation"] for x in second["link"]} == {"self", "next", "previous"}
    since = made[3]["meta"]["lastUpdated"]
    recent = client.get("/fhir/Observation/_history", params={"_since": since}, headers=h).json()
    assert recent["total"] == 2 and [i for i, _, _ in _versions(recent)] == [made[4]["id"], made[3]["id"]]
    assert client.get("/fhir/Patient/_history", params={"_since": since}, headers=h).json()["total"] == 0
    # _total=none: the same pages without Bundle.total (nothing counted)
    seen, params = [], {"_count": "2", "_total": "none"}
    while params is not None:
        page = client.get("/fhir/Observation/_history", params=params, headers=h).json()
        assert "total" not in page
        seen += [i for i, _, _ in _versions(page)]
        params = _next(page)
    assert seen == [m["id"] for m in reversed(made)]


def test_instance_history_since(client, county, ticking):
    h = fh(county)
    v1 = client.post("/fhir/Observation", json=bp(county, None, 150, 95, source="S"), headers=h).json()
    v2 = client.post("/fhir/Observation", json=bp(county, None, 140, 95, source="S"), headers=h).json()
    client.post("/fhir/Observation", json=bp(county, None, 130, 95, source="S"), headers=h)
    oid = v1["id"]
    hist = client.get(f"/fhir/Observation/{oid}/_history", params={"_since": v2["meta"]["lastUpdated"]},
                      headers=h).json()
    assert hist["total"] == 2 and [v for _, v, _ in _versions(hist)] == ["3", "2"]
    later = (datetime.fromisoformat(v1["meta"]["lastUpdated"]) + timedelta(days=1)).isoformat()
    assert client.get(f"/fhir/Observation/{oid}/_history", params={"_since": later}, headers=h).json()["total"] == 0


def test_history_parameters_are_checked(client, county):
    h = fh(county)
    assert _outcome(client.get("/fhir/Observation/_history", params={"code": "x"}, headers=h), 400)[0][
        "expression"] == ["code"]
    assert _outcome(client.get("/fhir/Observation/_history", params={"_since": "yesterday"}, headers=h), 400)[0][
        "expression"] == ["_since"]
    assert _outcome(client.get("/fhir/Observation/_history", params={"_after": "nonsense"}, headers=h), 400)
    assert _outcome(client.get("/fhir/Observation/_history", params={"_total": "estimate"}, headers=h), 400)[0][
        "expression"] == ["_total"]
    assert client.get("/fhir/Organization/_history", headers=h).status_code == 404


def _reference(db, username: str, since: datetime | None = None) -> list[tuple[str, str]]:
    """(id, version) of every Observation version the user may see, newest first, computed the plain way: every
    live row and every stored version, filtered by the user's scope, sorted by (lastUpdated, id, version)."""
    from sqlalchemy import select

    from rhip.fhir.models import ResourceHistory as H
    from rhip.records.models import Observation
    from rhip.registry.models import Resident
    from rhip.security import repository as srepo
    from rhip.security.service import principal_for

    with db.unit_of_work() as s:
        scope = principal_for(s, srepo.user_by_username(s, username), channel="api", client_addr=None).scope
        village = dict(s.execute(select(Resident.id, Resident.village_code)).all())
        rows = [tuple(r) for r in s.execute(select(Observation.updated_at, Observation.id, Observation.version,
                                                   Observation.resident_id))]
        rows += [tuple(r) for r in s.execute(select(H.last_updated, H.resource_id, H.version_id, H.resident_id)
                                             .where(H.resource_type == "Observation"))]
    rows = [r for r in rows if scope.covers(village[r[3]]) and (since is None or r[0] >= since)]
    return [(str(rid), str(vid)) for _, rid, vid, _ in sorted(rows, reverse=True)]


def test_type_history_pages_match_the_plain_ordering_with_ties_versions_and_deletes(client, county, db, monkeypatch):
    """Versions made at the same instant (ties on lastUpdated, even between a live row and a stored version of
    the same resource), updates and deletes spread over pages: following ``next`` links and numbered pages gives
    exactly the plain ordering, for users of every kind of scope, with and without _since."""
    t = {"now": datetime(2026, 3, 1, 8, 0)}
    monkeypatch.setattr(clock, "now", lambda: t["now"])
    h = fh(county)

    def post(k: int, who: str, value: int) -> str:
        r = client.post("/fhir/Observation", json=bp(county, None, value, 80, source=f"T{k}", rid_key=who),
                        headers=h)
        assert r.status_code in (200, 201), r.text
        return r.json()["id"]

    people = ["zhang", "li", "out", "child", "zhang", "li", "out", "zhang"]
    ids = {k: post(k, who, 120) for k, who in enumerate(people)}  # one instant for all of them
    t["now"] = datetime(2026, 3, 1, 9, 0)
    for k in (0, 2, 5):
        post(k, people[k], 130)  # version 2
    assert client.delete(f"/fhir/Observation/{ids[1]}", headers=h).status_code == 204
    t["now"] = datetime(2026, 3, 1, 10, 0)
    for k in (8, 9, 10):
        ids[k] = post(k, ["li", "zhang", "out"][k - 8], 120)
    post(0, "zhang", 140)  # version 3 at the same instant as …
    post(0, "zhang", 150)  # … version 4: (lastUpdated, id) equal, version decides
    assert client.delete(f"/fhir/Observation/{ids[9]}", headers=h).status_code == 204
    assert client.delete(f"/fhir/Observation/{ids[5]}", headers=h).status_code == 204

    for user in ("admin", "manager", "township", "village_doctor"):
        for since in (None, datetime(2026, 3, 1, 9, 0)):
            want = _reference(db, user, since)
            assert len(want) >= (19 if user == "admin" and since is None else 2), user
            extra = {"_since": since.isoformat()} if since else {}
            for count in (1, 2, 3, 5):
                seen, params = [], {"_count": str(count), **extra}
                while params is not None:
                    page = client.get("/fhir/Observation/_history", params=params, headers=fh(county, user)).json()
                    assert page["total"] == len(want)
                    seen += [(i, v) for i, v, _ in _versions(page)]
                    params = _next(page)
                assert seen == want, (user, since, count)
                numbered = []
                for n in range(1, len(want) // count + 2):
                    page = client.get("/fhir/Observation/_history", params={"_count": count, "_page": n, **extra},
                                      headers=fh(county, user)).json()
                    numbered += [(i, v) for i, v, _ in _versions(page)]
                assert numbered == want, (user, since, count)
