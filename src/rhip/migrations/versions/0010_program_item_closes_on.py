"""program_item.closes_on: the first day a planned item is no longer work (decision 0010), and its index

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.orm import Session


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('program_item', sa.Column('closes_on', sa.Date(), server_default='9999-12-31', nullable=False))
    # Existing items: computed by the same expression the platform maintains it with. (Importing it keeps one
    # definition of the rule; should that rule change later, a new migration recomputes the column.)
    from rhip.programs.repository import refresh_closes_on

    refresh_closes_on(Session(bind=op.get_bind()))
    op.create_index('ix_program_item_closes', 'program_item', ['closes_on', 'window_start'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_program_item_closes', table_name='program_item')
    with op.batch_alter_table('program_item', schema=None) as batch_op:
        batch_op.drop_column('closes_on')
