"""The `rhip` command line, run as a real process against each database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rhip.kit.migrate import current_revision

RHIP = [sys.executable, "-m", "rhip.cli"]


def rhip(*args: str, url: str | None = None, tmp: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    if url:
        env["RHIP_DATABASE_URL"] = url
    if tmp:
        env["RHIP_DATA_DIR"] = str(tmp)
    proc = subprocess.run([*RHIP, *args], capture_output=True, text=True, env=env, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"rhip {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.mark.parametrize("number,ok,fragment", [
    ("11010519491231002X", True, "1949-12-31"),
    ("110105491231002", True, "upgraded from 15 digits"),
    ("110105194912310021", False, "check character should be X"),
    ("11010519491331002X", False, "month 13"),
])
def test_check_id(number, ok, fragment):
    proc = rhip("check-id", number, check=False)
    assert (proc.returncode == 0) is ok
    assert fragment in proc.stdout


def test_check_id_json():
    out = json.loads(rhip("check-id", "11010519491231002X", "--json").stdout)
    assert out["valid"] and out["sex"] == "2" and out["birth_date"] == "1949-12-31"


def test_migrate_synth_and_users(db_url, tmp_path):
    rhip("migrate", url=db_url, tmp=tmp_path)
    from alembic.script import ScriptDirectory

    from rhip.kit.migrate import alembic_config

    assert current_revision(db_url) == ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
    out = rhip("synth", "--profile", "tiny", "--seed", "3", url=db_url, tmp=tmp_path)
    assert "people" in out.stdout and "structure" in out.stdout
    again = rhip("synth", "--profile", "tiny", "--seed", "3", url=db_url, tmp=tmp_path)
    assert "reused" in again.stdout
    wrong = rhip("synth", "--profile", "tiny", "--seed", "4", url=db_url, tmp=tmp_path, check=False)
    assert wrong.returncode == 1 and "seed 3" in wrong.stderr
    created = rhip("users", "create", "zhao", "--role", "commission_manager", "--division", "411530000000",
                   url=db_url, tmp=tmp_path)
    assert "one-time password" in created.stdout
    bad = rhip("users", "create", "qian", "--role", "king", url=db_url, tmp=tmp_path, check=False)
    assert bad.returncode == 1 and "role" in bad.stderr
    listed = rhip("users", "list", url=db_url, tmp=tmp_path).stdout
    assert "zhao" in listed and "411530000000" in listed
    weak = rhip("users", "set-password", "zhao", "--password", "weak", url=db_url, tmp=tmp_path, check=False)
    assert weak.returncode == 1 and "at least" in weak.stderr
    assert "password of zhao set" in rhip("users", "set-password", "zhao", "--password", "Strong-Passw0rd!",
                                          url=db_url, tmp=tmp_path).stdout
    token = rhip("users", "token", "zhao", url=db_url, tmp=tmp_path).stdout.strip()
    assert token.startswith("rhip_")


def test_demo_sets_up_once_with_demo_accounts(db_url, tmp_path):
    from rhip.kit.db import Database
    from rhip.security import repository as srepo
    from rhip.security import service as sec

    first = rhip("demo", "--profile", "tiny", "--no-serve", url=db_url, tmp=tmp_path)
    assert first.stdout.count("一次性密码") == 4  # admin and three demo users
    second = rhip("demo", "--profile", "tiny", "--no-serve", url=db_url, tmp=tmp_path)
    assert "reusing the synthetic county" in second.stdout and "一次性密码" not in second.stdout
    db = Database(db_url)
    with db.read_only() as s:
        scopes = {u: sec.principal_for(s, srepo.user_by_username(s, u), channel="cli", client_addr=None).scope
                  for u in ("admin", "vdoc", "township", "manager")}
        assert srepo.user_by_username(s, "vdoc").must_change_password
    db.dispose()
    assert scopes["admin"].everything
    assert scopes["manager"].prefixes == frozenset({"411530"})
    assert all(len(p) == 12 for p in scopes["vdoc"].prefixes) and scopes["vdoc"].prefixes
    assert all(len(p) == 9 for p in scopes["township"].prefixes)
