"""Database engine, sessions and the unit of work.

One request or job is one transaction: services receive a Session and never
commit; the caller wraps them in :func:`Database.unit_of_work`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def one_of(column: str, values: tuple[str, ...]) -> str:
    """CHECK text allowing ``values``, written ``col = 'a' OR col = 'b'``.

    Same meaning as ``col IN ('a', 'b')`` (NULL passes both), but SQLite evaluates the IN-list form about
    twice as slowly on every insert, which halves bulk-load speed.
    """
    return " OR ".join(f"{column} = '{v}'" for v in values)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# Execution option naming how a SQLite transaction begins: "IMMEDIATE" (take the write lock at BEGIN, waiting
# up to busy_timeout for it), "DEFERRED" (SQLite's default: a read snapshot, the write lock only at the first
# write) or None (no BEGIN: statements run in SQLite's autocommit mode, for PRAGMA/ATTACH outside a transaction).
SQLITE_BEGIN = "rhip_sqlite_begin"


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - exercised by every SQLite test
    # the driver must not open transactions itself (sqlite3's legacy mode begins one only before an
    # INSERT/UPDATE/DELETE, so a SELECT ran outside any transaction): SQLAlchemy's ``begin`` emits BEGIN
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


def _sqlite_begin(conn) -> None:  # pragma: no cover - exercised by every SQLite test
    """BEGIN when SQLAlchemy begins a transaction (the documented pysqlite recipe, "Serializable isolation /
    Savepoints / Transactional DDL"), so that savepoints and reads are inside the transaction.

    Why IMMEDIATE for writers: SQLite has one writer at a time. A DEFERRED transaction that has read and then
    writes cannot wait for the write lock if another connection committed since its read (SQLITE_BUSY at
    once, "database is locked", whatever busy_timeout says). BEGIN IMMEDIATE takes the write lock first,
    waiting up to busy_timeout for it; readers are not blocked by it (WAL)."""
    mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
    if mode:
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if u.get_backend_name() == "postgresql" and u.get_driver_name() in ("", "psycopg2", None):
        u = u.set(drivername="postgresql+psycopg")
    return create_engine(u, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True)


class Database:
    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        # a unit of work may write (a request's audit events at least): on SQLite it takes the write lock at
        # BEGIN, so that concurrent writers (several server processes) wait for each other instead of failing
        self._writer = self.engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: commit when the block succeeds, roll back everything when it raises.

        On SQLite it begins IMMEDIATE (at its first statement): writers queue on the database's one write
        lock (for up to busy_timeout) rather than failing; readers (WAL) go on."""
        session = self.sessions(bind=self._writer)
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    @contextmanager
    def read_only(self) -> Iterator[Session]:
        """A session for reading; closing it ends its transaction (rolled back), loaded objects stay usable.
        On SQLite its transaction is DEFERRED: a snapshot, no write lock."""
        session = self.sessions()
        try:
            yield session
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
