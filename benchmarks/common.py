"""Helpers shared by the benchmarks: machine description, fresh databases, percentiles."""

from __future__ import annotations

import os
import platform
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def machine() -> str:
    return f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, {platform.machine()}"


def fresh_pg_database(admin_url: str) -> str:
    name = f"rhip_bench_{uuid.uuid4().hex[:8]}"
    eng = create_engine(make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)
