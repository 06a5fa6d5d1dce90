"""web accounts: users with roles, sessions in the database, failed logins per address, the audit log

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 17:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        'users',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('password_hash', sa.Text(), nullable=False),
        sa.Column('role', sa.String(length=10), nullable=False),
        _ts('created_at', False),
        _ts('password_changed_at', False),
        sa.CheckConstraint("role IN ('admin', 'operator', 'viewer')", name=op.f('ck_users_role_known')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
        sa.UniqueConstraint('name', name=op.f('uq_users_name')),
    )
    op.create_index('uq_users_name_lower', 'users', [sa.text('lower(name)')], unique=True)
    op.create_table(
        'web_sessions',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('user_name', sa.String(length=100), nullable=True),
        sa.Column('role', sa.String(length=10), nullable=True),
        sa.Column('credential', sa.String(length=64), nullable=True),
        _ts('created_at', False),
        _ts('last_seen_at', False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_web_sessions_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_web_sessions')),
    )
    op.create_index('ix_web_sessions_last_seen_at', 'web_sessions', ['last_seen_at'])
    op.create_index('ix_web_sessions_user_id', 'web_sessions', ['user_id'])
    op.create_table(
        'login_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=100), nullable=False),
        _ts('at', False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures')),
    )
    op.create_index('ix_login_failures_address_at', 'login_failures', ['address', 'at'])
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        _ts('at', False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('action', sa.String(length=60), nullable=False),
        sa.Column('target', sa.Text(), nullable=True),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    )
    op.create_index('ix_audit_log_at', 'audit_log', ['at'])
    op.create_index('ix_audit_log_actor_at', 'audit_log', ['actor', 'at'])
    op.create_index('ix_audit_log_action_at', 'audit_log', ['action', 'at'])


def downgrade() -> None:
    for index, table in (('ix_audit_log_action_at', 'audit_log'), ('ix_audit_log_actor_at', 'audit_log'),
                         ('ix_audit_log_at', 'audit_log')):
        op.drop_index(index, table_name=table)
    op.drop_table('audit_log')
    op.drop_index('ix_login_failures_address_at', table_name='login_failures')
    op.drop_table('login_failures')
    op.drop_index('ix_web_sessions_user_id', table_name='web_sessions')
    op.drop_index('ix_web_sessions_last_seen_at', table_name='web_sessions')
    op.drop_table('web_sessions')
    op.drop_index('uq_users_name_lower', table_name='users')
    op.drop_table('users')
