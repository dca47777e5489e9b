"""Commission lines

Revision ID: t0009
Revises: t0008
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "t0009"
down_revision = "t0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commission_lines",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("reseller_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("source_tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("source_payment_id", sa.BigInteger(), nullable=True),
        sa.Column("rule_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("base_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("rate", sa.Numeric(precision=7, scale=4), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="Pending", nullable=False),
        sa.Column("reverses_id", sa.BigInteger(), nullable=True),
        sa.Column("payout_id", sa.BigInteger(), nullable=True),
        sa.Column("source_key", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('setup', 'recurring', 'usage', 'retention', 'performance', 'adjustment')",
                           name=op.f("ck_commission_lines_kind")),
        sa.CheckConstraint("status IN ('Pending', 'Approved', 'Paid', 'Disputed', 'Adjusted', 'Rejected')",
                           name=op.f("ck_commission_lines_status")),
        sa.CheckConstraint("period_end >= period_start", name=op.f("ck_commission_lines_period")),
        sa.ForeignKeyConstraint(["reverses_id"], ["commission_lines.id"],
                                name=op.f("fk_commission_lines_reverses_id_commission_lines"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission_lines")),
        sa.UniqueConstraint("source_key", name=op.f("uq_commission_lines_source_key")),
    )
    op.create_index("ix_commission_lines_period", "commission_lines", ["period_start", "period_end"], unique=False)
    op.create_index("ix_commission_lines_source", "commission_lines", ["source_tenant_id", "source_payment_id"],
                    unique=False)
    op.create_index("ix_commission_lines_customer", "commission_lines", ["source_tenant_id", "customer_id"],
                    unique=False)
    op.create_index("ix_commission_lines_status", "commission_lines", ["status"], unique=False)
    op.create_index(op.f("ix_commission_lines_reverses_id"), "commission_lines", ["reverses_id"], unique=False)


def downgrade() -> None:
    op.drop_table("commission_lines")
