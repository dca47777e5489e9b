"""Resellers' accounts with the master ISP: wholesale charges, credit limits

Revision ID: p0009
Revises: p0008
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "p0009"
down_revision = "p0008"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"public.{target}.id"], name=f"fk_{table}_{column}_{target}",
                                   ondelete=ondelete)


def _now() -> dict:
    return {"server_default": sa.text("now()"), "nullable": False}


def upgrade() -> None:
    op.create_table(
        "reseller_accounts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("credit_limit", MONEY, nullable=True),
        sa.Column("warning_percent", sa.SmallInteger(), server_default="80", nullable=False),
        sa.Column("restriction_percent", sa.SmallInteger(), server_default="90", nullable=False),
        sa.Column("at_limit_new_customers", sa.String(length=20), server_default="suspend", nullable=False),
        sa.Column("at_limit_services", sa.String(length=20), server_default="continue", nullable=False),
        sa.Column("at_limit_payments", sa.String(length=20), server_default="continue", nullable=False),
        sa.Column("payment_terms_days", sa.SmallInteger(), server_default="30", nullable=False),
        sa.Column("balance", MONEY, server_default="0", nullable=False),
        sa.Column("updated_by", sa.String(length=300), server_default="system", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), **_now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), **_now()),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_reseller_accounts_currency"),
        sa.CheckConstraint("credit_limit IS NULL OR credit_limit > 0", name="ck_reseller_accounts_credit_limit"),
        sa.CheckConstraint("warning_percent BETWEEN 50 AND 95", name="ck_reseller_accounts_warning_percent"),
        sa.CheckConstraint("restriction_percent BETWEEN 75 AND 99 AND restriction_percent > warning_percent",
                           name="ck_reseller_accounts_restriction_percent"),
        sa.CheckConstraint("at_limit_new_customers IN ('suspend', 'approval', 'continue')",
                           name="ck_reseller_accounts_at_limit_new_customers"),
        sa.CheckConstraint("at_limit_services IN ('continue', 'review', 'restrict')",
                           name="ck_reseller_accounts_at_limit_services"),
        sa.CheckConstraint("at_limit_payments IN ('continue', 'review', 'escalate')",
                           name="ck_reseller_accounts_at_limit_payments"),
        sa.CheckConstraint("payment_terms_days IN (15, 30)", name="ck_reseller_accounts_payment_terms_days"),
        _fk("reseller_accounts", "tenant_id", "tenants", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_reseller_accounts"),
        sa.UniqueConstraint("tenant_id", name="uq_reseller_accounts_tenant_id"),
        schema="public",
    )
    op.create_table(
        "account_entries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), **_now()),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("source_key", sa.String(length=200), nullable=False),
        sa.Column("service_id", sa.BigInteger(), nullable=True),
        sa.Column("invoice_id", sa.BigInteger(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("method", sa.String(length=20), nullable=True),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.Column("reverses_id", sa.BigInteger(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=300), server_default="system", nullable=False),
        sa.CheckConstraint("kind IN ('charge', 'payment', 'adjustment', 'reversal')", name="ck_account_entries_kind"),
        sa.CheckConstraint("amount <> 0", name="ck_account_entries_amount"),
        sa.CheckConstraint("kind <> 'charge' OR (amount > 0 AND due_on IS NOT NULL)", name="ck_account_entries_charge"),
        sa.CheckConstraint("kind <> 'payment' OR amount < 0", name="ck_account_entries_payment"),
        sa.CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name="ck_account_entries_reversal"),
        _fk("account_entries", "account_id", "reseller_accounts", "RESTRICT"),
        _fk("account_entries", "reverses_id", "account_entries", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name="pk_account_entries"),
        sa.UniqueConstraint("source_key", name="uq_account_entries_source_key"),
        sa.UniqueConstraint("reverses_id", name="uq_account_entries_reverses_id"),
        schema="public",
    )
    op.create_index("ix_account_entries_account", "account_entries", ["account_id", "id"], schema="public")
    op.create_index("ix_account_entries_invoice", "account_entries", ["account_id", "invoice_id"], schema="public",
                    postgresql_where=sa.text("invoice_id IS NOT NULL"))
    op.create_table(
        "account_allocations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("payment_id", sa.BigInteger(), nullable=False),
        sa.Column("charge_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), **_now()),
        sa.CheckConstraint("amount <> 0", name="ck_account_allocations_amount"),
        _fk("account_allocations", "payment_id", "account_entries", "RESTRICT"),
        _fk("account_allocations", "charge_id", "account_entries", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name="pk_account_allocations"),
        schema="public",
    )
    op.create_index("ix_account_allocations_payment_id", "account_allocations", ["payment_id"], schema="public")
    op.create_index("ix_account_allocations_charge_id", "account_allocations", ["charge_id"], schema="public")
    op.create_table(
        "credit_alerts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("threshold", sa.Numeric(5, 2), nullable=False),
        sa.Column("utilisation", sa.Numeric(9, 2), nullable=False),
        sa.Column("crossed_at", sa.DateTime(timezone=True), **_now()),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("level IN ('warning', 'restriction', 'limit')", name="ck_credit_alerts_level"),
        _fk("credit_alerts", "account_id", "reseller_accounts", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_credit_alerts"),
        schema="public",
    )
    op.create_index("ix_credit_alerts_account_id", "credit_alerts", ["account_id"], schema="public")
    op.create_index("uq_credit_alerts_open", "credit_alerts", ["account_id", "level"], unique=True, schema="public",
                    postgresql_where=sa.text("cleared_at IS NULL"))
    op.create_table(
        "emergency_credits",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("status", sa.String(length=20), server_default="requested", nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=300), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), **_now()),
        sa.Column("approved_by", sa.String(length=300), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('requested', 'approved', 'rejected', 'expired')",
                           name="ck_emergency_credits_status"),
        sa.CheckConstraint("amount > 0", name="ck_emergency_credits_amount"),
        sa.CheckConstraint("status <> 'approved' OR expires_at IS NOT NULL", name="ck_emergency_credits_expiry"),
        _fk("emergency_credits", "account_id", "reseller_accounts", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_emergency_credits"),
        schema="public",
    )
    op.create_index("ix_emergency_credits_account_id", "emergency_credits", ["account_id"], schema="public")
    op.create_index("uq_emergency_credits_open", "emergency_credits", ["account_id"], unique=True, schema="public",
                    postgresql_where=sa.text("status IN ('requested', 'approved')"))
    op.create_table(
        "account_idempotency_keys",
        sa.Column("scope", sa.String(length=120), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=True),
        sa.Column("response", JSONB(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), **_now()),
        sa.PrimaryKeyConstraint("scope", "key", name="pk_account_idempotency_keys"),
        schema="public",
    )
    op.create_index("ix_account_idempotency_keys_created_at", "account_idempotency_keys", ["created_at"],
                    schema="public")
    # the account's ledger and its allocations are append-only: corrections are reversals (negative rows)
    op.execute("""
        CREATE FUNCTION public.reseller_account_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the reseller account is append-only: post a reversal instead of % on %', TG_OP,
                TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
        END $$
    """)
    for table in ("account_entries", "account_allocations"):
        op.execute(f"""
            CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON public.{table}
            FOR EACH STATEMENT EXECUTE FUNCTION public.reseller_account_append_only()
        """)
    # the account's balance is the sum of its entries, kept up to date by every insert
    op.execute("""
        CREATE FUNCTION public.reseller_account_balance() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE public.reseller_accounts a SET balance = a.balance + n.total
            FROM (SELECT account_id, sum(amount) AS total FROM new_rows GROUP BY account_id) n
            WHERE a.id = n.account_id;
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER account_entries_balance AFTER INSERT ON public.account_entries
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.reseller_account_balance()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS account_entries_balance ON public.account_entries")
    op.execute("DROP FUNCTION IF EXISTS public.reseller_account_balance()")
    for table in ("account_allocations", "account_entries"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON public.{table}")
    op.execute("DROP FUNCTION IF EXISTS public.reseller_account_append_only()")
    for table in ("account_idempotency_keys", "emergency_credits", "credit_alerts", "account_allocations",
                  "account_entries", "reseller_accounts"):
        op.drop_table(table, schema="public")
