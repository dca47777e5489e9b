"""Indexes for the customer list's service-type and payment-status filters (bench/customers.py)

Revision ID: t0007
Revises: t0006
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "t0007"
down_revision = "t0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_services_live_kind", "services", ["kind", "customer_id"],
                    postgresql_where=sa.text("status <> 'Terminated'"))
    op.create_index("ix_invoices_open_due", "invoices", ["customer_id"], postgresql_include=["status", "due_on"],
                    postgresql_where=sa.text("kind = 'invoice' AND status IN ('Issued', 'Partially Paid', 'Overdue')"))


def downgrade() -> None:
    op.drop_index("ix_invoices_open_due", table_name="invoices")
    op.drop_index("ix_services_live_kind", table_name="services")
