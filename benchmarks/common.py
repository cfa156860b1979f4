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


def free_port() -> int:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """`uvicorn rhip.app:create_app` on a free loopback port, for the duration of a ``with`` block."""

    def __init__(self, url: str, workers: int = 1):
        self.url = url
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Server":
        import subprocess
        import sys
        import tempfile
        import time

        import httpx

        env = {**os.environ, "RHIP_DATABASE_URL": self.url, "RHIP_DATA_DIR": tempfile.mkdtemp(prefix="rhip-bench-")}
        self.proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "rhip.app:create_app", "--factory", "--host",
                                      "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
                                      "--no-access-log", *(["--workers", str(self.workers)] if self.workers > 1
                                                           else [])], env=env)
        for _ in range(300):
            try:
                if httpx.get(f"{self.base}/healthz").status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise SystemExit("the server did not start")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far (Linux /proc)."""
        fields = open(f"/proc/{self.proc.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(10)
