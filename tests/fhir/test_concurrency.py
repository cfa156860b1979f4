"""The FHIR API under concurrency: a request being stored does not stop the server answering others, and two
servers writing to the same database at once (on SQLite: several uvicorn worker processes on one file) both
succeed — on SQLite the second writer waits for the write lock instead of failing with "database is locked".

No timing: the overlap is made with events set by hooks, and the waits on them have generous timeouts only so
that a regression fails instead of hanging."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import anyio
import httpx
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

import rhip.fhir.endpoints as endpoints
from rhip.app import create_app
from rhip.kit.db import Database
from rhip.records.models import Encounter, Observation
from rhip.settings import Settings
from tests.fhir.support import fh
from tests.fhir.test_records import bp, encounter

SAFETY = 30  # seconds: only reached when the behaviour under test is broken


def records_transaction(county, tag: str, n_obs: int = 5) -> dict:
    """A transaction Bundle: an encounter and ``n_obs`` observations in it, with source identifiers of their own."""
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": f"urn:uuid:enc-{tag}", "request": {"method": "POST", "url": "Encounter"},
         "resource": encounter(county, source=f"{tag}-ENC")},
        *[{"request": {"method": "POST", "url": "Observation"},
           "resource": {**bp(county, None, 140 + k, 90, source=f"{tag}-BP-{k}"),
                        "encounter": {"reference": f"urn:uuid:enc-{tag}"}}} for k in range(n_obs)],
    ]}


def _counts(db) -> tuple[int, int]:
    with db.read_only() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Encounter, Observation))


def test_the_server_answers_while_a_transaction_bundle_is_being_stored(app, county, monkeypatch):
    entered, release, released = threading.Event(), threading.Event(), []
    store = endpoints.process_bundle

    def slow_store(s, who, bundle, base, **options):  # holds the Bundle in its work until /healthz answered
        entered.set()
        released.append(release.wait(SAFETY))
        return store(s, who, bundle, base, **options)

    monkeypatch.setattr(endpoints, "process_bundle", slow_store)

    async def scenario() -> dict[str, httpx.Response]:
        out: dict[str, httpx.Response] = {}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as c:
            async def post_bundle():
                out["bundle"] = await c.post("/fhir", json=records_transaction(county, "SLOW"), headers=fh(county))

            async with anyio.create_task_group() as tg:
                tg.start_soon(post_bundle)
                await anyio.to_thread.run_sync(entered.wait, SAFETY)
                out["healthz"] = await c.get("/healthz")  # would wait for the Bundle if it ran on the event loop
                release.set()
        return out

    with ThreadPoolExecutor(1) as pool:  # an event loop of its own (another test may have left one in this thread)
        out = pool.submit(anyio.run, scenario).result()
    assert out["healthz"].status_code == 200
    assert released == [True], "the Bundle was released by the timeout, not by /healthz answering"
    assert out["bundle"].status_code == 200, out["bundle"].text
    assert [e["response"]["status"] for e in out["bundle"].json()["entry"]] == ["201 Created"] * 6


def test_two_servers_store_transaction_bundles_at_once(app, county, db, tmp_path, monkeypatch):
    """Server A is in the middle of storing a Bundle (its transaction open, on SQLite holding the write lock)
    when server B — its own engine and connections, as another worker process would have — starts writing."""
    other_db = Database(db.url)
    other = create_app(Settings(data_dir=tmp_path / "other", database_url=db.url), other_db)
    b_at_database, a_entered = threading.Event(), threading.Event()
    # B's first statement is about to run (on SQLite: BEGIN IMMEDIATE, which waits for A's lock): A may go on
    event.listen(other_db.engine, "before_cursor_execute", lambda *_: b_at_database.set())
    store, waited = endpoints.process_bundle, []

    def store_when_b_writes(s, who, bundle, base, **options):
        if not a_entered.is_set():  # the first Bundle to get here is A's
            a_entered.set()
            waited.append(b_at_database.wait(SAFETY))
        return store(s, who, bundle, base, **options)

    monkeypatch.setattr(endpoints, "process_bundle", store_when_b_writes)
    responses: dict[str, list[httpx.Response]] = {"A": [], "B": []}

    def serve(name: str, application, first_wait: threading.Event | None) -> None:
        with TestClient(application, base_url="https://testserver", raise_server_exceptions=False) as c:
            if first_wait is not None:
                first_wait.wait(SAFETY)
            for k in range(3):
                responses[name].append(c.post("/fhir", json=records_transaction(county, f"{name}{k}"),
                                              headers=fh(county)))

    try:
        threads = [threading.Thread(target=serve, args=("A", app, None)),
                   threading.Thread(target=serve, args=("B", other, a_entered))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(4 * SAFETY)
    finally:
        other_db.dispose()
    assert waited == [True], "server B never reached the database while A's Bundle was open"
    for name in "AB":
        assert [r.status_code for r in responses[name]] == [200] * 3, [r.text[:300] for r in responses[name]]
    assert _counts(db) == (6, 30)
