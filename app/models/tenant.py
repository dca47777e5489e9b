"""Tables that exist once per tenant schema."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Computed, Identity, Index, Numeric, SmallInteger, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import TenantBase, Timestamps

CUSTOMER_STATUSES = ("New", "Active", "Suspended", "Inactive", "Pending")

# What the full-text search of the customer list reads, by weight: A names (so that the `name` filter can
# ask for A only), B identifiers (Portal ID, national ID, e-mail split at its punctuation so that a part
# of an address finds it, phone digits, M-PESA number as 2547… and as 07…), C the location. 'simple':
# names and places are not English words, so no stemming and no stop words.
CUSTOMER_SEARCH_SQL = (
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
# The name the list sorts by (what `display_name` shows, lower-cased), kept as a column so that an index
# serves both the order and the keyset condition of a page.
CUSTOMER_SORT_NAME_SQL = (
    "lower(CASE WHEN kind = 'company' AND company_name IS NOT NULL THEN company_name"
    " ELSE btrim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) END)"
)


class Setting(TenantBase):
    """A tenant's own settings (portal texts, Portal ID format, policies), one JSON value per key."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[object] = mapped_column(JSONB)


class Counter(TenantBase):
    """Gap-free counters (Portal IDs, invoice numbers): a row updated in the caller's transaction."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[int] = mapped_column(default=0, server_default="0")


class Customer(Timestamps, TenantBase):
    """A reseller's customer: who (person or company), where (address, county, GPS), how they pay (M-PESA
    number, method, billing day, deposit, credit limit) and their lifecycle status.

    The indexes are those of the customer list: one per sort order, each ending in `id` so that a keyset
    cursor `(key, id)` is a single index range; a GIN index for the full-text search; the location and
    status columns for the filters and their counts. Business rules live in `app.services.customers`.
    """

    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("status IN ('New', 'Active', 'Suspended', 'Inactive', 'Pending')", name="status"),
        CheckConstraint("kind IN ('person', 'company')", name="kind"),
        CheckConstraint("billing_day BETWEEN 1 AND 28", name="billing_day"),
        CheckConstraint("latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180", name="coordinates"),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="coordinates_pair"),
        CheckConstraint("deposit >= 0", name="deposit"),
        CheckConstraint("credit_limit >= 0", name="credit_limit"),
        CheckConstraint("mpesa_number ~ '^254[17][0-9]{8}$'", name="mpesa_number"),
        Index("ix_customers_created_at_id", "created_at", "id"),
        Index("ix_customers_sort_name_id", "sort_name", "id"),
        Index("ix_customers_status_created_at_id", "status", "created_at", "id"),
        # location and category filters match case-insensitively; the INCLUDEd columns let PostgreSQL count
        # a filter's matches from the index alone (an expression index without them needs the table)
        Index("ix_customers_county_status", text("lower(county)"), "status",
              postgresql_include=["county", "sub_county"]),
        Index("ix_customers_sub_county_status", text("lower(sub_county)"), "status",
              postgresql_include=["sub_county"]),
        Index("ix_customers_city_status", text("lower(city)"), "status", postgresql_include=["city"]),
        Index("ix_customers_category_status", text("lower(category)"), "status", postgresql_include=["category"]),
        Index("ix_customers_search", "search", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    portal_id: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="person", server_default="person")
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    company_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="New", server_default="New")
    extra: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    # "Required Information" (004): ID number, location down to the sub-county and GPS, M-PESA number
    national_id: Mapped[str | None] = mapped_column(String(40), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(100))
    county: Mapped[str | None] = mapped_column(String(100))
    sub_county: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    mpesa_number: Mapped[str | None] = mapped_column(String(12), index=True)  # 2547XXXXXXXX / 2541XXXXXXXX
    # billing set-up ("Step 3" of 001) and the segment tiered pricing reads
    category: Mapped[str | None] = mapped_column(String(40))
    billing_day: Mapped[int | None] = mapped_column(SmallInteger)
    payment_method: Mapped[str | None] = mapped_column(String(30))
    deposit: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"), server_default="0")
    credit_limit: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    # "Account Approval Process" (004): who let a Pending customer through, and when
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(300))
    # derived by PostgreSQL; never written by the application, never loaded unless asked for
    search: Mapped[str] = mapped_column(TSVECTOR, Computed(CUSTOMER_SEARCH_SQL, persisted=True), deferred=True)
    sort_name: Mapped[str] = mapped_column(Text, Computed(CUSTOMER_SORT_NAME_SQL, persisted=True), deferred=True)

    @property
    def display_name(self) -> str:
        return self.name_of(self.kind, self.first_name, self.last_name, self.company_name, self.portal_id)

    @staticmethod
    def name_of(kind: str, first_name: str | None, last_name: str | None, company_name: str | None,
                portal_id: str) -> str:
        """The name shown for a customer, also for rows of the list that are not loaded as objects."""
        if kind == "company" and company_name:
            return company_name
        return " ".join(p for p in (first_name, last_name) if p) or portal_id
