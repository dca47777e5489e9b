"""Usage drawn from buckets in weight order: what fair use has drawn for in each cycle, and voice and SMS
usage records

Revision ID: t0012
Revises: t0011
Create Date: 2026-12-06

Before this revision the plan's allowance was no bucket: fair use counted a cycle's usage against the
allowance first and drew only the excess from top-ups (`drawn_mb`). A cycle in progress keeps what it
drew: the usage applied so far is the allowance's share plus that excess, and the plan bucket made for
it later (app/services/usage/allowance.py) starts with the allowance's share used, so nothing is drawn
twice.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "t0012"
down_revision = "t0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("fup_state", sa.Column("applied_octets", sa.BigInteger(), server_default="0", nullable=False))
    op.add_column("fup_state", sa.Column("uncovered_mb", sa.Numeric(precision=18, scale=3), server_default="0",
                                         nullable=False))
    op.execute("UPDATE fup_state SET applied_octets = LEAST(used_octets, "
               "((COALESCE(allowance_mb, 0) + drawn_mb) * 1048576)::bigint)")
    op.create_table(
        "usage_records",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("service_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("external_id", sa.String(length=253), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("drawn", sa.Numeric(precision=18, scale=3), server_default="0", nullable=False),
        sa.Column("uncovered", sa.Numeric(precision=18, scale=3), server_default="0", nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"),
                  nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('voice', 'sms')", name=op.f("ck_usage_records_kind")),
        sa.CheckConstraint("drawn >= 0 AND uncovered >= 0 AND drawn + uncovered <= quantity",
                           name=op.f("ck_usage_records_drawn")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_records")),
        sa.UniqueConstraint("source", "external_id", name=op.f("uq_usage_records_source_external_id")),
    )
    op.create_index("ix_usage_records_service", "usage_records", ["service_id", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_usage_records_service", table_name="usage_records")
    op.drop_table("usage_records")
    op.drop_column("fup_state", "uncovered_mb")
    op.drop_column("fup_state", "applied_octets")
