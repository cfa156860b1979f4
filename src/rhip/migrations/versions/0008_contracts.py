"""contracts: contract, contract_package, key_population, key_population_run

At most one active contract per resident: the partial unique index uq_contract_active_resident
(WHERE status = 'active') on both SQLite and PostgreSQL.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 15:21:16.108985
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('key_population_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('mode', sa.String(length=12), nullable=False),
    sa.Column('residents', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_population_run'))
    )
    op.create_table('contract',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('doctor_id', sa.Integer(), nullable=False),
    sa.Column('catalogue_version', sa.String(length=16), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('consent_date', sa.Date(), nullable=False),
    sa.Column('consent_method', sa.String(length=20), nullable=False),
    sa.Column('consent_witness', sa.String(length=64), nullable=True),
    sa.Column('fee_fen', sa.Integer(), nullable=False),
    sa.Column('previous_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('end_reason', sa.String(length=20), nullable=True),
    sa.Column('end_note', sa.String(length=200), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("consent_method = 'written' OR consent_method = 'e_signature' OR consent_method = 'verbal_witnessed'", name=op.f('ck_contract_consent_method')),
    sa.CheckConstraint("status = 'active' OR status = 'renewed' OR status = 'transferred' OR status = 'terminated' OR status = 'expired'", name=op.f('ck_contract_status')),
    sa.CheckConstraint('end_date >= start_date', name=op.f('ck_contract_dates')),
    sa.ForeignKeyConstraint(['doctor_id'], ['practitioner.id'], name=op.f('fk_contract_doctor_id_practitioner')),
    sa.ForeignKeyConstraint(['previous_id'], ['contract.id'], name=op.f('fk_contract_previous_id_contract')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_contract_resident_id_resident')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_contract_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract'))
    )
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.create_index('ix_contract_previous_id', ['previous_id'], unique=False)
        batch_op.create_index('ix_contract_resident_start', ['resident_id', 'start_date'], unique=False)
        batch_op.create_index('ix_contract_status_end', ['status', 'end_date'], unique=False)
        batch_op.create_index('ix_contract_team_status', ['team_id', 'status'], unique=False)
        batch_op.create_index('uq_contract_active_resident', ['resident_id'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.create_table('key_population',
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('population', sa.String(length=16), nullable=False),
    sa.Column('since', sa.Date(), nullable=True),
    sa.Column('reason_zh', sa.String(length=120), nullable=False),
    sa.Column('reason_en', sa.String(length=160), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_key_population_resident_id_resident')),
    sa.PrimaryKeyConstraint('resident_id', 'population', name=op.f('pk_key_population'))
    )
    with op.batch_alter_table('key_population', schema=None) as batch_op:
        batch_op.create_index('ix_key_population_population', ['population', 'resident_id'], unique=False)

    op.create_table('contract_package',
    sa.Column('contract_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('package_code', sa.String(length=32), nullable=False),
    sa.Column('price_fen', sa.Integer(), nullable=False),
    sa.Column('personal_fen', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_contract_package_contract_id_contract'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contract_id', 'package_code', name=op.f('pk_contract_package'))
    )


def downgrade() -> None:
    op.drop_table('contract_package')
    with op.batch_alter_table('key_population', schema=None) as batch_op:
        batch_op.drop_index('ix_key_population_population')

    op.drop_table('key_population')
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.drop_index('uq_contract_active_resident', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index('ix_contract_team_status')
        batch_op.drop_index('ix_contract_status_end')
        batch_op.drop_index('ix_contract_resident_start')
        batch_op.drop_index('ix_contract_previous_id')

    op.drop_table('contract')
    op.drop_table('key_population_run')
