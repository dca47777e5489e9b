"""Provisioning: reseller prices, services and their history and requests, IP pools and assignments, equipment

Revision ID: t0004
Revises: t0003
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "t0004"
down_revision = "t0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('equipment_models',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('vendor', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('device_type', sa.String(length=40), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_equipment_models')),
    sa.UniqueConstraint('vendor', 'name', name=op.f('uq_equipment_models_vendor_name'))
    )
    op.create_table('ip_pools',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('cidr', postgresql.CIDR(), nullable=False),
    sa.Column('gateway', postgresql.INET(), nullable=True),
    sa.Column('excluded', sa.ARRAY(postgresql.INET()), server_default='{}', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    postgresql.ExcludeConstraint((sa.column('cidr'), '&&'), using='gist', name='ex_ip_pools_cidr', ops={'cidr': 'inet_ops'}),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ip_pools')),
    sa.UniqueConstraint('name', name=op.f('uq_ip_pools_name'))
    )
    op.create_table('price_rules',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('service_type', sa.String(length=20), nullable=False),
    sa.Column('plan_id', sa.BigInteger(), nullable=True),
    sa.Column('markup_type', sa.String(length=20), nullable=False),
    sa.Column('markup_value', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('min_price', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('max_price', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('setup_fee', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('customer_category', sa.String(length=40), nullable=True),
    sa.Column('min_volume', sa.Integer(), nullable=True),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('promo_enabled', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('promo_discount_percent', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('promo_valid_from', sa.Date(), nullable=True),
    sa.Column('promo_valid_until', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.String(length=300), nullable=True),
    sa.CheckConstraint("markup_type IN ('percent', 'fixed', 'price')", name=op.f('ck_price_rules_markup_type')),
    sa.CheckConstraint("service_type IN ('internet', 'voice', 'recurring', 'bundle')", name=op.f('ck_price_rules_service_type')),
    sa.CheckConstraint('markup_value >= 0', name=op.f('ck_price_rules_markup_value')),
    sa.CheckConstraint('min_price IS NULL OR max_price IS NULL OR min_price <= max_price', name=op.f('ck_price_rules_clamps')),
    sa.CheckConstraint('min_volume IS NULL OR min_volume >= 0', name=op.f('ck_price_rules_min_volume')),
    sa.CheckConstraint('promo_discount_percent IS NULL OR promo_discount_percent BETWEEN 0 AND 100', name=op.f('ck_price_rules_promo_discount')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_rules'))
    )
    op.create_index('ix_price_rules_lookup', 'price_rules', ['service_type', 'plan_id', 'effective_from'], unique=False)
    op.create_table('ip_pool_alerts',
    sa.Column('pool_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('alerted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('pool_id', name=op.f('pk_ip_pool_alerts'))
    )
    op.create_table('services',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('customer_id', sa.BigInteger(), nullable=False),
    sa.Column('plan_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='Pending', nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('price', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('wholesale_price', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('setup_fee', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('billing_period', sa.String(length=20), nullable=False),
    sa.Column('price_rule_id', sa.BigInteger(), nullable=True),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('terminated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('vacation_from', sa.Date(), nullable=True),
    sa.Column('vacation_until', sa.Date(), nullable=True),
    sa.Column('installation_address', sa.Text(), nullable=True),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('network_username', sa.String(length=64), nullable=True),
    sa.Column('network_password_encrypted', sa.Text(), nullable=True),
    sa.Column('credentials_set_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('static_ip', postgresql.INET(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("billing_period IN ('monthly', 'quarterly', 'yearly')", name=op.f('ck_services_billing_period')),
    sa.CheckConstraint("kind IN ('internet', 'voice', 'recurring', 'bundle')", name=op.f('ck_services_kind')),
    sa.CheckConstraint("status IN ('Pending', 'Active', 'Suspended', 'Limited', 'Terminated')", name=op.f('ck_services_status')),
    sa.CheckConstraint('vacation_until IS NULL OR vacation_from <= vacation_until', name=op.f('ck_services_vacation')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_services_customer_id_customers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['price_rule_id'], ['price_rules.id'], name=op.f('fk_services_price_rule_id_price_rules'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_services'))
    )
    op.create_index(op.f('ix_services_customer_id'), 'services', ['customer_id'], unique=False)
    op.create_index(op.f('ix_services_plan_id'), 'services', ['plan_id'], unique=False)
    op.create_index('uq_services_network_username', 'services', ['network_username'], unique=True, postgresql_where=sa.text("status <> 'Terminated'"))
    op.create_table('equipment',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('model_id', sa.BigInteger(), nullable=False),
    sa.Column('serial', sa.String(length=100), nullable=False),
    sa.Column('mac', postgresql.MACADDR(), nullable=True),
    sa.Column('status', sa.String(length=20), server_default='in_stock', nullable=False),
    sa.Column('customer_id', sa.BigInteger(), nullable=True),
    sa.Column('service_id', sa.BigInteger(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recovered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('faulty_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(status = 'assigned') = (service_id IS NOT NULL)", name=op.f('ck_equipment_assigned_service')),
    sa.CheckConstraint("status IN ('in_stock', 'assigned', 'faulty', 'recovered')", name=op.f('ck_equipment_status')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_equipment_customer_id_customers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['model_id'], ['equipment_models.id'], name=op.f('fk_equipment_model_id_equipment_models'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_equipment_service_id_services'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_equipment')),
    sa.UniqueConstraint('mac', name=op.f('uq_equipment_mac')),
    sa.UniqueConstraint('serial', name=op.f('uq_equipment_serial'))
    )
    op.create_index(op.f('ix_equipment_customer_id'), 'equipment', ['customer_id'], unique=False)
    op.create_index(op.f('ix_equipment_model_id'), 'equipment', ['model_id'], unique=False)
    op.create_index(op.f('ix_equipment_service_id'), 'equipment', ['service_id'], unique=False)
    op.create_table('ip_assignments',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('pool_id', sa.BigInteger(), nullable=False),
    sa.Column('service_id', sa.BigInteger(), nullable=False),
    sa.Column('address', postgresql.INET(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['pool_id'], ['ip_pools.id'], name=op.f('fk_ip_assignments_pool_id_ip_pools'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_ip_assignments_service_id_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ip_assignments')),
    sa.UniqueConstraint('address', name=op.f('uq_ip_assignments_address')),
    sa.UniqueConstraint('service_id', name=op.f('uq_ip_assignments_service_id'))
    )
    op.create_index(op.f('ix_ip_assignments_pool_id'), 'ip_assignments', ['pool_id'], unique=False)
    op.create_table('service_requests',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('service_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='Pending', nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('effective', sa.String(length=20), server_default='immediate', nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=True),
    sa.Column('requested_by', sa.String(length=300), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('decided_by', sa.String(length=300), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("effective IN ('immediate', 'next_cycle')", name=op.f('ck_service_requests_effective')),
    sa.CheckConstraint("kind IN ('upgrade', 'downgrade', 'suspension', 'relocation', 'cancellation')", name=op.f('ck_service_requests_kind')),
    sa.CheckConstraint("status IN ('Pending', 'Approved', 'Rejected', 'Completed', 'Cancelled')", name=op.f('ck_service_requests_status')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_service_requests_service_id_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_requests'))
    )
    op.create_index('ix_service_requests_due', 'service_requests', ['effective_on'], unique=False, postgresql_where=sa.text("status = 'Approved'"))
    op.create_index(op.f('ix_service_requests_service_id'), 'service_requests', ['service_id'], unique=False)
    op.create_index('uq_service_requests_open', 'service_requests', ['service_id', 'kind'], unique=True, postgresql_where=sa.text("status IN ('Pending', 'Approved')"))
    op.create_table('service_status_history',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('service_id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_service_status_history_service_id_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_status_history'))
    )
    op.create_index('ix_service_status_history_service', 'service_status_history', ['service_id', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_service_status_history_service', table_name='service_status_history')
    op.drop_table('service_status_history')
    op.drop_index('uq_service_requests_open', table_name='service_requests', postgresql_where=sa.text("status IN ('Pending', 'Approved')"))
    op.drop_index(op.f('ix_service_requests_service_id'), table_name='service_requests')
    op.drop_index('ix_service_requests_due', table_name='service_requests', postgresql_where=sa.text("status = 'Approved'"))
    op.drop_table('service_requests')
    op.drop_index(op.f('ix_ip_assignments_pool_id'), table_name='ip_assignments')
    op.drop_table('ip_assignments')
    op.drop_index(op.f('ix_equipment_service_id'), table_name='equipment')
    op.drop_index(op.f('ix_equipment_model_id'), table_name='equipment')
    op.drop_index(op.f('ix_equipment_customer_id'), table_name='equipment')
    op.drop_table('equipment')
    op.drop_index('uq_services_network_username', table_name='services', postgresql_where=sa.text("status <> 'Terminated'"))
    op.drop_index(op.f('ix_services_plan_id'), table_name='services')
    op.drop_index(op.f('ix_services_customer_id'), table_name='services')
    op.drop_table('services')
    op.drop_table('ip_pool_alerts')
    op.drop_index('ix_price_rules_lookup', table_name='price_rules')
    op.drop_table('price_rules')
    op.drop_table('ip_pools')
    op.drop_table('equipment_models')
