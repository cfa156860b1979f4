"""diagnostic_report, diagnostic_report_result, document_reference

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 14:48:48.456283
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('diagnostic_report',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('encounter_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=True),
    sa.Column('code_system', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('display', sa.String(length=200), nullable=True),
    sa.Column('effective_at', sa.DateTime(), nullable=False),
    sa.Column('issued', sa.DateTime(), nullable=True),
    sa.Column('conclusion', sa.Text(), nullable=True),
    sa.Column('conclusion_system', sa.String(length=64), nullable=True),
    sa.Column('conclusion_code', sa.String(length=32), nullable=True),
    sa.Column('conclusion_display', sa.String(length=200), nullable=True),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('source_system', sa.String(length=64), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status = 'registered' OR status = 'partial' OR status = 'preliminary' OR status = 'final' OR status = 'amended' OR status = 'corrected' OR status = 'appended' OR status = 'cancelled' OR status = 'entered-in-error' OR status = 'unknown'", name=op.f('ck_diagnostic_report_status')),
    sa.ForeignKeyConstraint(['encounter_id'], ['encounter.id'], name=op.f('fk_diagnostic_report_encounter_id_encounter')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_diagnostic_report_org_id_organization')),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_diagnostic_report_practitioner_id_practitioner')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_diagnostic_report_resident_id_resident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_diagnostic_report')),
    sa.UniqueConstraint('source_system', 'source_id', name='uq_diagnostic_report_source')
    )
    with op.batch_alter_table('diagnostic_report', schema=None) as batch_op:
        batch_op.create_index('ix_diagnostic_report_resident_code_time', ['resident_id', 'code', 'effective_at'], unique=False)

    op.create_table('document_reference',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('encounter_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('doc_status', sa.String(length=16), nullable=True),
    sa.Column('type_system', sa.String(length=64), nullable=False),
    sa.Column('type_code', sa.String(length=32), nullable=False),
    sa.Column('type_display', sa.String(length=200), nullable=True),
    sa.Column('category_system', sa.String(length=128), nullable=True),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('category_display', sa.String(length=200), nullable=True),
    sa.Column('date', sa.DateTime(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('creation', sa.DateTime(), nullable=True),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('sha1', sa.String(length=40), nullable=True),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('source_system', sa.String(length=64), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("doc_status = 'preliminary' OR doc_status = 'final' OR doc_status = 'amended' OR doc_status = 'entered-in-error'", name=op.f('ck_document_reference_doc_status')),
    sa.CheckConstraint("status = 'current' OR status = 'superseded' OR status = 'entered-in-error'", name=op.f('ck_document_reference_status')),
    sa.CheckConstraint('data IS NOT NULL OR url IS NOT NULL', name=op.f('ck_document_reference_content')),
    sa.CheckConstraint('size IS NULL OR size <= 5242880', name=op.f('ck_document_reference_size')),
    sa.ForeignKeyConstraint(['encounter_id'], ['encounter.id'], name=op.f('fk_document_reference_encounter_id_encounter')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_document_reference_org_id_organization')),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_document_reference_practitioner_id_practitioner')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_document_reference_resident_id_resident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_reference')),
    sa.UniqueConstraint('source_system', 'source_id', name='uq_document_reference_source')
    )
    with op.batch_alter_table('document_reference', schema=None) as batch_op:
        batch_op.create_index('ix_document_reference_resident_type_date', ['resident_id', 'type_code', 'date'], unique=False)

    op.create_table('diagnostic_report_result',
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('observation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['observation_id'], ['observation.id'], name=op.f('fk_diagnostic_report_result_observation_id_observation')),
    sa.ForeignKeyConstraint(['report_id'], ['diagnostic_report.id'], name=op.f('fk_diagnostic_report_result_report_id_diagnostic_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', 'seq', name=op.f('pk_diagnostic_report_result'))
    )
    with op.batch_alter_table('diagnostic_report_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_diagnostic_report_result_observation_id'), ['observation_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('diagnostic_report_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_diagnostic_report_result_observation_id'))

    op.drop_table('diagnostic_report_result')
    with op.batch_alter_table('document_reference', schema=None) as batch_op:
        batch_op.drop_index('ix_document_reference_resident_type_date')

    op.drop_table('document_reference')
    with op.batch_alter_table('diagnostic_report', schema=None) as batch_op:
        batch_op.drop_index('ix_diagnostic_report_resident_code_time')

    op.drop_table('diagnostic_report')
