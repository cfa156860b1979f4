"""SQLite: every stored datetime in SQLAlchemy's form, with microseconds

Rows written outside SQLAlchemy (the synthetic county's bulk loads) stored ``2025-07-01 08:00:00`` where the
platform stores ``2025-07-01 08:00:00.000000``. SQLite compares them as text, so a bound at that very instant
(the cursor of a ``_sort=_lastUpdated`` page, ``_since``) skipped every row sharing it. ``kit.dialect``'s bulk
loads now write the platform's form; this appends the missing microseconds to what is already stored. PostgreSQL
stores timestamps natively: nothing to do there.

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    tables = [t for (t,) in bind.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name != 'alembic_version' ORDER BY name")]
    for table in tables:
        columns = [c for _, c, kind, *_ in bind.exec_driver_sql(f'PRAGMA table_info("{table}")')
                   if kind.upper().startswith("DATETIME")]
        if not columns:
            continue
        # 'YYYY-MM-DD HH:MM:SS' is 19 characters; the platform's form has '.ffffff' after it. One pass per table.
        sets = ", ".join(f'"{c}" = CASE WHEN length("{c}") = 19 THEN "{c}" || \'.000000\' ELSE "{c}" END'
                         for c in columns)
        where = " OR ".join(f'length("{c}") = 19' for c in columns)
        bind.execute(sa.text(f'UPDATE "{table}" SET {sets} WHERE {where}'))


def downgrade() -> None:
    pass  # the longer form is what SQLAlchemy writes and reads: nothing to undo
