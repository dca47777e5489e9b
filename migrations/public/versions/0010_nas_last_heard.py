"""NAS clients: when the RADIUS service last answered each one

Revision ID: p0010
Revises: p0009
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "p0010"
down_revision = "p0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("nas_clients", sa.Column("last_heard_at", sa.DateTime(timezone=True), nullable=True),
                  schema="public")


def downgrade() -> None:
    op.drop_column("nas_clients", "last_heard_at", schema="public")
