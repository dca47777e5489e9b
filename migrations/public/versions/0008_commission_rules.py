"""Commission rules, set per reseller by the master ISP, with effective dates

Revision ID: p0008
Revises: p0007
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "p0008"
down_revision = "p0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commission_rules",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("rate", sa.Numeric(precision=7, scale=4), nullable=True),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("months", sa.SmallInteger(), nullable=True),
        sa.Column("tiers", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_by", sa.String(length=300), server_default="system", nullable=False),
        sa.CheckConstraint("kind IN ('setup', 'recurring', 'usage', 'retention', 'performance')",
                           name=op.f("ck_commission_rules_kind")),
        sa.CheckConstraint("rate IS NULL OR (rate >= 0 AND rate <= 100)", name=op.f("ck_commission_rules_rate")),
        sa.CheckConstraint("amount IS NULL OR amount >= 0", name=op.f("ck_commission_rules_amount")),
        sa.CheckConstraint("months IS NULL OR months > 0", name=op.f("ck_commission_rules_months")),
        sa.CheckConstraint("rate IS NOT NULL OR amount IS NOT NULL OR tiers IS NOT NULL",
                           name=op.f("ck_commission_rules_terms")),
        sa.CheckConstraint("effective_until IS NULL OR effective_until >= effective_from",
                           name=op.f("ck_commission_rules_dates")),
        sa.ForeignKeyConstraint(["tenant_id"], ["public.tenants.id"],
                                name=op.f("fk_commission_rules_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission_rules")),
        schema="public",
    )
    op.create_index("ix_commission_rules_lookup", "commission_rules", ["tenant_id", "kind", "effective_from"],
                    unique=False, schema="public")


def downgrade() -> None:
    op.drop_index("ix_commission_rules_lookup", table_name="commission_rules", schema="public")
    op.drop_table("commission_rules", schema="public")
