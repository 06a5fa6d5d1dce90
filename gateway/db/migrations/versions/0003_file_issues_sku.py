"""every issue of a file names the SKU of its row

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('file_issues', sa.Column('sku', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('file_issues') as batch:
        batch.drop_column('sku')
