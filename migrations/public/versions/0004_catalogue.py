"""The master catalogue: wholesale plans and which resellers may sell them

Revision ID: p0004
Revises: p0003
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "p0004"
down_revision = "p0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('plans',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('download_kbps', sa.Integer(), nullable=True),
    sa.Column('upload_kbps', sa.Integer(), nullable=True),
    sa.Column('burst_download_kbps', sa.Integer(), nullable=True),
    sa.Column('burst_upload_kbps', sa.Integer(), nullable=True),
    sa.Column('burst_threshold_download_kbps', sa.Integer(), nullable=True),
    sa.Column('burst_threshold_upload_kbps', sa.Integer(), nullable=True),
    sa.Column('burst_time_seconds', sa.Integer(), nullable=True),
    sa.Column('data_allowance_mb', sa.BigInteger(), nullable=True),
    sa.Column('fup_policy', sa.String(length=100), nullable=True),
    sa.Column('limited_download_kbps', sa.Integer(), nullable=True),
    sa.Column('limited_upload_kbps', sa.Integer(), nullable=True),
    sa.Column('voice_minutes', sa.Integer(), nullable=True),
    sa.Column('components', sa.ARRAY(sa.BigInteger()), server_default='{}', nullable=False),
    sa.Column('wholesale_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('billing_period', sa.String(length=20), server_default='monthly', nullable=False),
    sa.Column('setup_fee', sa.Numeric(precision=12, scale=2), server_default='0', nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("billing_period IN ('monthly', 'quarterly', 'yearly')", name=op.f('ck_plans_billing_period')),
    sa.CheckConstraint("code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$'", name=op.f('ck_plans_code')),
    sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f('ck_plans_currency')),
    sa.CheckConstraint("kind IN ('internet', 'voice', 'recurring', 'bundle')", name=op.f('ck_plans_kind')),
    sa.CheckConstraint('wholesale_price >= 0 AND setup_fee >= 0', name=op.f('ck_plans_money')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans')),
    sa.UniqueConstraint('code', name=op.f('uq_plans_code')),
    schema='public'
    )
    op.create_table('plan_authorisations',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('plan_id', sa.BigInteger(), nullable=False),
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('regions', sa.ARRAY(sa.String(length=100)), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['public.plans.id'], name=op.f('fk_plan_authorisations_plan_id_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['public.tenants.id'], name=op.f('fk_plan_authorisations_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_authorisations')),
    sa.UniqueConstraint('plan_id', 'tenant_id', name=op.f('uq_plan_authorisations_plan_id_tenant_id')),
    schema='public'
    )
    op.create_index(op.f('ix_plan_authorisations_plan_id'), 'plan_authorisations', ['plan_id'], unique=False, schema='public')
    op.create_index(op.f('ix_plan_authorisations_tenant_id'), 'plan_authorisations', ['tenant_id'], unique=False, schema='public')


def downgrade() -> None:
    op.drop_index(op.f('ix_plan_authorisations_tenant_id'), table_name='plan_authorisations', schema='public')
    op.drop_index(op.f('ix_plan_authorisations_plan_id'), table_name='plan_authorisations', schema='public')
    op.drop_table('plan_authorisations', schema='public')
    op.drop_table('plans', schema='public')
