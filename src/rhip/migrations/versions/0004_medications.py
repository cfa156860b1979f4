"""medication_request, medication_statement

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 14:36:05.534222
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('medication_request',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('encounter_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('intent', sa.String(length=16), nullable=False),
    sa.Column('authored_on', sa.DateTime(), nullable=False),
    sa.Column('code_system', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('display', sa.String(length=200), nullable=True),
    sa.Column('dosage_text', sa.String(length=500), nullable=True),
    sa.Column('dose_value', sa.Float(), nullable=True),
    sa.Column('dose_unit', sa.String(length=24), nullable=True),
    sa.Column('frequency', sa.Integer(), nullable=True),
    sa.Column('period', sa.Float(), nullable=True),
    sa.Column('period_unit', sa.String(length=4), nullable=True),
    sa.Column('route', sa.String(length=64), nullable=True),
    sa.Column('reason_code', sa.String(length=16), nullable=True),
    sa.Column('reason_text', sa.String(length=200), nullable=True),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('source_system', sa.String(length=64), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("intent = 'proposal' OR intent = 'plan' OR intent = 'order' OR intent = 'original-order' OR intent = 'reflex-order' OR intent = 'filler-order' OR intent = 'instance-order' OR intent = 'option'", name=op.f('ck_medication_request_intent')),
    sa.CheckConstraint("period_unit = 'h' OR period_unit = 'd' OR period_unit = 'wk'", name=op.f('ck_medication_request_period_unit')),
    sa.CheckConstraint("status = 'active' OR status = 'on-hold' OR status = 'cancelled' OR status = 'completed' OR status = 'entered-in-error' OR status = 'stopped' OR status = 'draft' OR status = 'unknown'", name=op.f('ck_medication_request_status')),
    sa.CheckConstraint('dose_value > 0', name=op.f('ck_medication_request_dose_value')),
    sa.CheckConstraint('frequency >= 1', name=op.f('ck_medication_request_frequency')),
    sa.ForeignKeyConstraint(['encounter_id'], ['encounter.id'], name=op.f('fk_medication_request_encounter_id_encounter')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_medication_request_org_id_organization')),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_medication_request_practitioner_id_practitioner')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_medication_request_resident_id_resident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_medication_request')),
    sa.UniqueConstraint('source_system', 'source_id', name='uq_medication_request_source')
    )
    with op.batch_alter_table('medication_request', schema=None) as batch_op:
        batch_op.create_index('ix_medication_request_resident_code_time', ['resident_id', 'code', 'authored_on'], unique=False)

    op.create_table('medication_statement',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('encounter_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('effective_start', sa.Date(), nullable=False),
    sa.Column('effective_end', sa.Date(), nullable=True),
    sa.Column('code_system', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('display', sa.String(length=200), nullable=True),
    sa.Column('dosage_text', sa.String(length=500), nullable=True),
    sa.Column('dose_value', sa.Float(), nullable=True),
    sa.Column('dose_unit', sa.String(length=24), nullable=True),
    sa.Column('frequency', sa.Integer(), nullable=True),
    sa.Column('period', sa.Float(), nullable=True),
    sa.Column('period_unit', sa.String(length=4), nullable=True),
    sa.Column('route', sa.String(length=64), nullable=True),
    sa.Column('reason_code', sa.String(length=16), nullable=True),
    sa.Column('reason_text', sa.String(length=200), nullable=True),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('source_system', sa.String(length=64), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("period_unit = 'h' OR period_unit = 'd' OR period_unit = 'wk'", name=op.f('ck_medication_statement_period_unit')),
    sa.CheckConstraint("status = 'active' OR status = 'completed' OR status = 'entered-in-error' OR status = 'intended' OR status = 'stopped' OR status = 'on-hold' OR status = 'unknown' OR status = 'not-taken'", name=op.f('ck_medication_statement_status')),
    sa.CheckConstraint('dose_value > 0', name=op.f('ck_medication_statement_dose_value')),
    sa.CheckConstraint('effective_end IS NULL OR effective_end >= effective_start', name=op.f('ck_medication_statement_effective_order')),
    sa.CheckConstraint('frequency >= 1', name=op.f('ck_medication_statement_frequency')),
    sa.ForeignKeyConstraint(['encounter_id'], ['encounter.id'], name=op.f('fk_medication_statement_encounter_id_encounter')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_medication_statement_org_id_organization')),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_medication_statement_practitioner_id_practitioner')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_medication_statement_resident_id_resident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_medication_statement')),
    sa.UniqueConstraint('source_system', 'source_id', name='uq_medication_statement_source')
    )
    with op.batch_alter_table('medication_statement', schema=None) as batch_op:
        batch_op.create_index('ix_medication_statement_resident_code_start', ['resident_id', 'code', 'effective_start'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('medication_statement', schema=None) as batch_op:
        batch_op.drop_index('ix_medication_statement_resident_code_start')

    op.drop_table('medication_statement')
    with op.batch_alter_table('medication_request', schema=None) as batch_op:
        batch_op.drop_index('ix_medication_request_resident_code_time')

    op.drop_table('medication_request')
