"""A tenant's first tables: settings, gap-free counters, customers.

Tables are created unqualified: the runner puts the tenant's schema first on the search_path.

Revision ID: t0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "t0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("value", JSONB, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_settings"),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("value", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("name", name="pk_counters"),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("portal_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False, server_default="person"),
        sa.Column("first_name", sa.String(100), nullable=True),
        sa.Column("last_name", sa.String(100), nullable=True),
        sa.Column("company_name", sa.String(200), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("status", sa.String(20), nullable=False, server_default="New"),
        sa.Column("extra", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
        sa.UniqueConstraint("portal_id", name="uq_customers_portal_id"),
        sa.CheckConstraint("status IN ('New', 'Active', 'Suspended', 'Inactive', 'Pending')",
                           name="ck_customers_status"),
        sa.CheckConstraint("kind IN ('person', 'company')", name="ck_customers_kind"),
    )
    op.create_index("ix_customers_email", "customers", ["email"])


def downgrade() -> None:
    op.drop_table("customers")
    op.drop_table("counters")
    op.drop_table("settings")
