"""`rhip contracts expire | classify | facts` as real processes against each database."""

from __future__ import annotations

import csv
import io
import json

from tests.cli.test_cli import rhip
from tests.contracts.conftest import sign_body
from tests.factories import auth


def test_contracts_commands(client, setup, db, tmp_path):
    st = setup
    assert client.post("/api/contracts", json=sign_body(st), headers=auth(st.county, "admin")).status_code == 201
    first = rhip("contracts", "classify", url=db.url, tmp=tmp_path)
    assert "full: 5 residents" in first.stdout  # the first run classifies everyone
    facts = json.loads(rhip("contracts", "facts", "--as-of", "2026-06-01", url=db.url, tmp=tmp_path).stdout)
    t1 = {r["key"]: r for r in facts["rows"]}["411530101"]
    assert (t1["residents"], t1["signed"], t1["key_signed"]) == (4, 1, 1)
    rows = list(csv.DictReader(io.StringIO(rhip("contracts", "facts", "--as-of", "2026-06-01", "--by", "team",
                                                "--format", "csv", url=db.url, tmp=tmp_path).stdout)))
    assert {r["key"]: r["signed"] for r in rows} == {"T01": "1", "T02": "0"}
    done = rhip("contracts", "expire", "--as-of", "2027-03-01", url=db.url, tmp=tmp_path)
    assert "expired 1, terminated 0" in done.stdout
