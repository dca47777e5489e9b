"""Customers: full profile (national ID, location, M-PESA, billing set-up), status history, contact types and contacts, search

The two generated columns (`search`, the full-text vector; `sort_name`, the list's name order) are computed
by PostgreSQL from the row; their expressions are written out here as they were at this revision, so
that a later change of the model is a later migration. Customers that exist already get a first history
row (their current status), so that every customer's history starts somewhere.

Revision ID: t0003
Revises: t0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "t0003"
down_revision = "t0002"
branch_labels = None
depends_on = None

SEARCH_SQL = (
    "setweight(to_tsvector('simple'::regconfig, coalesce(first_name, '') || ' ' || coalesce(last_name, '')"
    " || ' ' || coalesce(company_name, '')), 'A')"
    " || setweight(to_tsvector('simple'::regconfig, portal_id || ' ' || coalesce(national_id, '')"
    " || ' ' || coalesce(email, '') || ' ' || translate(coalesce(email, ''), '@._+-', '     ')"
    " || ' ' || regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g')"
    " || ' ' || coalesce(mpesa_number, '') || ' ' || coalesce('0' || substr(mpesa_number, 4), '')), 'B')"
    " || setweight(to_tsvector('simple'::regconfig, coalesce(address, '') || ' ' || coalesce(city, '')"
    " || ' ' || coalesce(county, '') || ' ' || coalesce(sub_county, '') || ' ' || coalesce(postal_code, '')),"
    " 'C')"
)
SORT_NAME_SQL = (
    "lower(CASE WHEN kind = 'company' AND company_name IS NOT NULL THEN company_name"
    " ELSE btrim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) END)"
)
CHECKS = {
    "billing_day": "billing_day BETWEEN 1 AND 28",
    "coordinates": "latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180",
    "coordinates_pair": "(latitude IS NULL) = (longitude IS NULL)",
    "deposit": "deposit >= 0",
    "credit_limit": "credit_limit >= 0",
    "mpesa_number": "mpesa_number ~ '^254[17][0-9]{8}$'",
}
INDEXES = ("ix_customers_county_status", "ix_customers_sub_county_status", "ix_customers_city_status",
           "ix_customers_category_status", "ix_customers_created_at_id", "ix_customers_mpesa_number",
           "ix_customers_national_id", "ix_customers_search", "ix_customers_sort_name_id",
           "ix_customers_status_created_at_id")
NEW_COLUMNS = ("national_id", "address", "city", "county", "sub_county", "postal_code", "latitude", "longitude",
               "mpesa_number", "category", "billing_day", "payment_method", "deposit", "credit_limit",
               "approved_at", "approved_by", "search", "sort_name")


def upgrade() -> None:
    op.add_column("customers", sa.Column("national_id", sa.String(length=40), nullable=True))
    op.add_column("customers", sa.Column("address", sa.String(length=300), nullable=True))
    op.add_column("customers", sa.Column("city", sa.String(length=100), nullable=True))
    op.add_column("customers", sa.Column("county", sa.String(length=100), nullable=True))
    op.add_column("customers", sa.Column("sub_county", sa.String(length=100), nullable=True))
    op.add_column("customers", sa.Column("postal_code", sa.String(length=20), nullable=True))
    op.add_column("customers", sa.Column("latitude", sa.Numeric(precision=9, scale=6), nullable=True))
    op.add_column("customers", sa.Column("longitude", sa.Numeric(precision=9, scale=6), nullable=True))
    op.add_column("customers", sa.Column("mpesa_number", sa.String(length=12), nullable=True))
    op.add_column("customers", sa.Column("category", sa.String(length=40), nullable=True))
    op.add_column("customers", sa.Column("billing_day", sa.SmallInteger(), nullable=True))
    op.add_column("customers", sa.Column("payment_method", sa.String(length=30), nullable=True))
    op.add_column("customers", sa.Column("deposit", sa.Numeric(precision=12, scale=2), server_default="0",
                                         nullable=False))
    op.add_column("customers", sa.Column("credit_limit", sa.Numeric(precision=12, scale=2), nullable=True))
    op.add_column("customers", sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("customers", sa.Column("approved_by", sa.String(length=300), nullable=True))
    op.add_column("customers", sa.Column("search", postgresql.TSVECTOR(), sa.Computed(SEARCH_SQL, persisted=True),
                                         nullable=False))
    op.add_column("customers", sa.Column("sort_name", sa.Text(), sa.Computed(SORT_NAME_SQL, persisted=True),
                                         nullable=False))
    for name, condition in CHECKS.items():
        op.create_check_constraint(op.f(f"ck_customers_{name}"), "customers", condition)
    op.create_index("ix_customers_county_status", "customers", [sa.literal_column("lower(county)"), "status"],
                    unique=False, postgresql_include=["county", "sub_county"])
    op.create_index("ix_customers_sub_county_status", "customers", [sa.literal_column("lower(sub_county)"), "status"],
                    unique=False, postgresql_include=["sub_county"])
    op.create_index("ix_customers_city_status", "customers", [sa.literal_column("lower(city)"), "status"],
                    unique=False, postgresql_include=["city"])
    op.create_index("ix_customers_category_status", "customers", [sa.literal_column("lower(category)"), "status"],
                    unique=False, postgresql_include=["category"])
    op.create_index("ix_customers_created_at_id", "customers", ["created_at", "id"], unique=False)
    op.create_index("ix_customers_mpesa_number", "customers", ["mpesa_number"], unique=False)
    op.create_index("ix_customers_national_id", "customers", ["national_id"], unique=False)
    op.create_index("ix_customers_search", "customers", ["search"], unique=False, postgresql_using="gin")
    op.create_index("ix_customers_sort_name_id", "customers", ["sort_name", "id"], unique=False)
    op.create_index("ix_customers_status_created_at_id", "customers", ["status", "created_at", "id"], unique=False)

    op.create_table(
        "customer_status_history",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name="fk_customer_status_history_customer_id_customers", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_customer_status_history"),
    )
    op.create_index("ix_customer_status_history_customer", "customer_status_history", ["customer_id", "at", "id"],
                    unique=False)
    op.execute("INSERT INTO customer_status_history (customer_id, from_status, to_status, at, actor, actor_kind, reason)"
               " SELECT id, NULL, status, created_at, 'system', 'system', 'status when history began' FROM customers")

    op.create_table(
        "contact_types",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contact_types"),
    )
    op.create_index("uq_contact_types_lower_name", "contact_types", [sa.literal_column("lower(name)")], unique=True)
    op.create_table(
        "contacts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("type_id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("channels", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"),
                  nullable=False),
        sa.Column("notifications", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"),
                  nullable=False),
        sa.Column("is_primary", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name="fk_contacts_customer_id_customers",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["type_id"], ["contact_types.id"], name="fk_contacts_type_id_contact_types",
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name="pk_contacts"),
    )
    op.create_index("ix_contacts_customer", "contacts", ["customer_id", "id"], unique=False)
    op.create_index("ix_contacts_type_id", "contacts", ["type_id"], unique=False)
    op.create_index("uq_contacts_primary", "contacts", ["customer_id"], unique=True,
                    postgresql_where=sa.text("is_primary"))


def downgrade() -> None:
    op.drop_table("contacts")
    op.drop_table("contact_types")
    op.drop_table("customer_status_history")
    for name in CHECKS:
        op.drop_constraint(op.f(f"ck_customers_{name}"), "customers", type_="check")
    for index in INDEXES:  # some are on columns that stay (created_at, status)
        op.drop_index(index, table_name="customers")
    for column in reversed(NEW_COLUMNS):
        op.drop_column("customers", column)
