"""the ledger keeps an operator's note with a manual edit (`stockgate set|adjust --note`, the item page)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 17:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('ledger', sa.Column('note', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ledger') as batch:
        batch.drop_column('note')
