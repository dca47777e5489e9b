"""Provisioning: reseller prices, services and their history and requests, IP pools and assignments, equipment

Revision ID: t0004
Revises: t0003
Create Date: 2026-11-22
"""


revision = "t0004"
down_revision = "t0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
