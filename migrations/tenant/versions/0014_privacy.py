"""A customer's privacy: the record of consents (append-only), exports of their data, and requests to delete
the account with their history

Revision ID: t0014
Revises: t0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 't0014'
down_revision = 't0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deletion_requests',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('customer_id', sa.BigInteger(), nullable=False),
    sa.Column('portal_id', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='Requested', nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('requested_by', sa.String(length=300), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=300), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('kept', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('final_outbox_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("status IN ('Requested', 'Approved', 'Declined', 'Withdrawn')", name=op.f('ck_deletion_requests_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deletion_requests'))
    )
    op.create_index('ix_deletion_requests_customer', 'deletion_requests', ['customer_id', 'id'], unique=False)
    op.create_index('ix_deletion_requests_status', 'deletion_requests', ['status', 'requested_at', 'id'], unique=False)
    op.create_index('uq_deletion_requests_open', 'deletion_requests', ['customer_id'], unique=True, postgresql_where=sa.text("status = 'Requested'"))
    op.create_table('consent_events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('customer_id', sa.BigInteger(), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.Column('door', sa.String(length=20), nullable=False),
    sa.Column('via', sa.String(length=20), nullable=False),
    sa.Column('wording_version', sa.String(length=20), nullable=False),
    sa.CheckConstraint("door IN ('portal', 'api')", name=op.f('ck_consent_events_door')),
    sa.CheckConstraint("purpose IN ('marketing_email', 'marketing_sms', 'third_party_sharing')", name=op.f('ck_consent_events_purpose')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_consent_events_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_events'))
    )
    op.create_index('ix_consent_events_customer_purpose', 'consent_events', ['customer_id', 'purpose', 'id'], unique=False)
    op.create_index('ix_consent_events_purpose_customer', 'consent_events', ['purpose', 'customer_id', 'id'], unique=False)
    op.create_table('data_exports',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('customer_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='Queued', nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('requested_by', sa.String(length=300), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stored_name', sa.String(length=120), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('downloaded_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('Queued', 'Building', 'Ready', 'Failed', 'Expired')", name=op.f('ck_data_exports_status')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_data_exports_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_exports'))
    )
    op.create_index('ix_data_exports_customer', 'data_exports', ['customer_id', 'id'], unique=False)
    op.create_index('ix_data_exports_status', 'data_exports', ['status', 'requested_at'], unique=False)
    op.create_index('uq_data_exports_open', 'data_exports', ['customer_id'], unique=True, postgresql_where=sa.text("status IN ('Queued', 'Building')"))
    op.create_table('deletion_request_events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('request_id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['deletion_requests.id'], name=op.f('fk_deletion_request_events_request_id_deletion_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deletion_request_events'))
    )
    op.create_index('ix_deletion_request_events_request', 'deletion_request_events', ['request_id', 'id'], unique=False)
    # the record of consent is proof of what a customer agreed to, and when: a change is a new row, never an
    # edit; a row leaves only with its customer (the foreign key's cascade), for every client of the database
    op.execute("""
        CREATE FUNCTION consent_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM customers WHERE id = OLD.customer_id) THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION 'consent_events is append-only: record a new consent instead of % on it', TG_OP
                USING ERRCODE = 'restrict_violation';
        END $$
    """)
    op.execute("""
        CREATE TRIGGER consent_events_append_only BEFORE UPDATE OR DELETE ON consent_events
        FOR EACH ROW EXECUTE FUNCTION consent_events_append_only()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS consent_events_append_only ON consent_events")
    op.execute("DROP FUNCTION IF EXISTS consent_events_append_only()")
    op.drop_index('ix_deletion_request_events_request', table_name='deletion_request_events')
    op.drop_table('deletion_request_events')
    op.drop_index('uq_data_exports_open', table_name='data_exports', postgresql_where=sa.text("status IN ('Queued', 'Building')"))
    op.drop_index('ix_data_exports_status', table_name='data_exports')
    op.drop_index('ix_data_exports_customer', table_name='data_exports')
    op.drop_table('data_exports')
    op.drop_index('ix_consent_events_purpose_customer', table_name='consent_events')
    op.drop_index('ix_consent_events_customer_purpose', table_name='consent_events')
    op.drop_table('consent_events')
    op.drop_index('uq_deletion_requests_open', table_name='deletion_requests', postgresql_where=sa.text("status = 'Requested'"))
    op.drop_index('ix_deletion_requests_status', table_name='deletion_requests')
    op.drop_index('ix_deletion_requests_customer', table_name='deletion_requests')
    op.drop_table('deletion_requests')
