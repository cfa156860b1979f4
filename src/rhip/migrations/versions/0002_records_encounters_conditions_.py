"""records: encounters, conditions, observations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:06:39.151233
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('encounter',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('period_start', sa.DateTime(), nullable=False),
    sa.Column('period_end', sa.DateTime(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('source_system', sa.String(length=64), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind = 'outpatient' OR kind = 'emergency' OR kind = 'inpatient' OR kind = 'home_visit' OR kind = 'followup' OR kind = 'physical_exam'", name=op.f('ck_encounter_kind')),
    sa.CheckConstraint("status = 'planned' OR status = 'arrived' OR status = 'triaged' OR status = 'in-progress' OR status = 'onleave' OR status = 'finished' OR status = 'cancelled' OR status = 'entered-in-error' OR status = 'unknown'", name=op.f('ck_encounter_status')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_encounter_org_id_organization')),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_encounter_practitioner_id_practitioner')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_encounter_resident_id_resident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_encounter')),
    sa.UniqueConstraint('source_system', 'source_id', name='uq_encounter_source')
    )
    with op.batch_alter_table('encounter', schema=None) as batch_op:
        batch_op.create_index('ix_encounter_resident_start', ['resident_id', 'period_start'], unique=False)

    op.create_table('condition',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('encounter_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('code_system', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('display', sa.String(length=200), nullable=True),
    sa.Column('category', sa.String(length=24), nullable=False),
    sa.Column('clinical_status', sa.String(length=16), nullable=True),
    sa.Column('verification_status', sa.String(length=20), nullable=True),
    sa.Column('onset_date', sa.Date(), nullable=True),
    sa.Column('recorded_date', sa.Date(), nullable=True),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('source_system', sa.String(length=64), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['encounter_id'], ['encounter.id'], name=op.f('fk_condition_encounter_id_encounter')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_condition_org_id_organization')),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_condition_practitioner_id_practitioner')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_condition_resident_id_resident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_condition')),
    sa.UniqueConstraint('source_system', 'source_id', name='uq_condition_source')
    )
    with op.batch_alter_table('condition', schema=None) as batch_op:
        batch_op.create_index('ix_condition_resident_code', ['resident_id', 'code'], unique=False)

    op.create_table('observation',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('encounter_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=24), nullable=True),
    sa.Column('code_system', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('display', sa.String(length=200), nullable=True),
    sa.Column('effective_at', sa.DateTime(), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('unit', sa.String(length=24), nullable=True),
    sa.Column('value_text', sa.String(length=500), nullable=True),
    sa.Column('ref_low', sa.Float(), nullable=True),
    sa.Column('ref_high', sa.Float(), nullable=True),
    sa.Column('interpretation', sa.String(length=8), nullable=True),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('source_system', sa.String(length=64), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status = 'registered' OR status = 'preliminary' OR status = 'final' OR status = 'amended' OR status = 'corrected' OR status = 'cancelled' OR status = 'entered-in-error' OR status = 'unknown'", name=op.f('ck_observation_status')),
    sa.ForeignKeyConstraint(['encounter_id'], ['encounter.id'], name=op.f('fk_observation_encounter_id_encounter')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_observation_org_id_organization')),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_observation_practitioner_id_practitioner')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_observation_resident_id_resident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observation')),
    sa.UniqueConstraint('source_system', 'source_id', name='uq_observation_source')
    )
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index('ix_observation_resident_code_time', ['resident_id', 'code', 'effective_at'], unique=False)

    op.create_table('observation_component',
    sa.Column('observation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('code_system', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('display', sa.String(length=200), nullable=True),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('unit', sa.String(length=24), nullable=True),
    sa.ForeignKeyConstraint(['observation_id'], ['observation.id'], name=op.f('fk_observation_component_observation_id_observation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('observation_id', 'seq', name=op.f('pk_observation_component'))
    )


def downgrade() -> None:
    op.drop_table('observation_component')
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_index('ix_observation_resident_code_time')

    op.drop_table('observation')
    with op.batch_alter_table('condition', schema=None) as batch_op:
        batch_op.drop_index('ix_condition_resident_code')

    op.drop_table('condition')
    with op.batch_alter_table('encounter', schema=None) as batch_op:
        batch_op.drop_index('ix_encounter_resident_start')

    op.drop_table('encounter')
