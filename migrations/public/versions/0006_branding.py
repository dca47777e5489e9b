"""White-label brands: the fields each tenant (and the platform) sets itself

Revision ID: p0006
Revises: p0005
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "p0006"
down_revision = "p0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "brandings",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=True),
        sa.Column("fields", JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("white_label_enabled", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["public.tenants.id"], name="fk_brandings_tenant_id_tenants",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_brandings"),
        sa.UniqueConstraint("tenant_id", name="uq_brandings_tenant_id"),
        schema="public",
    )
    op.create_index("uq_brandings_platform", "brandings", [sa.text("(tenant_id IS NULL)")], unique=True,
                    schema="public", postgresql_where=sa.text("tenant_id IS NULL"))
    # A brand is cached per process next to the host lookups; a change drops both caches.
    op.execute("""
        CREATE TRIGGER brandings_registry_changed
        AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON public.brandings
        FOR EACH STATEMENT EXECUTE FUNCTION public.backhaul_registry_changed()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS brandings_registry_changed ON public.brandings")
    op.drop_index("uq_brandings_platform", table_name="brandings", schema="public")
    op.drop_table("brandings", schema="public")
