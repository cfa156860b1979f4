"""A real uvicorn server over a fresh migrated database holding the small county (tests/factories.py).

Shared by the client-library tests and the browser tests: ``live`` serves the whole app (console, /api,
/fhir) on a free loopback port in a background thread, for each backend of the ``db`` fixture.
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from fhirpy import SyncFHIRClient

from rhip.registry.models import Resident
from tests.factories import build_county


class Live:
    def __init__(self, base: str, county, db):
        self.base, self.county, self.db = base, county, db

    @property
    def fhir(self) -> str:
        return f"{self.base}/fhir"

    def fhirpy(self, key: str = "admin") -> SyncFHIRClient:
        return SyncFHIRClient(self.fhir, authorization=f"Bearer {self.county.tokens[key]}")

    def id_number(self, key: str) -> str:
        with self.db.read_only() as s:
            return s.get(Resident, self.county.residents[key]).id_number


@contextmanager
def serve(db, tmp_path):
    """A real uvicorn server over ``db`` holding the small county; yields a :class:`Live`."""
    from rhip.app import create_app
    from rhip.settings import Settings

    county = build_county(db)
    app = create_app(Settings(data_dir=tmp_path / "data", database_url=db.url, cookie_secure="false"), db)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            pytest.fail(f"the server did not start on {base} (thread alive: {thread.is_alive()})")
        time.sleep(0.05)
    yield Live(base, county, db)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    assert not thread.is_alive(), "uvicorn did not shut down"
