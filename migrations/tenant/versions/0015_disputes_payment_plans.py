"""Customers' disputes of invoice lines, with the usage evidence frozen into them and their documents; payment
plans with the invoices they cover and their instalments; and the history of both

Revision ID: t0015
Revises: t0014
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 't0015'
down_revision = 't0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payment_plans',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('customer_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='Pending', nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('paid_before', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False),
    sa.Column('proposed_instalments', sa.SmallInteger(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('requested_by', sa.String(length=300), nullable=False),
    sa.Column('decided_by', sa.String(length=300), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('Pending', 'Active', 'Declined', 'Completed', 'Defaulted')", name=op.f('ck_payment_plans_status')),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_payment_plans_amount')),
    sa.CheckConstraint('proposed_instalments > 0', name=op.f('ck_payment_plans_proposed_instalments')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_payment_plans_customer_id_customers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_plans'))
    )
    op.create_index('ix_payment_plans_customer', 'payment_plans', ['customer_id', 'id'], unique=False)
    op.create_index('ix_payment_plans_status', 'payment_plans', ['status', 'id'], unique=False)
    op.create_index('uq_payment_plans_customer_open', 'payment_plans', ['customer_id'], unique=True, postgresql_where=sa.text("status IN ('Pending', 'Active')"))
    op.create_table('invoice_disputes',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('customer_id', sa.BigInteger(), nullable=False),
    sa.Column('invoice_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='Open', nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('disputed_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('expected_by', sa.Date(), nullable=False),
    sa.Column('opened_by', sa.String(length=300), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('credited_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('credit_note_id', sa.BigInteger(), nullable=True),
    sa.Column('payment_plan_id', sa.BigInteger(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.String(length=300), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('appealed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('usage_adjustment', 'service_credit', 'payment_plan')", name=op.f('ck_invoice_disputes_outcome')),
    sa.CheckConstraint("reason IN ('usage', 'price', 'duplicate', 'outage', 'not_received', 'other')", name=op.f('ck_invoice_disputes_reason')),
    sa.CheckConstraint("status <> 'Resolved' OR outcome IS NOT NULL", name=op.f('ck_invoice_disputes_resolved_outcome')),
    sa.CheckConstraint("status IN ('Open', 'Under Review', 'Resolved', 'Rejected', 'Escalated')", name=op.f('ck_invoice_disputes_status')),
    sa.CheckConstraint('disputed_amount > 0', name=op.f('ck_invoice_disputes_disputed_amount')),
    sa.ForeignKeyConstraint(['credit_note_id'], ['invoices.id'], name=op.f('fk_invoice_disputes_credit_note_id_invoices'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_invoice_disputes_customer_id_customers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_disputes_invoice_id_invoices'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['payment_plan_id'], ['payment_plans.id'], name=op.f('fk_invoice_disputes_payment_plan_id_payment_plans'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_disputes'))
    )
    op.create_index('ix_invoice_disputes_customer', 'invoice_disputes', ['customer_id', 'id'], unique=False)
    op.create_index(op.f('ix_invoice_disputes_invoice_id'), 'invoice_disputes', ['invoice_id'], unique=False)
    op.create_index('ix_invoice_disputes_status', 'invoice_disputes', ['status', 'id'], unique=False)
    op.create_table('payment_plan_instalments',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('plan_id', sa.BigInteger(), nullable=False),
    sa.Column('number', sa.SmallInteger(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('status', sa.String(length=10), server_default='Due', nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.CheckConstraint("status IN ('Due', 'Paid', 'Missed')", name=op.f('ck_payment_plan_instalments_status')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payment_plan_instalments_amount')),
    sa.ForeignKeyConstraint(['plan_id'], ['payment_plans.id'], name=op.f('fk_payment_plan_instalments_plan_id_payment_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_plan_instalments')),
    sa.UniqueConstraint('plan_id', 'number', name='uq_payment_plan_instalments_plan_number')
    )
    op.create_table('payment_plan_invoices',
    sa.Column('plan_id', sa.BigInteger(), nullable=False),
    sa.Column('invoice_id', sa.BigInteger(), nullable=False),
    sa.Column('owed', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_payment_plan_invoices_invoice_id_invoices'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['plan_id'], ['payment_plans.id'], name=op.f('fk_payment_plan_invoices_plan_id_payment_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('plan_id', 'invoice_id', name=op.f('pk_payment_plan_invoices'))
    )
    op.create_index(op.f('ix_payment_plan_invoices_invoice_id'), 'payment_plan_invoices', ['invoice_id'], unique=False)
    op.create_table('arrangement_events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('dispute_id', sa.BigInteger(), nullable=True),
    sa.Column('plan_id', sa.BigInteger(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.CheckConstraint('dispute_id IS NOT NULL OR plan_id IS NOT NULL', name=op.f('ck_arrangement_events_subject')),
    sa.ForeignKeyConstraint(['dispute_id'], ['invoice_disputes.id'], name=op.f('fk_arrangement_events_dispute_id_invoice_disputes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['payment_plans.id'], name=op.f('fk_arrangement_events_plan_id_payment_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_arrangement_events'))
    )
    op.create_index('ix_arrangement_events_dispute', 'arrangement_events', ['dispute_id', 'id'], unique=False)
    op.create_index('ix_arrangement_events_plan', 'arrangement_events', ['plan_id', 'id'], unique=False)
    op.create_table('invoice_dispute_attachments',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('dispute_id', sa.BigInteger(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('stored_name', sa.String(length=100), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['dispute_id'], ['invoice_disputes.id'], name=op.f('fk_invoice_dispute_attachments_dispute_id_invoice_disputes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_dispute_attachments'))
    )
    op.create_index(op.f('ix_invoice_dispute_attachments_dispute_id'), 'invoice_dispute_attachments', ['dispute_id'], unique=False)
    op.create_table('invoice_dispute_lines',
    sa.Column('dispute_id', sa.BigInteger(), nullable=False),
    sa.Column('line_id', sa.BigInteger(), nullable=False),
    sa.Column('service_id', sa.BigInteger(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['dispute_id'], ['invoice_disputes.id'], name=op.f('fk_invoice_dispute_lines_dispute_id_invoice_disputes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['line_id'], ['invoice_lines.id'], name=op.f('fk_invoice_dispute_lines_line_id_invoice_lines'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('dispute_id', 'line_id', name=op.f('pk_invoice_dispute_lines')),
    sa.UniqueConstraint('line_id', name=op.f('uq_invoice_dispute_lines_line_id'))
    )
    op.create_table('invoice_dispute_usage',
    sa.Column('dispute_id', sa.BigInteger(), nullable=False),
    sa.Column('service_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('upload', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('download', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['dispute_id'], ['invoice_disputes.id'], name=op.f('fk_invoice_dispute_usage_dispute_id_invoice_disputes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('dispute_id', 'service_id', 'day', name=op.f('pk_invoice_dispute_usage'))
    )


def downgrade() -> None:
    op.drop_table('invoice_dispute_usage')
    op.drop_table('invoice_dispute_lines')
    op.drop_index(op.f('ix_invoice_dispute_attachments_dispute_id'), table_name='invoice_dispute_attachments')
    op.drop_table('invoice_dispute_attachments')
    op.drop_index('ix_arrangement_events_plan', table_name='arrangement_events')
    op.drop_index('ix_arrangement_events_dispute', table_name='arrangement_events')
    op.drop_table('arrangement_events')
    op.drop_index(op.f('ix_payment_plan_invoices_invoice_id'), table_name='payment_plan_invoices')
    op.drop_table('payment_plan_invoices')
    op.drop_table('payment_plan_instalments')
    op.drop_index('ix_invoice_disputes_status', table_name='invoice_disputes')
    op.drop_index(op.f('ix_invoice_disputes_invoice_id'), table_name='invoice_disputes')
    op.drop_index('ix_invoice_disputes_customer', table_name='invoice_disputes')
    op.drop_table('invoice_disputes')
    op.drop_index('uq_payment_plans_customer_open', table_name='payment_plans', postgresql_where=sa.text("status IN ('Pending', 'Active')"))
    op.drop_index('ix_payment_plans_status', table_name='payment_plans')
    op.drop_index('ix_payment_plans_customer', table_name='payment_plans')
    op.drop_table('payment_plans')
