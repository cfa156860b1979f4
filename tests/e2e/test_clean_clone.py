"""The README's demo command works from a clean clone: make demo sets up a venv, migrates, generates,
creates the administrator, and the platform then serves. (A small profile keeps it quick.)"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_make_demo_from_a_clean_clone(tmp_path):
    clone = tmp_path / "rhip"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RHIP_")}
    args = 'DEMO_ARGS=--profile tiny --no-serve'
    first = subprocess.run(["make", "demo", args], cwd=clone, env=env, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert (clone / "data" / "rhip.db").exists()
    password = re.search(r"one-time password: (\S+)", first.stdout)
    assert password, first.stdout[-2000:]
    second = subprocess.run(["make", "demo", args], cwd=clone, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0 and "reusing the synthetic county" in second.stdout
    assert "one-time password" not in second.stdout

    port = _free_port()
    # httpx, unlike browsers, does not send Secure cookies to http://127.0.0.1
    server = subprocess.Popen([str(clone / ".venv" / "bin" / "rhip"), "serve", "--port", str(port)], cwd=clone,
                              env={**env, "RHIP_COOKIE_SECURE": "false"}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        assert httpx.get(f"{base}/console/login").status_code == 200
        assert "/api/residents" in httpx.get(f"{base}/api/openapi.json").json()["paths"]
        with httpx.Client(base_url=base) as c:
            page = c.get("/console/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            r = c.post("/console/login", data={"username": "admin", "password": password.group(1),
                                               "csrf_token": csrf}, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"].endswith("/console/password")
    finally:
        server.terminate()
        server.wait(10)
