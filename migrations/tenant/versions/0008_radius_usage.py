"""RADIUS sessions, daily usage and fair-use state

Revision ID: t0008
Revises: t0007
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "t0008"
down_revision = "t0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "radius_sessions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("session_key", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("nas_id", sa.BigInteger(), nullable=False),
        sa.Column("nas_ip", postgresql.INET(), nullable=True),
        sa.Column("acct_session_id", sa.String(length=253), nullable=False),
        sa.Column("username", sa.String(length=253), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("service_id", sa.BigInteger(), nullable=True),
        sa.Column("framed_ip", postgresql.INET(), nullable=True),
        sa.Column("calling_station_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=10), server_default="Open", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("session_time", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("input_octets", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("output_octets", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("input_delta", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("output_delta", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("terminate_cause", sa.String(length=40), nullable=True),
        sa.CheckConstraint("status IN ('Open', 'Closed')", name=op.f("ck_radius_sessions_status")),
        sa.CheckConstraint("input_octets >= 0 AND output_octets >= 0", name=op.f("ck_radius_sessions_octets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_radius_sessions")),
        sa.UniqueConstraint("session_key", name=op.f("uq_radius_sessions_session_key")),
    )
    op.create_index("ix_radius_sessions_open_nas", "radius_sessions", ["nas_id"],
                    postgresql_where=sa.text("status = 'Open'"))
    op.create_index("ix_radius_sessions_open_service", "radius_sessions", ["service_id"],
                    postgresql_where=sa.text("status = 'Open'"))
    op.create_index("ix_radius_sessions_open_updated", "radius_sessions", ["updated_at"],
                    postgresql_where=sa.text("status = 'Open'"))
    op.create_index("ix_radius_sessions_closed", "radius_sessions", ["stopped_at"],
                    postgresql_where=sa.text("status = 'Closed'"))

    op.create_table(
        "usage_daily",
        sa.Column("service_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("upload", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("download", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint("upload >= 0 AND download >= 0", name=op.f("ck_usage_daily_octets")),
        sa.PrimaryKeyConstraint("service_id", "day", name=op.f("pk_usage_daily")),
    )
    op.create_index("ix_usage_daily_day", "usage_daily", ["day"])

    op.create_table(
        "fup_state",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("service_id", sa.BigInteger(), nullable=False),
        sa.Column("cycle_start", sa.Date(), nullable=False),
        sa.Column("cycle_end", sa.Date(), nullable=False),
        sa.Column("allowance_mb", sa.BigInteger(), nullable=True),
        sa.Column("used_octets", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("crossed", postgresql.ARRAY(sa.SmallInteger()), server_default="{}", nullable=False),
        sa.Column("drawn_mb", sa.Numeric(precision=18, scale=3), server_default="0", nullable=False),
        sa.Column("limited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fup_state")),
        sa.UniqueConstraint("service_id", "cycle_start", name=op.f("uq_fup_state_service_id_cycle_start")),
    )

    op.create_table(
        "usage_thresholds",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("service_id", sa.BigInteger(), nullable=False),
        sa.Column("percent", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("percent BETWEEN 1 AND 100", name=op.f("ck_usage_thresholds_percent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_thresholds")),
        sa.UniqueConstraint("service_id", "percent", name=op.f("uq_usage_thresholds_service_id_percent")),
    )

    op.create_table(
        "coa_requests",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("service_id", sa.BigInteger(), nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=True),
        sa.Column("nas_id", sa.BigInteger(), nullable=False),
        sa.Column("nas_ip", postgresql.INET(), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("trigger", sa.String(length=200), nullable=False),
        sa.Column("attributes", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"),
                  nullable=False),
        sa.Column("status", sa.String(length=10), server_default="Pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("result", sa.String(length=3), nullable=True),
        sa.Column("error_cause", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('CoA', 'Disconnect')", name=op.f("ck_coa_requests_kind")),
        sa.CheckConstraint("status IN ('Pending', 'Done', 'Failed')", name=op.f("ck_coa_requests_status")),
        sa.CheckConstraint("result IS NULL OR result IN ('ACK', 'NAK')", name=op.f("ck_coa_requests_result")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coa_requests")),
    )
    op.create_index("ix_coa_requests_service", "coa_requests", ["service_id", "id"])
    op.create_index("ix_coa_requests_pending", "coa_requests", ["created_at"],
                    postgresql_where=sa.text("status = 'Pending'"))


def downgrade() -> None:
    op.drop_table("coa_requests")
    op.drop_table("usage_thresholds")
    op.drop_table("fup_state")
    op.drop_table("usage_daily")
    op.drop_table("radius_sessions")
