"""Two check constraints of 0001 got the naming convention's prefix twice; give them the names the models give

Revision ID: t0006
Revises: t0005
Create Date: 2026-11-22
"""

from alembic import op

revision = "t0006"
down_revision = "t0005"
branch_labels = None
depends_on = None

NAMES = ("status", "kind")


def upgrade() -> None:
    for name in NAMES:
        op.execute(f"ALTER TABLE customers RENAME CONSTRAINT ck_customers_ck_customers_{name} TO ck_customers_{name}")


def downgrade() -> None:
    for name in NAMES:
        op.execute(f"ALTER TABLE customers RENAME CONSTRAINT ck_customers_{name} TO ck_customers_ck_customers_{name}")
