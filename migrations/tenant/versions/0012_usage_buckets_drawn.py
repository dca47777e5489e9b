"""Usage drawn from buckets in weight order: what fair use has drawn for in each cycle

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


def downgrade() -> None:
    op.drop_column("fup_state", "uncovered_mb")
    op.drop_column("fup_state", "applied_octets")
