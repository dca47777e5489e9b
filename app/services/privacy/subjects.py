"""What a data export holds ("Export Options: Customer data export upon request", 000; "Personal data access",
§12.2): every row held about the customer, subject by subject, and every table left out with the reason.

Each subject is one JSON file of the ZIP, an object of `{table: [rows]}` (plus what is worked out from the rows,
such as `sites`). A part names its table and which of its rows are the customer's, and exports every column
but those it omits, so that a column added to a table later is exported without anyone remembering to. Never
exported, whatever the table: a column whose name says it holds a secret (`SECRET_COLUMN`: password and key
hashes, encrypted tokens and passwords, digests of session tokens and devices), and nothing of another
customer: every part is bounded by this customer's id, or by the ids of their own services, invoices, payments
and requests, worked out first (`Scope`).

`EXPORTED` and `NOT_EXPORTED` together must name every tenant table that refers to a customer:
tests/privacy/test_export.py reads the models and fails for a new one that is in neither, so a table added
later (tickets, say) is exported, or left out with a reason, on purpose.

Invoices that are still drafts are left out: a draft is the reseller's work in progress, not a document of the
customer's account, and it becomes the issued invoice that is exported. Usage is the last 24 months (what
is kept, `USAGE_RETENTION_MONTHS`). E-mails are listed by subject and date, never with their bodies, which
can hold a link that still works (an e-mail change, a password reset).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, Table, and_, false, or_, select
from sqlalchemy.orm import Session

from app.models import TenantBase
from app.services.billing.cycles import add_months
from app.services.usage.config import USAGE_RETENTION_MONTHS

SECRET_COLUMN = re.compile(r"hash|secret|encrypted|token|digest|password", re.IGNORECASE)


@dataclass(frozen=True)
class Scope:
    """The customer's own ids, found once: every part of the export is bounded by them."""

    customer_id: int
    email: str | None
    service_ids: tuple[int, ...]
    invoice_ids: tuple[int, ...]
    payment_ids: tuple[int, ...]
    request_ids: tuple[int, ...]
    usage_since: date


@dataclass(frozen=True)
class Part:
    table: str
    rows: Callable[[Table, Scope], ColumnElement]  # which rows of the table are the customer's
    omit: tuple[str, ...] = ()  # beyond the secret-looking columns, which are never exported
    only: tuple[str, ...] = ()  # when set, these columns and no others


@dataclass(frozen=True)
class Subject:
    name: str  # the file: <name>.json
    title: str  # a msgid, for the page and the manifest
    parts: tuple[Part, ...]
    worked_out: tuple[str, ...] = field(default=())  # keys computed from the rows (exports.py draws them)


def _customer(t: Table, s: Scope) -> ColumnElement:
    return t.c.customer_id == s.customer_id


def _in(column, ids: tuple[int, ...]) -> ColumnElement:
    return column.in_(ids) if ids else false()


def _service(t: Table, s: Scope) -> ColumnElement:
    return _in(t.c.service_id, s.service_ids)


def _invoice(t: Table, s: Scope) -> ColumnElement:
    return _in(t.c.invoice_id, s.invoice_ids)


def _payment(t: Table, s: Scope) -> ColumnElement:
    return _in(t.c.payment_id, s.payment_ids)


def addressed_to(t: Table, email: str | None) -> ColumnElement:
    """Rows of the outbox sent to the address, alone or with a name ("Amina <amina@example.com>")."""
    if not email:
        return false()
    return or_(t.c.to_address == email, t.c.to_address.endswith(f"<{email}>", autoescape=True))


def _of_the_customers(parent: str, column: str) -> Callable[[Table, Scope], ColumnElement]:
    """Rows of a child table whose parent row (a dispute, a plan) is the customer's."""
    def rows(t: Table, s: Scope) -> ColumnElement:
        owner = table(parent)
        return t.c[column].in_(select(owner.c.id).where(owner.c.customer_id == s.customer_id))
    return rows


def _principal(t: Table, s: Scope) -> ColumnElement:
    return and_(t.c.principal_kind == "customer", t.c.principal_id == s.customer_id)


SUBJECTS: tuple[Subject, ...] = (
    Subject("profile", "Your details", (
        Part("customers", lambda t, s: t.c.id == s.customer_id, omit=("search", "sort_name")),
        Part("portal_accounts", _customer, omit=("totp_last_step",)),
        Part("customer_status_history", _customer),
    ), worked_out=("two_factor",)),
    Subject("contacts", "Contacts", (Part("contacts", _customer),)),
    Subject("services", "Services and sites", (
        Part("services", _customer, omit=("wholesale_price", "price_rule_id")),  # the reseller's own terms
        Part("service_status_history", _service),
        Part("ip_assignments", _service),
        Part("equipment", lambda t, s: or_(_customer(t, s), _service(t, s))),
        Part("fup_state", _service),
        Part("usage_thresholds", _service),
    ), worked_out=("sites",)),
    Subject("service_requests", "Service requests", (Part("service_requests", _service),)),
    Subject("invoices", "Invoices and credit notes", (
        Part("invoices", lambda t, s: _in(t.c.id, s.invoice_ids)),
        Part("invoice_lines", _invoice),
        Part("invoice_taxes", _invoice),
        Part("charge_attempts", _invoice),
        Part("dunning_steps", _customer),
    )),
    Subject("payments", "Payments", (
        Part("payments", _customer),
        Part("payment_allocations", lambda t, s: or_(_payment(t, s), _invoice(t, s),
                                                     _in(t.c.credit_note_id, s.invoice_ids))),
        Part("refunds", _payment),
        Part("gateway_events", _payment),
        Part("payment_requests", _customer, omit=("checkout_url",)),  # the processor's page, a link that pays
        Part("payment_methods", _customer),
    )),
    Subject("disputes_and_plans", "Disputes and payment plans", (
        Part("invoice_disputes", _customer),
        Part("invoice_dispute_lines", _of_the_customers("invoice_disputes", "dispute_id")),
        Part("invoice_dispute_usage", _of_the_customers("invoice_disputes", "dispute_id")),
        Part("invoice_dispute_attachments", _of_the_customers("invoice_disputes", "dispute_id"),
             omit=("stored_name",)),  # where the file lies on the server; the file's name and type are exported
        Part("payment_plans", _customer),
        Part("payment_plan_invoices", _of_the_customers("payment_plans", "plan_id")),
        Part("payment_plan_instalments", _of_the_customers("payment_plans", "plan_id")),
        Part("arrangement_events", lambda t, s: or_(_of_the_customers("invoice_disputes", "dispute_id")(t, s),
                                                    _of_the_customers("payment_plans", "plan_id")(t, s))),
    )),
    Subject("ledger", "Account ledger", (Part("ledger_entries", _customer),)),
    Subject("usage", "Usage", (
        Part("usage_daily", lambda t, s: and_(_service(t, s), t.c.day >= s.usage_since)),
        Part("usage_records", lambda t, s: or_(_customer(t, s), _service(t, s))),
        Part("usage_buckets", _customer),
    )),
    Subject("connections", "Internet sessions", (
        Part("radius_sessions", lambda t, s: or_(_customer(t, s), _service(t, s))),
    )),
    Subject("activity", "Activity on your account", (Part("activity_log", _customer),)),
    Subject("sign_ins", "Sign-ins, sessions and devices", (
        # a session's id is the digest of its token; `device`, the digest of the device cookie
        Part("login_events", _principal, omit=("device",)),
        Part("sessions", _principal, omit=("id", "device")),
        Part("known_devices", _principal, omit=("device",)),
    )),
    Subject("consents", "Consents", (Part("consent_events", _customer),), worked_out=("current",)),
    Subject("api_keys", "API keys", (Part("api_keys", _customer),)),
    Subject("privacy_requests", "Data exports and deletion requests", (
        Part("data_exports", _customer, omit=("stored_name",)),
        Part("deletion_requests", _customer),
        Part("deletion_request_events", lambda t, s: _in(t.c.request_id, s.request_ids)),
    )),
    Subject("emails", "E-mails sent to you", (
        Part("outbox", lambda t, s: addressed_to(t, s.email),
             only=("id", "created_at", "template", "subject", "status", "sent_at")),
    )),
)

# Tables that refer to a customer and are not exported, each with why (the coverage test reads this).
NOT_EXPORTED: dict[str, str] = {
    "backup_codes": "digests of the two-step verification backup codes, which were shown to the customer once; "
                    "nothing in them can be read back (the export says how many are left)",
    "reset_tokens": "digests of password-reset links, which work for an hour; nothing in them can be read back",
    "commission_lines": "the reseller's commission on a payment: the reseller's earnings, not the customer's "
                        "data (the payment itself is exported)",
    "coa_requests": "messages to the network's routers to apply a change to a session (a speed, a disconnect); "
                    "the sessions and the changes are exported",
}

EXPORTED: frozenset[str] = frozenset(p.table for s in SUBJECTS for p in s.parts)


def table(name: str) -> Table:
    return TenantBase.metadata.tables[name]


def columns(part: Part) -> list:
    """The columns of a part that are exported: all but the omitted and the secret-looking ones."""
    t = table(part.table)
    wanted = [t.c[name] for name in part.only] if part.only else list(t.columns)
    return [c for c in wanted if c.name not in part.omit and not SECRET_COLUMN.search(c.name)]


def rows_query(part: Part, scope: Scope):
    t = table(part.table)
    return select(*columns(part)).where(part.rows(t, scope)).order_by(*t.primary_key.columns)


def scope_of(session: Session, customer_id: int, email: str | None, today: date) -> Scope:
    def ids(name: str, condition: Callable[[Table], ColumnElement]) -> tuple[int, ...]:
        t = table(name)
        return tuple(session.execute(select(t.c.id).where(condition(t)).order_by(t.c.id)).scalars())

    return Scope(
        customer_id=customer_id, email=email,
        service_ids=ids("services", lambda t: t.c.customer_id == customer_id),
        invoice_ids=ids("invoices", lambda t: and_(t.c.customer_id == customer_id, t.c.status != "Draft")),
        payment_ids=ids("payments", lambda t: t.c.customer_id == customer_id),
        request_ids=ids("deletion_requests", lambda t: t.c.customer_id == customer_id),
        usage_since=add_months(today.replace(day=1), -USAGE_RETENTION_MONTHS),
    )
