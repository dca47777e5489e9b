"""Payments customers start from the portal: an M-PESA STK push or a card checkout, with the invoice they
chose, the key that makes a double submission start one payment, and the gateway's last word

Revision ID: t0013
Revises: t0012
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 't0013'
down_revision = 't0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payment_requests',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('customer_id', sa.BigInteger(), nullable=False),
    sa.Column('invoice_id', sa.BigInteger(), nullable=True),
    sa.Column('payment_id', sa.BigInteger(), nullable=True),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('phone', sa.String(length=12), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('provider_ref', sa.String(length=120), nullable=True),
    sa.Column('checkout_url', sa.Text(), nullable=True),
    sa.Column('result_code', sa.String(length=20), nullable=True),
    sa.Column('result_desc', sa.String(length=300), nullable=True),
    sa.Column('queries', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("provider IN ('mpesa', 'stripe')", name=op.f('ck_payment_requests_provider')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payment_requests_amount')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_payment_requests_customer_id_customers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_payment_requests_invoice_id_invoices'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_requests_payment_id_payments'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_requests')),
    sa.UniqueConstraint('customer_id', 'idempotency_key', name='uq_payment_requests_customer_key'),
    sa.UniqueConstraint('payment_id', name=op.f('uq_payment_requests_payment_id')),
    sa.UniqueConstraint('provider', 'provider_ref', name='uq_payment_requests_provider_ref')
    )
    op.create_index('ix_payment_requests_customer_invoice', 'payment_requests', ['customer_id', 'invoice_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_payment_requests_customer_invoice', table_name='payment_requests')
    op.drop_table('payment_requests')
