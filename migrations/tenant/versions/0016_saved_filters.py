"""Saved filters of the reseller portal's customer list: per team member, optionally shared with the team

Revision ID: t0016
Revises: t0015
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "t0016"
down_revision = "t0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_filters",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("filters", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"),
                  nullable=False),
        sa.Column("shared", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_saved_filters_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_filters")),
    )
    op.create_index("uq_saved_filters_user_lower_name", "saved_filters",
                    ["user_id", sa.literal_column("lower(name)")], unique=True)
    op.create_index("ix_saved_filters_shared", "saved_filters", ["shared"], postgresql_where=sa.text("shared"))


def downgrade() -> None:
    op.drop_index("ix_saved_filters_shared", table_name="saved_filters")
    op.drop_index("uq_saved_filters_user_lower_name", table_name="saved_filters")
    op.drop_table("saved_filters")
