"""resource_history: superseded versions and delete tombstones of FHIR resources (append-only)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 15:35:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('resource_history',
    sa.Column('id', BigId, nullable=False),
    sa.Column('resource_type', sa.String(length=40), nullable=False),
    sa.Column('resource_id', BigId, nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('last_updated', sa.DateTime(), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('resident_id', BigId, nullable=False),
    sa.Column('resource', sa.Text(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=True),
    sa.CheckConstraint("method = 'POST' OR method = 'PUT' OR method = 'DELETE'",
                       name=op.f('ck_resource_history_method')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_history')),
    sa.UniqueConstraint('resource_type', 'resource_id', 'version_id', name='uq_resource_history_version')
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION rhip_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'resource history is append-only (% on %)', TG_OP, TG_TABLE_NAME; END $$
        """)
        op.execute("CREATE TRIGGER resource_history_append_only BEFORE UPDATE OR DELETE ON resource_history "
                   "FOR EACH ROW EXECUTE FUNCTION rhip_history_append_only()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER resource_history_no_{verb.lower()} BEFORE {verb} ON resource_history "
                       f"BEGIN SELECT RAISE(ABORT, 'resource history is append-only ({verb} on resource_history)'); "
                       "END")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS resource_history_append_only ON resource_history")
        op.execute("DROP FUNCTION IF EXISTS rhip_history_append_only()")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS resource_history_no_{verb}")
    op.drop_table('resource_history')
