"""immunization, allergy_intolerance

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:25:24.296696
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('allergy_intolerance',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code_system', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('display', sa.String(length=200), nullable=True),
    sa.Column('clinical_status', sa.String(length=16), nullable=True),
    sa.Column('verification_status', sa.String(length=20), nullable=True),
    sa.Column('type', sa.String(length=16), nullable=True),
    sa.Column('category', sa.String(length=16), nullable=True),
    sa.Column('criticality', sa.String(length=20), nullable=True),
    sa.Column('recorded_date', sa.Date(), nullable=True),
    sa.Column('reaction', sa.String(length=500), nullable=True),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('source_system', sa.String(length=64), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("category = 'food' OR category = 'medication' OR category = 'environment' OR category = 'biologic'", name=op.f('ck_allergy_intolerance_category')),
    sa.CheckConstraint("clinical_status = 'active' OR clinical_status = 'inactive' OR clinical_status = 'resolved'", name=op.f('ck_allergy_intolerance_clinical_status')),
    sa.CheckConstraint("criticality = 'low' OR criticality = 'high' OR criticality = 'unable-to-assess'", name=op.f('ck_allergy_intolerance_criticality')),
    sa.CheckConstraint("type = 'allergy' OR type = 'intolerance'", name=op.f('ck_allergy_intolerance_type')),
    sa.CheckConstraint("verification_status = 'unconfirmed' OR verification_status = 'confirmed' OR verification_status = 'refuted' OR verification_status = 'entered-in-error'", name=op.f('ck_allergy_intolerance_verification_status')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_allergy_intolerance_org_id_organization')),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_allergy_intolerance_practitioner_id_practitioner')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_allergy_intolerance_resident_id_resident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allergy_intolerance')),
    sa.UniqueConstraint('source_system', 'source_id', name='uq_allergy_intolerance_source')
    )
    with op.batch_alter_table('allergy_intolerance', schema=None) as batch_op:
        batch_op.create_index('ix_allergy_intolerance_resident_code', ['resident_id', 'code'], unique=False)

    op.create_table('immunization',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('vaccine_system', sa.String(length=64), nullable=False),
    sa.Column('vaccine_code', sa.String(length=16), nullable=False),
    sa.Column('vaccine_display', sa.String(length=200), nullable=True),
    sa.Column('dose_number', sa.Integer(), nullable=True),
    sa.Column('occurrence_date', sa.Date(), nullable=False),
    sa.Column('lot_number', sa.String(length=32), nullable=True),
    sa.Column('site', sa.String(length=64), nullable=True),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('source_system', sa.String(length=64), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status = 'completed' OR status = 'entered-in-error' OR status = 'not-done'", name=op.f('ck_immunization_status')),
    sa.CheckConstraint('dose_number >= 1', name=op.f('ck_immunization_dose_number')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_immunization_org_id_organization')),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_immunization_practitioner_id_practitioner')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_immunization_resident_id_resident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_immunization')),
    sa.UniqueConstraint('source_system', 'source_id', name='uq_immunization_source')
    )
    with op.batch_alter_table('immunization', schema=None) as batch_op:
        batch_op.create_index('ix_immunization_resident_vaccine_date', ['resident_id', 'vaccine_code', 'occurrence_date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('immunization', schema=None) as batch_op:
        batch_op.drop_index('ix_immunization_resident_vaccine_date')

    op.drop_table('immunization')
    with op.batch_alter_table('allergy_intolerance', schema=None) as batch_op:
        batch_op.drop_index('ix_allergy_intolerance_resident_code')

    op.drop_table('allergy_intolerance')
