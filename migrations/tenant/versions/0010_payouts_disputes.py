"""Commission payouts and disputes: payout schedule, payouts, disputes (lines, attachments), the adjustments'
audit trail, and the foreign key from a commission line to its payout

Revision ID: t0010
Revises: t0009
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "t0010"
down_revision = "t0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payout_schedules",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("frequency", sa.String(length=20), server_default="monthly", nullable=False),
        sa.Column("processing_day", sa.SmallInteger(), server_default="15", nullable=False),
        sa.Column("minimum_threshold", sa.Numeric(precision=14, scale=2), server_default="50", nullable=False),
        sa.Column("method", sa.String(length=20), server_default="bank_transfer", nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("dispute_window_days", sa.SmallInteger(), server_default="5", nullable=False),
        sa.Column("details_encrypted", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_by", sa.String(length=300), server_default="system", nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_payout_schedules_singleton")),
        sa.CheckConstraint("frequency IN ('monthly', 'quarterly', 'bi-annual', 'annual')",
                           name=op.f("ck_payout_schedules_frequency")),
        sa.CheckConstraint("method IN ('bank_transfer', 'wire', 'check', 'digital_wallet')",
                           name=op.f("ck_payout_schedules_method")),
        sa.CheckConstraint("processing_day BETWEEN 1 AND 28", name=op.f("ck_payout_schedules_processing_day")),
        sa.CheckConstraint("minimum_threshold BETWEEN 50 AND 1000", name=op.f("ck_payout_schedules_minimum_threshold")),
        sa.CheckConstraint("dispute_window_days BETWEEN 1 AND 30", name=op.f("ck_payout_schedules_dispute_window_days")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_schedules")),
    )
    op.create_table(
        "payouts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="Scheduled", nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("gross", sa.Numeric(precision=14, scale=2), server_default="0", nullable=False),
        sa.Column("adjustments", sa.Numeric(precision=14, scale=2), server_default="0", nullable=False),
        sa.Column("carried_in", sa.Numeric(precision=14, scale=2), server_default="0", nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), server_default="0", nullable=False),
        sa.Column("minimum_threshold", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("carried_into_id", sa.BigInteger(), nullable=True),
        sa.Column("statement_issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispute_window_ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=300), nullable=True),
        sa.Column("payout_currency", sa.String(length=3), nullable=True),
        sa.Column("fx_rate", sa.Numeric(precision=18, scale=8), nullable=True),
        sa.Column("converted_amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("method", sa.String(length=20), nullable=True),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_by", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('Scheduled', 'Approved', 'Paid', 'Carried over')",
                           name=op.f("ck_payouts_status")),
        sa.CheckConstraint("period_end >= period_start", name=op.f("ck_payouts_period")),
        sa.CheckConstraint("fx_rate IS NULL OR fx_rate > 0", name=op.f("ck_payouts_fx_rate")),
        sa.ForeignKeyConstraint(["carried_into_id"], ["payouts.id"], name=op.f("fk_payouts_carried_into_id_payouts"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
        sa.UniqueConstraint("number", name=op.f("uq_payouts_number")),
        sa.UniqueConstraint("period_start", "period_end", "currency", name="uq_payouts_period_currency"),
    )
    op.create_index("ix_payouts_carried", "payouts", ["carried_into_id"], unique=False)
    op.create_table(
        "commission_disputes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("payout_id", sa.BigInteger(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="Open", nullable=False),
        sa.Column("disputed_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("adjusted_amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("adjustment_line_id", sa.BigInteger(), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("opened_by", sa.String(length=300), nullable=False),
        sa.Column("resolved_by", sa.String(length=300), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('Open', 'Adjusted', 'Rejected')", name=op.f("ck_commission_disputes_status")),
        sa.ForeignKeyConstraint(["adjustment_line_id"], ["commission_lines.id"],
                                name=op.f("fk_commission_disputes_adjustment_line_id_commission_lines"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["payout_id"], ["payouts.id"], name=op.f("fk_commission_disputes_payout_id_payouts"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission_disputes")),
    )
    op.create_index(op.f("ix_commission_disputes_payout_id"), "commission_disputes", ["payout_id"], unique=False)
    op.create_index("ix_commission_disputes_status", "commission_disputes", ["status", "id"], unique=False)
    op.create_table(
        "commission_dispute_lines",
        sa.Column("dispute_id", sa.BigInteger(), nullable=False),
        sa.Column("line_id", sa.BigInteger(), nullable=False),
        sa.Column("previous_status", sa.String(length=20), nullable=False),
        sa.Column("previous_payout_id", sa.BigInteger(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.ForeignKeyConstraint(["dispute_id"], ["commission_disputes.id"],
                                name=op.f("fk_commission_dispute_lines_dispute_id_commission_disputes"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["line_id"], ["commission_lines.id"],
                                name=op.f("fk_commission_dispute_lines_line_id_commission_lines"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("dispute_id", "line_id", name=op.f("pk_commission_dispute_lines")),
    )
    op.create_index(op.f("ix_commission_dispute_lines_line_id"), "commission_dispute_lines", ["line_id"],
                    unique=False)
    op.create_table(
        "dispute_attachments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("dispute_id", sa.BigInteger(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("stored_name", sa.String(length=100), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["dispute_id"], ["commission_disputes.id"],
                                name=op.f("fk_dispute_attachments_dispute_id_commission_disputes"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_attachments")),
    )
    op.create_index(op.f("ix_dispute_attachments_dispute_id"), "dispute_attachments", ["dispute_id"], unique=False)
    op.create_table(
        "commission_adjustments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("line_id", sa.BigInteger(), nullable=True),
        sa.Column("payout_id", sa.BigInteger(), nullable=True),
        sa.Column("dispute_id", sa.BigInteger(), nullable=True),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"),
                  nullable=False),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"),
                  nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["dispute_id"], ["commission_disputes.id"],
                                name=op.f("fk_commission_adjustments_dispute_id_commission_disputes"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["line_id"], ["commission_lines.id"],
                                name=op.f("fk_commission_adjustments_line_id_commission_lines"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["payout_id"], ["payouts.id"], name=op.f("fk_commission_adjustments_payout_id_payouts"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission_adjustments")),
    )
    op.create_index("ix_commission_adjustments_line", "commission_adjustments", ["line_id", "id"], unique=False)
    op.create_index(op.f("ix_commission_adjustments_payout_id"), "commission_adjustments", ["payout_id"],
                    unique=False)
    op.create_index(op.f("ix_commission_adjustments_dispute_id"), "commission_adjustments", ["dispute_id"],
                    unique=False)
    op.create_foreign_key(op.f("fk_commission_lines_payout_id_payouts"), "commission_lines", "payouts",
                          ["payout_id"], ["id"], ondelete="RESTRICT")
    op.create_index("ix_commission_lines_payout_id", "commission_lines", ["payout_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_commission_lines_payout_id", table_name="commission_lines")
    op.drop_constraint(op.f("fk_commission_lines_payout_id_payouts"), "commission_lines", type_="foreignkey")
    op.drop_table("commission_adjustments")
    op.drop_table("dispute_attachments")
    op.drop_table("commission_dispute_lines")
    op.drop_table("commission_disputes")
    op.drop_table("payouts")
    op.drop_table("payout_schedules")
