"""Every difference between SQLite and PostgreSQL lives here."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, Table, insert
from sqlalchemy.orm import Session
from sqlalchemy.types import DateTime

from rhip.kit.db import SQLITE_BEGIN


def _sqlite_value(table: Table, column: str, value: str) -> str:
    """SQL for a value written to SQLite outside SQLAlchemy. A DATETIME gets SQLAlchemy's form, with
    microseconds (``2025-07-01 08:00:00.000000``): SQLite compares datetimes as text, and a value stored without
    them (``2025-07-01 08:00:00``, as Python's ``isoformat`` writes a whole second) sorts before the same instant
    bound by a query — a paging cursor, ``_lastUpdated``, ``_since`` — which then misses or repeats such rows.
    (Appending and cutting to 26 characters leaves a value that has them, and NULL, as they are.)"""
    if isinstance(table.c[column].type, DateTime):
        return f"substr({value} || '.000000', 1, 26)"
    return value


def bulk_insert(conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[tuple]) -> int:
    """Insert many rows fast inside the caller's transaction.

    PostgreSQL: ``COPY ... FROM STDIN`` through psycopg; SQLite: ``executemany``
    on the raw DB-API cursor. Returns the number of rows written.
    """
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return 0
    dialect = conn.dialect.name
    cols = ", ".join(f'"{c}"' for c in columns)
    raw = conn.connection.driver_connection
    if dialect == "postgresql":
        with raw.cursor() as cur:
            with cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        return len(rows)
    if dialect == "sqlite":
        marks = ", ".join(_sqlite_value(table, c, "?") for c in columns)
        cur = raw.cursor()
        cur.executemany(f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks})', rows)
        cur.close()
        return len(rows)
    raise ValueError(f"unsupported database dialect: {dialect} (RHIP supports sqlite and postgresql)")


@contextmanager
def bulk_load_transaction(engine: Engine, check_tables: Sequence[str],
                          attach: dict[str, Path] | None = None) -> Iterator[Connection]:
    """A transaction for a bulk load.

    SQLite checks foreign keys row by row, which halves load speed; here enforcement is switched off for
    the load and the loaded tables are checked in one pass (``PRAGMA foreign_key_check``) before commit —
    a violation fails the load and nothing is committed. PostgreSQL keeps its constraints as they are.
    ``attach`` (SQLite): staging files attached under these names for the load (ATTACH cannot run inside
    a transaction, so it happens here, before BEGIN, and DETACH after the end).
    """
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # no BEGIN for the pragmas and ATTACH: inside a transaction they fail or do nothing
            conn.execution_options(**{SQLITE_BEGIN: None})
        for alias, path in (attach or {}).items() if sqlite else ():
            conn.exec_driver_sql(f"ATTACH DATABASE ? AS \"{alias}\"", (str(path),))
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.exec_driver_sql("PRAGMA threads=2")  # helper threads sort for CREATE INDEX
            conn.exec_driver_sql("PRAGMA cache_size=-16384")  # 16 MiB for the load, whatever its size
            conn.commit()  # ends SQLAlchemy's autobegun (empty) transaction; the pragmas are per connection
            conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})  # the load writes: take the write lock first
        try:
            with conn.begin():
                yield conn
                if sqlite:
                    for table in check_tables:
                        bad = conn.exec_driver_sql(f'PRAGMA foreign_key_check("{table}")').fetchmany(5)
                        if bad:
                            raise ValueError(f"bulk load broke foreign keys of {table}: {bad}")
        finally:
            if sqlite:
                conn.execution_options(**{SQLITE_BEGIN: None})
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.exec_driver_sql("PRAGMA threads=0")
                conn.exec_driver_sql("PRAGMA cache_size=-65536")
                for alias in attach or {}:
                    conn.exec_driver_sql(f'DETACH DATABASE "{alias}"')
                conn.commit()


def insert_if_absent(conn: Connection | Session, table: Table, values: dict) -> None:
    """INSERT … ON CONFLICT DO NOTHING: concurrent transactions may both try to create the same row."""
    dialect = conn.get_bind().dialect.name if isinstance(conn, Session) else conn.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        raise ValueError(f"unsupported database dialect: {dialect}")
    conn.execute(insert(table).values(**values).on_conflict_do_nothing())


def reset_sequence(conn: Connection, table: Table, column: str = "id") -> None:
    """After rows were inserted with explicit ids, move PostgreSQL's sequence past them."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', '{column}'), "
            f"COALESCE((SELECT MAX(\"{column}\") FROM \"{table.name}\"), 0) + 1, false)"
        )


def analyze(conn: Connection) -> None:
    """Refresh planner statistics after a bulk load."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE")
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("ANALYZE")


# Staging files are written by kit.staging (in worker processes) and loaded here.


def load_staged(conn: Connection, table: Table, columns: Sequence[str], staging: Path, alias: str) -> int:
    """Append staged rows to ``table`` inside the caller's transaction; returns the number of rows.

    SQLite: ``staging`` must be attached as ``alias`` (see :func:`bulk_load_transaction`).
    """
    cols = ", ".join(f'"{c}"' for c in columns)
    if conn.dialect.name == "sqlite":
        cur = conn.connection.driver_connection.cursor()
        values = ", ".join(_sqlite_value(table, c, f'"{c}"') for c in columns)
        cur.execute(f'INSERT INTO main."{table.name}" ({cols}) SELECT {values} FROM "{alias}"."{table.name}"')
        n = cur.rowcount
        cur.close()
        return n
    if conn.dialect.name == "postgresql":
        path = Path(staging) / f"{table.name}.copy"
        n = 0
        with conn.connection.driver_connection.cursor() as cur, path.open("rb") as fh:
            with cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
                while block := fh.read(1 << 20):
                    copy.write(block)
                    n += block.count(b"\n")
        return n
    raise ValueError(f"unsupported database dialect: {conn.dialect.name}")


def insert_returning_ids(s: Session, table: Table, rows: list[dict]) -> list[int]:
    """Insert these rows (no ``id``) in the caller's transaction; their new ids, in order.

    PostgreSQL: one multi-row INSERT … RETURNING, sorted by parameter order. SQLite cannot promise the order
    of a multi-row RETURNING, so SQLAlchemy would send the rows one statement each: instead the first row
    goes in alone (SQLite gives it max(id) + 1, and this transaction now holds the database's only write lock)
    and the others follow in one statement with the next ids — nobody else can take them meanwhile."""
    if not rows:
        return []
    if s.get_bind().dialect.name != "sqlite" or len(rows) == 1:
        return list(s.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows))
    first = s.scalar(insert(table).returning(table.c.id), rows[0])
    s.execute(insert(table), [{**row, "id": first + k} for k, row in enumerate(rows[1:], 1)])
    return list(range(first, first + len(rows)))
