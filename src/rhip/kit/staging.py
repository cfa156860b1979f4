"""Staging for bulk loads, written in worker processes with the standard library only (no SQLAlchemy, so
that a worker starts fast): a SQLite file, or PostgreSQL COPY text. ``kit.dialect.load_staged`` loads it."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

# A bulk job can prepare its rows in other processes, outside any transaction, as *staging* that the
# database loads in C: a SQLite file (loaded with INSERT … SELECT from the attached file) or PostgreSQL
# COPY text (streamed to COPY … FROM STDIN). Each writer belongs to one process; files are the only link.

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(v) -> str:
    if v is None:
        return "\\N"
    if v is True:
        return "t"
    if v is False:
        return "f"
    if isinstance(v, str):
        return v.translate(_COPY_ESCAPES)
    if isinstance(v, (int, float)):
        return str(v)
    return str(v.isoformat() if hasattr(v, "isoformat") else v).translate(_COPY_ESCAPES)


def _copy_text(rows: list[tuple], ncols: int) -> str:
    """Rows as PostgreSQL COPY text. Fast path without escaping, proven safe for the chunk in C: if no value
    held a tab, newline, carriage return or backslash, the chunk has exactly rows × (cols − 1) tabs, one
    newline per row, and no backslash or CR other than those of \\N. Otherwise every value is escaped."""
    text = "".join("\t".join([v if v.__class__ is str else "\\N" if v is None else "t" if v is True
                              else "f" if v is False else str(v) for v in row]) + "\n" for row in rows)
    nulls = sum(1 for row in rows for v in row if v is None)
    if (text.count("\t") == len(rows) * (ncols - 1) and text.count("\n") == len(rows) and "\r" not in text
            and text.count("\\") == nulls):
        return text
    return "".join("\t".join([_copy_field(v) for v in row]) + "\n" for row in rows)


class StagingWriter:
    """Rows of several tables written to one staging location for ``dialect`` ("sqlite" or "postgresql")."""

    def __init__(self, dialect: str, path: Path, tables: dict[str, Sequence[str]]):
        self.dialect, self.path, self.tables = dialect, Path(path), tables
        if dialect == "sqlite":
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=OFF")
            self._db.execute("PRAGMA synchronous=OFF")
            for name, cols in tables.items():
                self._db.execute(f'CREATE TABLE "{name}" ({", ".join(f"{c!r}" for c in cols)})')
            self._db.execute("BEGIN")
        elif dialect == "postgresql":
            self.path.mkdir(parents=True, exist_ok=True)
            self._files = {name: open(self.path / f"{name}.copy", "w", encoding="utf-8", newline="")
                           for name in tables}
        else:
            raise ValueError(f"unsupported database dialect: {dialect}")

    def write(self, table: str, rows: list[tuple]) -> None:
        if not rows:
            return
        if self.dialect == "sqlite":
            marks = ", ".join("?" for _ in self.tables[table])
            self._db.executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)
        else:
            self._files[table].write(_copy_text(rows, len(self.tables[table])))

    def close(self) -> None:
        if self.dialect == "sqlite":
            self._db.execute("COMMIT")
            self._db.close()
        else:
            for fh in self._files.values():
                fh.close()


def bytea(dialect: str, data: bytes):
    """Binary data in the staging's form: bytes for SQLite; PostgreSQL's hex input (``\\x…``) in COPY text."""
    return data if dialect == "sqlite" else "\\x" + data.hex()
