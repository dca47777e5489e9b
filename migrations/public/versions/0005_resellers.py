"""Sub-resellers: commission percent, allowed services, inherited branding

Revision ID: p0005
Revises: p0004
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "p0005"
down_revision = "p0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("commission_percent", sa.Numeric(5, 2), nullable=True), schema="public")
    op.add_column("tenants", sa.Column("allowed_services", sa.ARRAY(sa.String(20)), nullable=True), schema="public")
    op.add_column("tenants", sa.Column("inherited_branding", sa.Boolean(), server_default="true", nullable=False),
                  schema="public")


def downgrade() -> None:
    for column in ("inherited_branding", "allowed_services", "commission_percent"):
        op.drop_column("tenants", column, schema="public")
