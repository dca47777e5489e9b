"""RADIUS NAS clients (the routers allowed to ask), and the notifications the RADIUS caches listen to

Revision ID: p0007
Revises: p0006
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import CIDR

revision = "p0007"
down_revision = "p0006"
branch_labels = None
depends_on = None

# Tables whose changes the RADIUS processes' caches must hear of (NAS list, Portal ID registry, plans).
# Statement-level: these change rarely, and a Portal ID, once given, never moves (a new one only turns a
# cached "unknown" into a known one). Changes to a tenant's services notify from app/models/nas.py.
WATCHED = ("nas_clients", "portal_ids", "plans")


def upgrade() -> None:
    op.create_table(
        "nas_clients",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("network", CIDR(), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("vendor", sa.String(length=20), server_default="generic", nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=True),
        sa.Column("require_message_authenticator", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("coa_port", sa.Integer(), server_default="3799", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_by", sa.String(length=300), nullable=True),
        sa.CheckConstraint("vendor IN ('mikrotik', 'cisco', 'generic')", name="ck_nas_clients_vendor"),
        sa.CheckConstraint("coa_port BETWEEN 1 AND 65535", name="ck_nas_clients_coa_port"),
        sa.ForeignKeyConstraint(["tenant_id"], ["public.tenants.id"], name="fk_nas_clients_tenant_id_tenants",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_nas_clients"),
        sa.UniqueConstraint("network", name="uq_nas_clients_network"),
        schema="public",
    )
    op.create_index("ix_nas_clients_tenant_id", "nas_clients", ["tenant_id"], schema="public")
    # Each RADIUS process caches these tables; a committed change tells it to drop what it holds.
    op.execute("""
        CREATE FUNCTION public.backhaul_radius_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('backhaul_radius', TG_TABLE_NAME);
            RETURN NULL;
        END $$
    """)
    for table in WATCHED:
        op.execute(f"""
            CREATE TRIGGER {table}_radius_changed
            AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON public.{table}
            FOR EACH STATEMENT EXECUTE FUNCTION public.backhaul_radius_changed()
        """)


def downgrade() -> None:
    for table in WATCHED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_radius_changed ON public.{table}")
    op.execute("DROP FUNCTION IF EXISTS public.backhaul_radius_changed()")
    op.drop_index("ix_nas_clients_tenant_id", table_name="nas_clients", schema="public")
    op.drop_table("nas_clients", schema="public")
