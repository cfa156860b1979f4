"""Test fixtures: every database test runs on SQLite *and* PostgreSQL, against the migrated schema.

PostgreSQL comes from ``RHIP_TEST_PG_URL`` (``make test`` starts a throw-away server and sets it).
Without it the PostgreSQL half of the suite fails, it does not skip.
"""

from __future__ import annotations

import os
import shutil
import uuid

os.environ.setdefault("RHIP_ARGON2_MEMORY_KIB", "8192")  # argon2id still, cheaper for the suite
os.environ.setdefault("RHIP_ARGON2_TIME_COST", "1")

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from rhip.kit.db import Database
from rhip.kit.migrate import upgrade

BACKENDS = ["sqlite", "postgresql"]


def _pg_admin_url() -> str:
    url = os.environ.get("RHIP_TEST_PG_URL")
    if not url:
        pytest.fail("RHIP_TEST_PG_URL is not set: run the suite with `make test`, which starts PostgreSQL")
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def pg_template(worker_id) -> str:
    admin = _pg_admin_url()
    name = f"rhip_tpl_{worker_id}_{uuid.uuid4().hex[:6]}"
    eng = create_engine(make_url(admin).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield name
    eng = create_engine(make_url(admin).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    eng.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """A fresh migrated database per test."""
    if request.param == "sqlite":
        path = tmp_path / "rhip.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("pg_template")
    admin = _pg_admin_url()
    name = f"rhip_t_{uuid.uuid4().hex[:12]}"
    eng = create_engine(make_url(admin).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    with eng.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    eng.dispose()


@pytest.fixture
def db(db_url):
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def county(db):
    """A small fixed county (see tests/factories.py)."""
    from tests.factories import build_county

    return build_county(db)


@pytest.fixture
def app(db, tmp_path):
    from rhip.app import create_app
    from rhip.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", database_url=db.url)
    return create_app(settings, db)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="https://testserver") as c:
        yield c
