"""files remember the file they re-run (`stockgate reprocess`, `ingest --force`): `forced_from`

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('files', sa.Column('forced_from', sa.String(length=40), nullable=True))
    op.create_index('ix_files_forced_from', 'files', ['forced_from'])


def downgrade() -> None:
    op.drop_index('ix_files_forced_from', table_name='files')
    with op.batch_alter_table('files') as batch:
        batch.drop_column('forced_from')
