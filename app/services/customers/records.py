"""A customer's record: looking one up, creating one within the reseller's customer limit, changing the
profile. The status is not changed here (`status`), nor is a customer removed (`deletion`).

Creation is step 1 of onboarding ("Customer Creation Process" in 001): a platform-unique Portal ID and the
validated details of `validation`. Where the reseller requires approval (setting
`customers.require_approval`) a new customer starts Pending; the status a customer starts in is the first
row of their status history.
"""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models import Customer
from app.models import Tenant as TenantRow
from app.models.customers import CustomerStatusChange
from app.models.tenant import CUSTOMER_STATUSES
from app.services import activity
from app.services.auth.principal import Principal
from app.services.customers.validation import PROFILE_FIELDS, clean_profile
from app.services.errors import Conflict, Invalid, NotFound
from app.services.portal_ids import next_portal_id
from app.services.reseller_accounts import credit
from app.services.settings import get_setting
from tenants import require_tenant

STATUSES = CUSTOMER_STATUSES
ID_MAX = 2**63 - 1  # ids are bigint: a larger number names nothing (and must not reach PostgreSQL)


class CustomerLimitReached(Conflict):
    slug = "customer-limit-reached"
    title = "Customer limit reached"


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


def actor_fields(actor: Principal | None) -> dict:
    """The actor columns of a status history row (an impersonation session shows as its impersonator)."""
    if actor is None:
        return {"actor": "system", "actor_kind": "system", "actor_id": None}
    return {"actor": actor.actor, "actor_kind": activity.actor_kind(actor), "actor_id": actor.id}


def create(session: Session, *, actor: Principal | None = None, status: str | None = None,
           onboarding: dict | None = None, **profile) -> Customer:
    """Step 1 of onboarding. `status` is for imports and the demo; otherwise a customer starts New, or
    Pending where the reseller requires approval. `onboarding` keeps what later steps should do."""
    profile.setdefault("kind", "person")
    cleaned = clean_profile(profile)
    over_limit = credit.check_new_customer(session, require_tenant().id)  # refused at the credit limit, or True
    if status is None:
        require_approval = bool((get_setting(session, "customers") or {}).get("require_approval"))
        status, reason = ("Pending", "awaiting approval") if require_approval else \
            ("Pending", "awaiting approval: credit limit with the provider reached") if over_limit else \
            ("New", "created")
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
                                     **actor_fields(actor)))
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


def by_ids(session: Session, ids) -> dict[int, Customer]:
    """The customers of `ids` that still exist, by id, in one query (a list naming the customer of each row)."""
    wanted = {i for i in ids if valid_id(i)}
    if not wanted:
        return {}
    return {c.id: c for c in session.execute(select(Customer).where(Customer.id.in_(wanted))).scalars()}


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
