"""The tenant registry: tenants, domains, Portal IDs, the platform audit log.

Revision ID: p0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "p0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("parent_id", sa.BigInteger, nullable=True),
        sa.Column("schema_name", sa.String(63), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="Active"),
        sa.Column("status_reason", sa.Text, nullable=True),
        sa.Column("customer_limit", sa.BigInteger, nullable=True),
        sa.Column("settings", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_tenants"),
        sa.UniqueConstraint("code", name="uq_tenants_code"),
        sa.UniqueConstraint("schema_name", name="uq_tenants_schema_name"),
        sa.ForeignKeyConstraint(["parent_id"], ["public.tenants.id"], ondelete="RESTRICT",
                                name="fk_tenants_parent_id_tenants"),
        sa.CheckConstraint("status IN ('Active', 'Suspended', 'Inactive')", name="ck_tenants_status"),
        sa.CheckConstraint("schema_name ~ '^t_[a-z0-9_]{1,60}$'", name="ck_tenants_schema_name"),
        sa.CheckConstraint("code ~ '^[A-Z][A-Z0-9_]{1,39}$'", name="ck_tenants_code"),
        schema="public",
    )
    op.create_index("ix_tenants_parent_id", "tenants", ["parent_id"], schema="public")

    op.create_table(
        "domains",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("host", sa.String(253), nullable=False),
        sa.Column("tenant_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("is_primary", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("verification_token", sa.String(100), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.PrimaryKeyConstraint("id", name="pk_domains"),
        sa.UniqueConstraint("host", name="uq_domains_host"),
        sa.ForeignKeyConstraint(["tenant_id"], ["public.tenants.id"], ondelete="CASCADE",
                                name="fk_domains_tenant_id_tenants"),
        sa.CheckConstraint("kind IN ('platform', 'custom')", name="ck_domains_kind"),
        sa.CheckConstraint("host = lower(host)", name="ck_domains_host_lower"),
        schema="public",
    )
    op.create_index("ix_domains_tenant_id", "domains", ["tenant_id"], schema="public")
    op.create_index("uq_domains_primary", "domains", ["tenant_id"], unique=True, schema="public",
                    postgresql_where=sa.text("is_primary"))

    op.create_table(
        "portal_ids",
        sa.Column("portal_id", sa.String(40), nullable=False),
        sa.Column("tenant_id", sa.BigInteger, nullable=False),
        sa.Column("customer_id", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.PrimaryKeyConstraint("portal_id", name="pk_portal_ids"),
        sa.ForeignKeyConstraint(["tenant_id"], ["public.tenants.id"], ondelete="CASCADE",
                                name="fk_portal_ids_tenant_id_tenants"),
        schema="public",
    )
    op.create_index("ix_portal_ids_tenant_id", "portal_ids", ["tenant_id"], schema="public")

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("tenant_id", sa.BigInteger, nullable=True),
        sa.Column("detail", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        schema="public",
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"], schema="public")
    op.create_index("ix_audit_log_tenant_id", "audit_log", ["tenant_id"], schema="public")

    # Every process caches host -> tenant; any committed change to the registry tells them to drop it.
    op.execute("""
        CREATE FUNCTION public.backhaul_registry_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('backhaul_registry', TG_TABLE_NAME);
            RETURN NULL;
        END $$
    """)
    for table in ("tenants", "domains"):
        op.execute(f"""
            CREATE TRIGGER {table}_registry_changed
            AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON public.{table}
            FOR EACH STATEMENT EXECUTE FUNCTION public.backhaul_registry_changed()
        """)


def downgrade() -> None:
    for table in ("tenants", "domains"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_registry_changed ON public.{table}")
    op.execute("DROP FUNCTION IF EXISTS public.backhaul_registry_changed()")
    op.drop_table("audit_log", schema="public")
    op.drop_table("portal_ids", schema="public")
    op.drop_table("domains", schema="public")
    op.drop_table("tenants", schema="public")
