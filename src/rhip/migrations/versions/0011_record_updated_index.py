"""Indexes for type history and _since (decision 0012): each record table on (updated_at, id, resident_id),
resident on (updated_at, id), resource_history on (resource_type, last_updated, resource_id, version_id,
resident_id), so that a history page reads each source newest first from an index and stops after the page
instead of sorting every version of the type (resident_id: the scope test and counts read only the index)

Revision ID: 0011
Revises: 0010
"""
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

RECORDS = ('encounter', 'condition', 'observation', 'immunization', 'allergy_intolerance',
           'medication_request', 'medication_statement', 'diagnostic_report', 'document_reference')


def upgrade() -> None:
    op.create_index('ix_resident_updated', 'resident', ['updated_at', 'id'], unique=False)
    for table in RECORDS:
        op.create_index(f'ix_{table}_updated', table, ['updated_at', 'id', 'resident_id'], unique=False)
    op.create_index('ix_resource_history_type_updated', 'resource_history',
                    ['resource_type', 'last_updated', 'resource_id', 'version_id', 'resident_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_resource_history_type_updated', table_name='resource_history')
    for table in reversed(RECORDS):
        op.drop_index(f'ix_{table}_updated', table_name=table)
    op.drop_index('ix_resident_updated', table_name='resident')
