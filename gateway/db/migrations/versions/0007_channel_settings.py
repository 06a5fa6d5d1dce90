"""channel settings edited by an operator, stored in the database

Revision ID: 0007
Revises: 0005 (the lead re-points this to 0006 at merge)
Create Date: 2026-12-02 17:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'channel_settings',
        sa.Column('channel', sa.String(length=100), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('updated_by', sa.String(length=200), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('channel', 'key', name=op.f('pk_channel_settings')),
    )


def downgrade() -> None:
    op.drop_table('channel_settings')
