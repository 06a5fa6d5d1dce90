"""items remember the file that created them (an FTP account's template lists the SKUs its own files created)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('items', sa.Column('created_by_file', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('items') as batch:
        batch.drop_column('created_by_file')
