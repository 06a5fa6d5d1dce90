"""several locations: the location a listing is stocked at, and which warehouses feed which location

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 20:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location', sa.String(length=200), nullable=False, server_default=''))
        batch_op.drop_constraint('uq_listings_channel_listing', type_='unique')
        batch_op.create_unique_constraint('uq_listings_channel_listing_location',
                                          ['channel_id', 'listing_id', 'location'])
    op.create_table(
        'channel_locations',
        sa.Column('channel_id', sa.Integer(), nullable=False),
        sa.Column('warehouse_id', sa.Integer(), nullable=False),
        sa.Column('location', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_channel_locations_channel_id_channels'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'],
                                name=op.f('fk_channel_locations_warehouse_id_warehouses')),
        sa.PrimaryKeyConstraint('channel_id', 'warehouse_id', name=op.f('pk_channel_locations')),
    )


def downgrade() -> None:
    op.drop_table('channel_locations')
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.drop_constraint('uq_listings_channel_listing_location', type_='unique')
        batch_op.create_unique_constraint('uq_listings_channel_listing', ['channel_id', 'listing_id'])
        batch_op.drop_column('location')
