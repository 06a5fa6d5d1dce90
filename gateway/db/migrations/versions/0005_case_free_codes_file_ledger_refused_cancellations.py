"""warehouse codes unique without regard to case; the ledger indexed by file; refused cancellations kept

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00
"""
from alembic import op
import sqlalchemy as sa

from gateway.errors import ConfigError


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def _refuse_codes_differing_by_case() -> None:
    """Two warehouses whose codes differ only by case cannot both stay: say which, change nothing."""
    rows = op.get_bind().execute(sa.text(
        "SELECT code FROM warehouses WHERE lower(code) IN "
        "(SELECT lower(code) FROM warehouses GROUP BY lower(code) HAVING count(*) > 1) ORDER BY lower(code), code"
    )).scalars().all()
    if rows:
        raise ConfigError(f"warehouses {', '.join(map(repr, rows))} have codes that differ only by case; codes are "
                          "now unique without regard to case: move the stock of one into the other and delete "
                          "it, then run `stockgate init` again")


def upgrade() -> None:
    _refuse_codes_differing_by_case()
    op.create_index('uq_warehouses_code_lower', 'warehouses', [sa.text('lower(code)')], unique=True)
    op.create_index('ix_ledger_file', 'ledger', ['file_id', 'warehouse_id'])
    op.create_table(
        'refused_cancellations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_pk', sa.Integer(), nullable=False),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('cancel_where', sa.String(length=12), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('line_ids', sa.Text(), nullable=True),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['order_pk'], ['orders.id'], name=op.f('fk_refused_cancellations_order_pk_orders'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refused_cancellations')),
    )
    op.create_index('ix_refused_cancellations_order', 'refused_cancellations', ['order_pk'])


def downgrade() -> None:
    op.drop_index('ix_refused_cancellations_order', table_name='refused_cancellations')
    op.drop_table('refused_cancellations')
    op.drop_index('ix_ledger_file', table_name='ledger')
    op.drop_index('uq_warehouses_code_lower', table_name='warehouses')
