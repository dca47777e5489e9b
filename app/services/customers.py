"""Customers of a reseller: their profile, lifecycle status, deletion, and the customer list.

- Creation is step 1 of onboarding ("Customer Creation Process" in 001, "Required Information" in 004):
  a platform-unique Portal ID, validated and normalised details (M-PESA numbers as 2547XXXXXXXX or
  2541XXXXXXXX, GPS to 6 decimals, money as Decimal with 2), within the reseller's customer limit. Where
  the reseller requires approval (setting `customers.require_approval`) a new customer starts Pending.
- Status changes follow `TRANSITIONS`; every one, and the status a customer starts in, is a row of
  `customer_status_history` (who, when, why) and an activity-log entry. One code path serves a single
  change, an approval and a bulk change, so they cannot disagree.
- Deleting removes a customer only when nothing financial refers to them (`FINANCIAL_TABLES`); otherwise
  the customer is made Inactive and kept, because invoices, payments and the ledger must keep pointing
  at someone.
- The list filters, searches (PostgreSQL full text over the generated `search` column) and pages with
  a keyset cursor, so that a page deep in a list of 100,000 costs what page 1 costs and a page never
  skips or repeats a row while customers are added.

`visible` parameters carry a user's `allowed_customer_ids` (None: every customer); a customer outside it
is reported as not found, never as forbidden, so that its existence does not leak.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import case, func, insert, literal_column, select, text, tuple_
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Customer
from app.models import Tenant as TenantRow
from app.models.customers import CustomerStatusChange
from app.models.tenant import CUSTOMER_STATUSES
from app.services import activity
from app.services.auth.principal import Principal
from app.services.errors import Conflict, Invalid, NotFound
from app.services.portal_ids import next_portal_id
from app.services.settings import get_setting
from tenants import require_tenant

KINDS = ("person", "company")
STATUSES = CUSTOMER_STATUSES

# The lifecycle of 001 §3.3. New: added, awaiting activation. Pending: awaiting approval or activation.
# Active: services operational. Suspended: a temporary interruption (payment, policy). Inactive:
# permanently closed, so nothing leaves it (a returning customer is a new customer, with a new Portal ID).
# Leaving Pending for New or Active is the approval of 004 (approved_at/approved_by are set).
TRANSITIONS: dict[str, frozenset[str]] = {
    "New": frozenset({"Active", "Pending", "Inactive"}),
    "Pending": frozenset({"New", "Active", "Inactive"}),
    "Active": frozenset({"Suspended", "Inactive"}),
    "Suspended": frozenset({"Active", "Inactive"}),
    "Inactive": frozenset(),
}
APPROVAL_TARGETS = ("New", "Active")

PAYMENT_METHODS = ("mpesa", "card", "bank_transfer", "wire", "cheque", "digital_wallet", "cash")

# Tables whose rows are financial records about a customer (their column `customer_id`). They belong to
# other parts of the platform and may not exist yet in a schema: each is looked up with `to_regclass`,
# and one without a `customer_id` column is not consulted. Any other table that refers to a customer
# with a RESTRICT foreign key also stops a deletion (the customer is then made Inactive instead).
FINANCIAL_TABLES = ("services", "invoices", "payments", "ledger_entries")

BULK_MAX = 10_000
ID_MAX = 2**63 - 1  # ids are bigint: a larger number names nothing (and must not reach PostgreSQL)
PAGE_MAX = 200
MONEY_MAX = Decimal("9999999999.99")
_CENT = Decimal("0.01")
_MICRODEGREE = Decimal("0.000001")

PROFILE_FIELDS = ("kind", "first_name", "last_name", "company_name", "email", "phone", "national_id", "address",
                  "city", "county", "sub_county", "postal_code", "latitude", "longitude", "mpesa_number",
                  "category", "billing_day", "payment_method", "deposit", "credit_limit", "extra")


class CustomerLimitReached(Conflict):
    slug = "customer-limit-reached"
    title = "Customer limit reached"


class TransitionRefused(Conflict):
    slug = "status-transition-refused"
    title = "Status change not allowed"


# -- validation ---------------------------------------------------------------------------------------
_MSISDN = re.compile(r"^(?:\+?254|0)?([17]\d{8})$")
_PHONE = re.compile(r"^\+?\d{7,15}$")
_NATIONAL_ID = re.compile(r"^[A-Z0-9][A-Z0-9/-]{3,39}$")
_SEPARATORS = re.compile(r"[\s\-().]")
_SPACES = re.compile(r"\s+")


def normalise_msisdn(value: str) -> str:
    """A Kenyan mobile number (as M-PESA knows it) in the form 2547XXXXXXXX or 2541XXXXXXXX.

    Accepts what people type: 0712 345 678, 712345678, +254 712-345-678, 254112345678, 00254712345678.
    """
    compact = _SEPARATORS.sub("", value or "")
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    match = _MSISDN.match(compact)
    if not match:
        raise ValueError("not a Kenyan mobile number: use 07XXXXXXXX, 01XXXXXXXX or 2547XXXXXXXX/2541XXXXXXXX")
    return "254" + match.group(1)


def _text(value, limit: int) -> str | None:
    """Trimmed, inner whitespace collapsed; empty is None."""
    if value is None:
        return None
    value = _SPACES.sub(" ", str(value)).strip()
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    if len(value) > limit:
        raise ValueError(f"at most {limit} characters")
    return value or None


def clean_phone(value) -> str | None:
    compact = _SEPARATORS.sub("", str(value or ""))
    if not compact:
        return None
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not _PHONE.match(compact):
        raise ValueError("not a phone number: 7 to 15 digits, optionally after a +")
    return compact


def clean_email(value) -> str | None:
    value = (value or "").strip().lower()
    if not value:
        return None
    local, at, domain = value.partition("@")
    if not (at and local and "." in domain and " " not in value and len(value) <= 254):
        raise ValueError("not a valid e-mail address")
    return value


def _national_id(value) -> str | None:
    value = _SPACES.sub("", str(value or "")).upper()
    if not value:
        return None
    if not _NATIONAL_ID.match(value):
        raise ValueError("4 to 40 letters, digits, '/' or '-'")
    return value


def _money(value, *, nullable: bool) -> Decimal | None:
    """Money as Decimal with 2 places: more places are refused (never rounded silently), floats never used."""
    if value is None or value == "":
        if nullable:
            return None
        raise ValueError("an amount is needed (0 for none)")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise ValueError("not an amount") from None
    if not amount.is_finite() or amount < 0 or amount > MONEY_MAX:  # first: quantize fails on huge numbers
        raise ValueError(f"an amount between 0 and {MONEY_MAX}")
    if amount != amount.quantize(_CENT, rounding=ROUND_HALF_UP):
        raise ValueError("at most 2 decimal places")
    return amount.quantize(_CENT)


def _coordinate(value, bound: int) -> Decimal | None:
    """GPS to 6 decimals (about 0.1 m), rounded half-up: phones report more than a street address needs."""
    if value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not number.is_finite() or not -bound <= number <= bound:
        raise ValueError(f"between -{bound} and {bound}")
    return number.quantize(_MICRODEGREE, rounding=ROUND_HALF_UP)


def _billing_day(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 28:
        raise ValueError("a day of the month from 1 to 28 (every month has it)")
    return value


def _payment_method(value) -> str | None:
    if value is None:
        return None
    if value not in PAYMENT_METHODS:
        raise ValueError(f"one of {', '.join(PAYMENT_METHODS)}")
    return value


def _kind(value) -> str:
    if value not in KINDS:
        raise ValueError(f"one of {', '.join(KINDS)}")
    return value


def _extra(value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("an object")
    return value


_CLEANERS = {
    "kind": _kind,
    "first_name": lambda v: _text(v, 100),
    "last_name": lambda v: _text(v, 100),
    "company_name": lambda v: _text(v, 200),
    "email": clean_email,
    "phone": clean_phone,
    "national_id": _national_id,
    "address": lambda v: _text(v, 300),
    "city": lambda v: _text(v, 100),
    "county": lambda v: _text(v, 100),
    "sub_county": lambda v: _text(v, 100),
    "postal_code": lambda v: _text(v, 20),
    "latitude": lambda v: _coordinate(v, 90),
    "longitude": lambda v: _coordinate(v, 180),
    "mpesa_number": lambda v: normalise_msisdn(v) if v not in (None, "") else None,
    "category": lambda v: _text(v, 40),
    "billing_day": _billing_day,
    "payment_method": _payment_method,
    "deposit": lambda v: _money(v, nullable=False),
    "credit_limit": lambda v: _money(v, nullable=True),
    "extra": _extra,
}


def clean_profile(values: dict, current: dict | None = None) -> dict:
    """Validate and normalise profile fields; `current` (an update) fills in what `values` leaves out for
    the checks that span fields. Raises Invalid with every field's problem at once."""
    errors: dict[str, list[str]] = {}
    cleaned = {}
    for name, value in values.items():
        if name not in _CLEANERS:
            errors.setdefault(name, []).append("unknown field")
            continue
        try:
            cleaned[name] = _CLEANERS[name](value)
        except ValueError as exc:
            errors.setdefault(name, []).append(str(exc))
    merged = {**(current or {}), **cleaned}
    kind = merged.get("kind", "person")
    if kind == "company" and not merged.get("company_name") and "company_name" not in errors:
        errors.setdefault("company_name", []).append("a company needs a company_name")
    if kind == "person":
        for name in ("first_name", "last_name"):
            if not merged.get(name) and name not in errors:
                errors.setdefault(name, []).append("a person needs a first and a last name")
    if (merged.get("latitude") is None) != (merged.get("longitude") is None) and not (
            {"latitude", "longitude"} & errors.keys()):
        errors.setdefault("longitude" if merged.get("longitude") is None else "latitude", []).append(
            "GPS coordinates come in pairs: latitude and longitude")
    if errors:
        raise Invalid("the customer's details are not valid: " + "; ".join(
            f"{k}: {', '.join(v)}" for k, v in sorted(errors.items())), errors=errors)
    return cleaned


# -- creation -----------------------------------------------------------------------------------------
def active_count(session: Session) -> int:
    """Customers that count against the limit: everyone but the Inactive (closed accounts)."""
    return session.execute(select(func.count()).select_from(Customer).where(Customer.status != "Inactive")
                           ).scalar_one()


def check_limit(session: Session) -> None:
    """Refuse a new customer at the reseller's limit. Creations of one tenant queue on an advisory lock
    (held to the end of the transaction) so that two at once cannot both take the last place.

    A reseller's limit also covers what it handed to its sub-resellers (`app.services.resellers`: its own
    customers plus its direct sub-resellers' limits may not exceed it), so its own customers may fill
    only what is left of it.
    """
    tenant = require_tenant()
    limit = session.execute(
        select(TenantRow.customer_limit).where(TenantRow.id == tenant.id)
    ).scalar_one_or_none()
    if limit is None:
        return
    handed = int(session.execute(
        select(func.coalesce(func.sum(TenantRow.customer_limit), 0)).where(TenantRow.parent_id == tenant.id)
    ).scalar_one())
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('backhaul:customer-limit'), CAST(:t AS integer))"),
                    {"t": tenant.id})
    count = active_count(session)
    own_limit = limit - handed
    if count >= own_limit:
        handed_note = f" ({limit}, less {handed} handed to sub-resellers)" if handed else ""
        raise CustomerLimitReached(
            f"customer limit reached: {tenant.code} may have at most {own_limit} customers of its own{handed_note};"
            f" Inactive ones do not count: close or delete one, or ask your provider for a higher limit",
            limit=limit, handed_to_sub_resellers=handed, count=count)


def _actor_fields(actor: Principal | None) -> dict:
    if actor is None:
        return {"actor": "system", "actor_kind": "system", "actor_id": None}
    return {"actor": actor.actor, "actor_kind": "staff" if actor.impersonator else actor.kind,
            "actor_id": actor.id}


def create(session: Session, *, actor: Principal | None = None, status: str | None = None,
           onboarding: dict | None = None, **profile) -> Customer:
    """Step 1 of onboarding. `status` is for imports and the demo; otherwise a customer starts New, or
    Pending where the reseller requires approval. `onboarding` keeps what later steps should do."""
    profile.setdefault("kind", "person")
    cleaned = clean_profile(profile)
    if status is None:
        require_approval = bool((get_setting(session, "customers") or {}).get("require_approval"))
        status, reason = ("Pending", "awaiting approval") if require_approval else ("New", "created")
    elif status in STATUSES:
        reason = "created"
    else:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}", errors={"status": ["unknown status"]})
    if onboarding:
        cleaned["extra"] = {**cleaned.get("extra", {}), "onboarding": onboarding}
    check_limit(session)
    customer_id = session.execute(
        text("SELECT nextval(pg_get_serial_sequence('customers', 'id'))")
    ).scalar_one()
    customer = Customer(id=customer_id, portal_id=next_portal_id(session, customer_id), status=status, **cleaned)
    session.add(customer)
    session.flush()
    session.add(CustomerStatusChange(customer_id=customer.id, from_status=None, to_status=status, reason=reason,
                                     **_actor_fields(actor)))
    activity.record(session, actor, customer.id, "customer.created", portal_id=customer.portal_id, status=status)
    return customer


def find_by_email(session: Session, email: str) -> Customer | None:
    return session.execute(
        select(Customer).where(Customer.email == email.strip().lower())
    ).scalars().first()


def valid_id(value: int) -> bool:
    return 1 <= value <= ID_MAX


def get(session: Session, customer_id: int, visible: frozenset[int] | None = None, *,
        for_update: bool = False) -> Customer:
    if not valid_id(customer_id) or (visible is not None and customer_id not in visible):
        raise NotFound("no such customer")
    query = select(Customer).where(Customer.id == customer_id)
    if for_update:
        query = query.with_for_update()
    customer = session.execute(query).scalar_one_or_none()
    if customer is None:
        raise NotFound("no such customer")
    return customer


def update(session: Session, customer_id: int, changes: dict, *, actor: Principal | None = None,
           visible: frozenset[int] | None = None) -> Customer:
    """Change profile fields (not the status, which has its transitions; not the Portal ID, ever).

    `extra` is merged key by key, a null value removing its key (JSON merge patch, RFC 7396), so that
    one form's data does not wipe another's (such as what onboarding keeps for its later steps).
    """
    customer = get(session, customer_id, visible, for_update=True)
    current = {name: getattr(customer, name) for name in PROFILE_FIELDS}
    cleaned = clean_profile(changes, current)
    if "extra" in cleaned:
        merged = {**(current["extra"] or {}), **cleaned["extra"]}
        cleaned["extra"] = {key: value for key, value in merged.items() if value is not None}
    changed = sorted(name for name, value in cleaned.items() if current[name] != value)
    for name in changed:
        setattr(customer, name, cleaned[name])
    if changed:
        session.flush()
        activity.record(session, actor, customer.id, "customer.updated", fields=changed)
    return customer


# -- status -------------------------------------------------------------------------------------------
@dataclass
class StatusResult:
    """The outcome for one customer of a (bulk) status change: changed, unchanged (already there),
    refused (the transition table says no) or not_found (unknown, or not visible to the caller)."""

    id: int
    outcome: str
    from_status: str | None = None
    to_status: str | None = None
    portal_id: str | None = None
    error: str | None = None


def refusal(current: str, target: str) -> str | None:
    """Why `current → target` is not allowed, or None when it is."""
    if target == current or target in TRANSITIONS[current]:
        return None
    allowed = ", ".join(sorted(TRANSITIONS[current])) or f"nothing: {current} is final"
    return f"{current} → {target} is not allowed (from {current}: {allowed})"


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("a reason is needed for a status change", errors={"reason": ["required"]})
    if len(reason) > 1000:
        raise Invalid("the reason is too long", errors={"reason": ["at most 1000 characters"]})
    return reason


def change_statuses(session: Session, ids, target: str, reason: str, *, actor: Principal | None = None,
                    visible: frozenset[int] | None = None, action: str = "customer.status_changed",
                    only_from: frozenset[str] | None = None) -> list[StatusResult]:
    """Move customers to `target`, each as far as the transition table allows; returns one result per id.

    The rows are locked (in id order, so two bulk changes cannot deadlock), the allowed ones updated in one
    statement, and their history and activity written in the same transaction. Leaving Pending for New
    or Active records the approval. `only_from` narrows the starting statuses (an approval starts in
    Pending only).
    """
    if target not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}", errors={"status": ["unknown status"]})
    reason = _reason(reason)
    wanted = list(dict.fromkeys(int(i) for i in ids))
    if len(wanted) > BULK_MAX:
        raise Invalid(f"at most {BULK_MAX} customers at once", errors={"ids": [f"at most {BULK_MAX}"]})
    lookup = [i for i in wanted if valid_id(i) and (visible is None or i in visible)]
    rows = {row.id: row for row in session.execute(
        select(Customer.id, Customer.status, Customer.portal_id).where(Customer.id.in_(lookup))
        .order_by(Customer.id).with_for_update()
    )} if lookup else {}
    results, moving = [], {}
    for customer_id in wanted:
        row = rows.get(customer_id)
        if row is None:
            results.append(StatusResult(customer_id, "not_found", error="no such customer"))
            continue
        current, portal_id = row.status, row.portal_id
        if only_from is not None and current not in only_from:
            results.append(StatusResult(customer_id, "refused", current, portal_id=portal_id,
                                        error=f"the customer is {current}, not {' or '.join(sorted(only_from))}"))
        elif current == target:
            results.append(StatusResult(customer_id, "unchanged", current, target, portal_id))
        elif (why := refusal(current, target)) is not None:
            results.append(StatusResult(customer_id, "refused", current, portal_id=portal_id, error=why))
        else:
            moving[customer_id] = current
            results.append(StatusResult(customer_id, "changed", current, target, portal_id))
    if moving:
        _apply(session, moving, target, reason, actor, action)
    return results


def _apply(session: Session, moving: dict[int, str], target: str, reason: str, actor: Principal | None,
           action: str) -> None:
    who = _actor_fields(actor)
    approving = target in APPROVAL_TARGETS
    now = func.now()
    session.execute(
        sql_update(Customer).where(Customer.id.in_(list(moving))).values(
            status=target, updated_at=now,
            approved_at=case((Customer.status == "Pending", now), else_=Customer.approved_at) if approving
            else Customer.approved_at,
            approved_by=case((Customer.status == "Pending", who["actor"]), else_=Customer.approved_by)
            if approving else Customer.approved_by,
        ).execution_options(synchronize_session=False)
    )
    for obj in list(session.identity_map.values()):  # loaded copies are stale now
        if isinstance(obj, Customer) and obj.id in moving:
            session.expire(obj)
    session.execute(insert(CustomerStatusChange), [
        {"customer_id": cid, "from_status": old, "to_status": target, "reason": reason, **who}
        for cid, old in moving.items()
    ])
    for cid, old in moving.items():
        activity.record(session, actor, cid, "customer.approved" if approving and old == "Pending" else action,
                        from_status=old, to_status=target, reason=reason)


def change_status(session: Session, customer_id: int, target: str, reason: str, *, actor: Principal | None = None,
                  visible: frozenset[int] | None = None) -> StatusResult:
    """One customer's status change; a refused one raises (409), an unchanged one is not an error."""
    result = change_statuses(session, [customer_id], target, reason, actor=actor, visible=visible)[0]
    if result.outcome == "not_found":
        raise NotFound("no such customer")
    if result.outcome == "refused":
        raise TransitionRefused(result.error, from_status=result.from_status, to_status=target,
                                allowed=sorted(TRANSITIONS[result.from_status]))
    return result


def approve(session: Session, customer_id: int, *, actor: Principal | None = None, reason: str | None = None,
            activate: bool = False, visible: frozenset[int] | None = None) -> StatusResult:
    """Let a Pending customer through (004 "Approval Workflow"): to New, awaiting activation, or straight
    to Active with `activate`."""
    target = "Active" if activate else "New"
    result = change_statuses(session, [customer_id], target, reason or "approved", actor=actor, visible=visible,
                             only_from=frozenset({"Pending"}))[0]
    if result.outcome == "not_found":
        raise NotFound("no such customer")
    if result.outcome == "refused":
        raise TransitionRefused(f"only a Pending customer can be approved; this one is {result.from_status}",
                                from_status=result.from_status, to_status=target)
    return result


def history(session: Session, customer_id: int, visible: frozenset[int] | None = None) -> list[CustomerStatusChange]:
    get(session, customer_id, visible)
    return list(session.execute(
        select(CustomerStatusChange).where(CustomerStatusChange.customer_id == customer_id)
        .order_by(CustomerStatusChange.at, CustomerStatusChange.id)
    ).scalars())


# -- deletion -----------------------------------------------------------------------------------------
def financial_references(session: Session, customer_id: int) -> list[str]:
    """The tables of `FINANCIAL_TABLES` that exist in this tenant's schema and hold a row of this customer."""
    present = session.execute(text(
        "SELECT t FROM unnest(CAST(:tables AS text[])) AS t WHERE EXISTS ("
        " SELECT 1 FROM pg_attribute a WHERE a.attrelid = to_regclass(format('%I.%I', current_schema(), t))"
        " AND a.attname = 'customer_id' AND NOT a.attisdropped)"
    ), {"tables": list(FINANCIAL_TABLES)}).scalars().all()
    found = []
    for table in present:  # names from FINANCIAL_TABLES only, never from input
        query = text(f'SELECT EXISTS (SELECT 1 FROM "{table}" WHERE customer_id = :c)')
        if session.execute(query, {"c": customer_id}).scalar_one():
            found.append(table)
    return found


@dataclass
class Removal:
    outcome: str                      # deleted | inactivated
    references: list[str] = field(default_factory=list)
    customer: Customer | None = None  # what remains, when inactivated
    changed: bool = True


def delete(session: Session, customer_id: int, *, actor: Principal | None = None, reason: str | None = None,
           visible: frozenset[int] | None = None) -> Removal:
    """Delete a customer with nothing financial about them; otherwise make them Inactive and keep them.

    Contacts, history, portal access and API keys go with a deleted customer; the activity log keeps the
    deletion; the Portal ID stays registered (never given to anyone else). A deletion that another table's
    RESTRICT foreign key stops (a service, equipment...) falls back to Inactive as well.
    """
    customer = get(session, customer_id, visible, for_update=True)
    references = financial_references(session, customer_id)
    if not references:
        portal_id = customer.portal_id
        try:
            with session.begin_nested():
                session.delete(customer)
                session.flush()
        except IntegrityError as exc:
            constraint = getattr(getattr(exc.orig, "diag", None), "table_name", None) or "another record"
            references = [constraint]
            session.expire_all()
        else:
            activity.record(session, actor, customer_id, "customer.deleted", portal_id=portal_id,
                            reason=(reason or "").strip() or None)
            return Removal("deleted")
    why = f"deletion requested; kept because of {', '.join(references)}"
    if reason and reason.strip():
        why = f"{why}: {reason.strip()}"
    result = change_statuses(session, [customer_id], "Inactive", why, actor=actor)[0]
    return Removal("inactivated", references, get(session, customer_id), changed=result.outcome == "changed")


# -- the list -----------------------------------------------------------------------------------------
_TERM = re.compile(r"[^\W_]+")
MAX_TERMS = 8
_SIMPLE = literal_column("'simple'::regconfig")


def tsquery(query: str | None, weights: str = "") -> str | None:
    """A prefix query from what someone types: every word must match the start of a word of the customer
    ("wanj mwa" finds Wanjiru Mwangi; "0712345" their M-PESA number). Words are letters and digits only,
    so nothing typed can inject tsquery syntax."""
    terms = _TERM.findall((query or "").lower())[:MAX_TERMS]
    if not terms:
        return None
    return " & ".join(f"'{term[:100]}':*{weights}" for term in terms)


@dataclass(frozen=True)
class CustomerFilter:
    """The list's filters; location and category match whole values, case-insensitively."""

    portal_id: str | None = None
    q: str | None = None
    name: str | None = None
    statuses: tuple[str, ...] = ()
    county: str | None = None
    sub_county: str | None = None
    city: str | None = None
    category: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None  # exclusive

    def conditions(self) -> list:
        where = []
        if self.portal_id:
            where.append(Customer.portal_id == self.portal_id.strip().upper())
        for value, weights in ((self.q, ""), (self.name, "A")):  # A: the name words of the search vector
            if value is not None and value.strip():  # blank: no search; only punctuation: nothing matches
                query = tsquery(value, weights)
                if query is None:
                    where.append(literal_column("false"))
                else:
                    where.append(Customer.search.bool_op("@@")(func.to_tsquery(_SIMPLE, query)))
        if self.statuses:
            where.append(Customer.status.in_(self.statuses))
        for column, value in ((Customer.county, self.county), (Customer.sub_county, self.sub_county),
                              (Customer.city, self.city), (Customer.category, self.category)):
            if value is not None:
                where.append(func.lower(column) == _SPACES.sub(" ", value).strip().lower())
        if self.created_from is not None:
            where.append(Customer.created_at >= self.created_from)
        if self.created_before is not None:
            where.append(Customer.created_at < self.created_before)
        return where


@dataclass(frozen=True)
class SortKey:
    column: object
    parse: object  # cursor value -> column value


def _cursor_text(value) -> str:
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError("text")
    return value


def _cursor_moment(value) -> datetime:
    moment = datetime.fromisoformat(_cursor_text(value))
    if moment.tzinfo is None:
        raise ValueError("naive")
    return moment


def _cursor_id(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not valid_id(value):
        raise ValueError("id")
    return value


SORTS = {  # a cursor carries the last row's key; these read it back, refusing anything a row could not hold
    "created_at": SortKey(Customer.created_at, _cursor_moment),
    "name": SortKey(Customer.sort_name, _cursor_text),
    "portal_id": SortKey(Customer.portal_id, _cursor_text),
    "id": SortKey(Customer.id, _cursor_id),
}
DEFAULT_SORT = "-created_at"


def sort_options() -> list[str]:
    return [f"{sign}{name}" for name in SORTS for sign in ("", "-")]


# What a row of the list shows (the full profile is one GET away): read as plain columns, not as
# Customer objects, so that a page costs neither ORM loading nor the wide columns it does not show.
LIST_COLUMNS = (Customer.id, Customer.portal_id, Customer.kind, Customer.first_name, Customer.last_name,
                Customer.company_name, Customer.status, Customer.email, Customer.phone, Customer.mpesa_number,
                Customer.city, Customer.county, Customer.sub_county, Customer.category, Customer.created_at)


@dataclass
class Page:
    items: list  # rows of LIST_COLUMNS
    total: int
    next_cursor: str | None
    limit: int
    sort: str


def _encode_cursor(sort: str, key, customer_id: int) -> str:
    value = key.isoformat() if isinstance(key, datetime) else key
    raw = json.dumps({"s": sort, "k": value, "i": customer_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode_cursor(cursor: str, sort: str, spec: SortKey) -> tuple:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        if data["s"] != sort:
            raise ValueError("sort")
        return spec.parse(data["k"]), _cursor_id(data["i"])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise Invalid("the cursor is not valid for this list (was the sort changed?); start again without it",
                      errors={"cursor": ["not valid for this list and sort"]}) from None


def _where(filters: CustomerFilter, visible: frozenset[int] | None) -> list:
    where = filters.conditions()
    if visible is not None:
        where.append(Customer.id.in_(sorted(visible)))
    return where


def matching_ids(session: Session, filters: CustomerFilter, visible: frozenset[int] | None,
                 cap: int = BULK_MAX) -> list[int]:
    """The ids a bulk operation over a filter acts on; refused when more than `cap` (narrow the filter)."""
    query = select(Customer.id).where(*_where(filters, visible)).order_by(Customer.id)
    ids = list(session.execute(query.limit(cap + 1)).scalars())
    if len(ids) > cap:
        raise Invalid(f"the filter matches more than {cap} customers; narrow it", errors={"filter": ["too broad"]})
    return ids


def list_page(session: Session, filters: CustomerFilter, *, sort: str = DEFAULT_SORT, limit: int = 50,
              cursor: str | None = None, visible: frozenset[int] | None = None) -> Page:
    """One page of the filtered, sorted list, its total, and the cursor of the next page.

    Keyset pagination: the order is (sort key, id), unique, and the next page starts after the last row's
    (key, id) — an index range whatever the depth, and rows added meanwhile only ever appear where they
    belong instead of shifting every later page by one. The total counts the filtered set exactly.
    """
    name = sort.lstrip("-")
    spec = SORTS.get(name)
    if spec is None:
        raise Invalid(f"sort must be one of {', '.join(sort_options())}", errors={"sort": ["unknown sort"]})
    if not 1 <= limit <= PAGE_MAX:
        raise Invalid(f"limit must be between 1 and {PAGE_MAX}", errors={"limit": ["out of range"]})
    descending = sort.startswith("-")
    where = _where(filters, visible)
    total = session.execute(select(func.count()).select_from(Customer).where(*where)).scalar_one()
    key = spec.column
    query = select(*LIST_COLUMNS, key.label("sort_key")).where(*where)
    if cursor:
        after = _decode_cursor(cursor, sort, spec)
        position = tuple_(key, Customer.id)
        query = query.where(position < tuple_(*after) if descending else position > tuple_(*after))
    order = (key.desc(), Customer.id.desc()) if descending else (key.asc(), Customer.id.asc())
    rows = session.execute(query.order_by(*order).limit(limit + 1)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _encode_cursor(sort, rows[-1].sort_key, rows[-1].id)
    return Page(rows, total, next_cursor, limit, sort)
