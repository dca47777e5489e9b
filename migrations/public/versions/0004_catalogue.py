"""The master catalogue: wholesale plans and which resellers may sell them

Revision ID: p0004
Revises: p0003
Create Date: 2026-11-22
"""


revision = "p0004"
down_revision = "p0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
