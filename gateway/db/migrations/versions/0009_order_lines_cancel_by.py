"""order lines: who cancelled (buyer, seller or marketplace), where the marketplace says it

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 17:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_by', sa.String(length=12), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_column('cancel_by')
