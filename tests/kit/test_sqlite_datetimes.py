"""SQLite stores every datetime in SQLAlchemy's form (with microseconds): migration 0012 brings rows that bulk
loads stored without them into that form, and only those."""

from __future__ import annotations

import sqlite3

from rhip.kit.migrate import current_revision, upgrade


def test_migration_0012_appends_the_missing_microseconds(tmp_path):
    path = tmp_path / "rhip.db"
    url = f"sqlite:///{path}"
    upgrade(url, "0010")
    con = sqlite3.connect(path)
    con.execute("INSERT INTO division (code, name, level, kind, parent_code) VALUES ('411530', '县', 'county', "
                "'county', NULL)")
    con.executemany("INSERT INTO mpi_person (empi, status, created_at) VALUES (?, 'active', ?)",
                    [("a", "2025-07-01 08:00:00"), ("b", "2025-07-01 08:00:00.250000")])
    # several DATETIME columns of one row: each is fixed on its own (raw sqlite3: foreign keys not enforced)
    con.execute("INSERT INTO api_token (user_id, name, prefix, token_hash, created_at, expires_at, revoked_at) "
                "VALUES (1, 't', 'p', 'h', '2025-07-01 08:00:00', '2026-07-01 08:00:00.500000', NULL)")
    con.commit()
    con.close()
    upgrade(url)
    assert current_revision(url) is not None
    con = sqlite3.connect(path)
    assert dict(con.execute("SELECT empi, created_at FROM mpi_person")) == {
        "a": "2025-07-01 08:00:00.000000", "b": "2025-07-01 08:00:00.250000"}
    assert list(con.execute("SELECT created_at, expires_at, revoked_at FROM api_token")) == [
        ("2025-07-01 08:00:00.000000", "2026-07-01 08:00:00.500000", None)]
    assert list(con.execute("SELECT code, name FROM division")) == [("411530", "县")]  # (no DATETIME: untouched)
    con.close()
