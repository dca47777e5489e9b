"""Sub-resellers: creating and configuring them, the tree of tenants, and consolidated read-only views.

The tree is `public.tenants.parent_id`. A reseller (or the master ISP on its behalf) creates a
sub-reseller under itself or under one of its descendants; the child is a tenant like any other (its
own schema, its own team), with terms that can never exceed its parent's:

- `allowed_services`: the service kinds it may sell (NULL: every kind), always a subset of its parent's.
  Given none, a sub-reseller gets a copy of its parent's list, so the catalogue, which checks a
  tenant's own list when plans are authorised and sold, needs no knowledge of the tree. Narrowing a
  tenant's list narrows every descendant's to match in the same transaction; `effective_services`
  (the intersection up the tree) is the check that holds even against rows edited by hand.
- `commission_percent`: 0–100 with two decimals, never more than the parent's own where the parent
  has one (the child's commission is passed through out of the parent's).
- `customer_limit`, the rule: a parent with a limit hands out room from it. Its own customers plus the
  limits of its direct sub-resellers (each of which covers that sub-reseller's whole subtree) may not
  exceed its limit. So under a limited parent a sub-reseller must have a limit, and at most the
  parent's remaining room: `limit - own customers - sum of its children's limits`. Under a parent
  without a limit anything goes, including no limit. (The customers service checks each tenant's own
  count against its own limit when a customer is created; the room is checked here, when limits are
  handed out or changed.)

Provisioning runs the tenant migrations on its session's connection and leaves that transaction's
`search_path` on the new schema, so it never runs on a request's session: every write here opens its
own session from the `Database` it is given, commits, and hands back plain values.

Consolidated views (a descendant's customers, key figures) never join across schemas: for each
tenant they enter its `tenant_context` and open a fresh session, so the per-transaction `search_path`
points at that tenant's schema and nothing else. The cost is one short transaction (and pooled
connection checkout) per tenant read: the figures of a subtree of N tenants take N round trips of
three aggregate queries each, sequentially. That is fine for the hundreds of resellers a console
shows; beyond that, a figures table refreshed by the worker is the next step.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, selectinload

from app.db import Database
from app.models import Customer
from app.models import Tenant as TenantRow
from app.models.catalogue import PLAN_KINDS
from app.models.provisioning import Service
from app.services import audit
from app.services import tenants as tenant_svc
from app.services.errors import Conflict, Invalid, NotFound
from tenants import Tenant, tenant_context
from tenants.session import search_path_sql

SERVICE_KINDS = PLAN_KINDS  # the vocabulary of plans' and services' `kind`
BILLED_STATUSES = ("Active", "Limited")  # the services a customer pays for this month
MONTHS = {"monthly": Decimal(1), "quarterly": Decimal(3), "yearly": Decimal(12)}
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
MAX_DEPTH = 32  # guards the recursive queries against a cycle someone wrote by hand

_SUBTREE = text("""
    WITH RECURSIVE tree AS (
        SELECT id, 0 AS depth, ARRAY[id] AS path FROM public.tenants WHERE id = :root
        UNION ALL
        SELECT t.id, tree.depth + 1, tree.path || t.id
        FROM public.tenants t JOIN tree ON t.parent_id = tree.id
        WHERE t.id <> ALL (tree.path) AND tree.depth < :max_depth
    )
    SELECT id, depth FROM tree ORDER BY path
""")
_ANCESTRY = text("""
    WITH RECURSIVE up AS (
        SELECT id, parent_id, 0 AS hops FROM public.tenants WHERE id = :id
        UNION ALL
        SELECT t.id, t.parent_id, up.hops + 1
        FROM public.tenants t JOIN up ON t.id = up.parent_id
        WHERE up.hops < :max_depth
    )
    SELECT id FROM up ORDER BY hops
""")


# -- the tree ------------------------------------------------------------------------------------------
def ancestry(session: Session, tenant_id: int) -> list[int]:
    """`tenant_id` and its ancestors, nearest first (empty when there is no such tenant)."""
    return list(session.execute(_ANCESTRY, {"id": tenant_id, "max_depth": MAX_DEPTH}).scalars())


def level(session: Session, tenant_id: int) -> int:
    """How deep a tenant sits: 0 for a reseller of the master ISP, 1 for its sub-resellers, and so on
    (the `level` of "Sub-Reseller Creation")."""
    return max(len(ancestry(session, tenant_id)) - 1, 0)


def is_descendant(session: Session, ancestor_id: int, tenant_id: int) -> bool:
    """Whether `tenant_id` is strictly below `ancestor_id` (a tenant is not its own descendant)."""
    return ancestor_id in ancestry(session, tenant_id)[1:]


def subtree(session: Session, root_id: int) -> list[tuple[TenantRow, int]]:
    """The tenant and everything below it, depth-first, each with its depth below `root_id` (root: 0)."""
    depths = dict(session.execute(_SUBTREE, {"root": root_id, "max_depth": MAX_DEPTH}).all())
    if not depths:
        return []
    rows = {r.id: r for r in session.execute(select(TenantRow).where(TenantRow.id.in_(depths))).scalars()}
    return [(rows[i], d) for i, d in depths.items() if i in rows]  # dict keeps the CTE's order


def descendants(session: Session, root_id: int) -> list[tuple[TenantRow, int]]:
    return subtree(session, root_id)[1:]


@dataclass(frozen=True)
class Placed:
    row: TenantRow
    level: int
    parent_code: str | None


def tree(session: Session) -> list[Placed]:
    """Every tenant, in the order it was created, with its level and its parent's code, read in one query
    (the console lists them all; `level` per tenant would be a query each)."""
    rows = session.execute(select(TenantRow).options(selectinload(TenantRow.domains))
                           .order_by(TenantRow.id)).scalars().all()
    by_id = {r.id: r for r in rows}

    def depth(row: TenantRow) -> int:
        found, seen = 0, {row.id}
        while row.parent_id is not None and row.parent_id in by_id and row.parent_id not in seen:
            row = by_id[row.parent_id]
            seen.add(row.id)
            found += 1
        return found

    return [Placed(r, depth(r), by_id[r.parent_id].code if r.parent_id in by_id else None) for r in rows]


def matching(placed: list[Placed], q: str | None = None, status: str | None = None) -> list[Placed]:
    """The tenants of `tree` whose code or name holds `q` (any case) and that have `status`: the console's
    search, the same on every page that lists resellers."""
    wanted = (q or "").strip().lower()
    return [p for p in placed if (not wanted or wanted in p.row.code.lower() or wanted in p.row.name.lower())
            and (not status or p.row.status == status)]


def descendant_by_code(session: Session, ancestor_id: int, code: str) -> TenantRow:
    """A descendant of `ancestor_id` by code. Anything else, existing or not, is the same NotFound, so
    that a reseller cannot learn of its parent's or a sibling's sub-resellers by probing codes."""
    row = session.execute(select(TenantRow).where(TenantRow.code == code)).scalar_one_or_none()
    if row is None or not is_descendant(session, ancestor_id, row.id):
        raise NotFound(f"no sub-reseller with code {code!r}")
    return row


def effective_services(session: Session, tenant_id: int) -> list[str] | None:
    """The service kinds a tenant may really sell: its own list intersected with every ancestor's
    (None: no restriction anywhere up the tree)."""
    ids = ancestry(session, tenant_id)
    lists = session.execute(
        select(TenantRow.allowed_services).where(TenantRow.id.in_(ids), TenantRow.allowed_services.is_not(None))
    ).scalars().all()
    if not lists:
        return None
    allowed = set(SERVICE_KINDS)
    for kinds in lists:
        allowed &= set(kinds)
    return sorted(allowed)


# -- validation ----------------------------------------------------------------------------------------
def _kinds(value: Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    kinds = []
    for kind in value:
        kind = str(kind).strip().lower()
        if kind not in SERVICE_KINDS:
            raise Invalid(f"unknown service kind {kind!r}; the kinds are {', '.join(SERVICE_KINDS)}",
                          field="allowed_services")
        if kind not in kinds:
            kinds.append(kind)
    return sorted(kinds)


def _within_parent_services(session: Session, parent: TenantRow | None, kinds: list[str] | None) -> None:
    if parent is None:
        return
    allowed = effective_services(session, parent.id)
    if allowed is None:
        return
    if kinds is None:
        raise Invalid(f"{parent.code} may sell {', '.join(allowed) or 'nothing'} only: a sub-reseller cannot be "
                      "allowed every kind", field="allowed_services")
    if not set(kinds) <= set(allowed):
        beyond = sorted(set(kinds) - set(allowed))
        raise Invalid(f"{parent.code} may not sell {', '.join(beyond)}; a sub-reseller's services are a subset "
                      f"of its parent's ({', '.join(allowed) or 'none'})", field="allowed_services")


def _narrow_descendants(session: Session, root: TenantRow, kinds: list[str] | None) -> list[str]:
    """Clip every descendant's list to `kinds` (the root's new list); returns the codes that changed."""
    if kinds is None:
        return []
    changed = []
    for row, _depth in descendants(session, root.id):
        own = set(row.allowed_services) if row.allowed_services is not None else set(SERVICE_KINDS)
        clipped = sorted(own & set(kinds))
        if row.allowed_services is None or clipped != sorted(row.allowed_services):
            row.allowed_services = clipped
            changed.append(row.code)
    return changed


def _percent(value) -> Decimal | None:
    if value is None:
        return None
    try:
        percent = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise Invalid("commission_percent must be a number", field="commission_percent") from None
    if not percent.is_finite() or percent < 0 or percent > HUNDRED:
        raise Invalid("commission_percent must be between 0 and 100", field="commission_percent")
    if percent != percent.quantize(CENT, rounding=ROUND_HALF_UP):
        raise Invalid("commission_percent has at most two decimals", field="commission_percent")
    return percent.quantize(CENT)


def _within_parent_commission(parent: TenantRow | None, percent: Decimal | None) -> None:
    if parent is not None and percent is not None and parent.commission_percent is not None \
            and percent > parent.commission_percent:
        raise Invalid(f"commission_percent {percent} is more than {parent.code}'s own "
                      f"{parent.commission_percent}", field="commission_percent")


def own_customers(db: Database, tenant: Tenant) -> int:
    """How many customers a tenant has, read in its own schema."""
    with tenant_context(tenant), db.session() as s:
        return s.execute(select(func.count()).select_from(Customer)).scalar_one()


def _children_limits(session: Session, parent_id: int, *, excluding: int | None = None) -> tuple[int, list[str]]:
    """The sum of the direct children's limits, and the codes of children without one."""
    query = select(TenantRow.code, TenantRow.customer_limit).where(TenantRow.parent_id == parent_id)
    if excluding is not None:
        query = query.where(TenantRow.id != excluding)
    rows = session.execute(query).all()
    return sum(r.customer_limit or 0 for r in rows), [r.code for r in rows if r.customer_limit is None]


def room(db: Database, session: Session, parent: TenantRow, *, excluding: int | None = None) -> int | None:
    """How many customers `parent` can still hand to a sub-reseller (None: no limit)."""
    if parent.customer_limit is None:
        return None
    handed, _ = _children_limits(session, parent.id, excluding=excluding)
    return parent.customer_limit - own_customers(db, tenant_svc.ref(parent)) - handed


def _within_parent_limit(db: Database, session: Session, parent: TenantRow | None, limit: int | None, *,
                         excluding: int | None = None) -> None:
    if limit is not None and limit < 0:
        raise Invalid("customer_limit cannot be negative", field="customer_limit")
    if parent is None or parent.customer_limit is None:
        return
    if limit is None:
        raise Invalid(f"{parent.code} has a customer limit, so its sub-resellers need one too",
                      field="customer_limit")
    left = room(db, session, parent, excluding=excluding)
    if limit > left:
        raise Invalid(f"customer_limit {limit} is more than {parent.code}'s remaining room of {max(left, 0)} "
                      "(its limit, less its own customers and its other sub-resellers' limits)",
                      field="customer_limit")


def _level(session: Session, parent: TenantRow | None, given: int | None) -> int:
    expected = 0 if parent is None else level(session, parent.id) + 1
    if expected > MAX_DEPTH:
        raise Invalid(f"the tree of resellers is at most {MAX_DEPTH} levels deep", field="parent_reseller_id")
    if given is not None and given != expected:
        raise Invalid(f"level {given} does not match the tree: a tenant under "
                      f"{parent.code if parent else 'the master ISP'} is at level {expected}", field="level")
    return expected


# -- creating ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AdminSpec:
    username: str
    email: str
    password: str | None = None


@dataclass(frozen=True)
class Created:
    tenant: Tenant
    level: int
    admin_id: int | None = None
    admin_username: str | None = None
    generated_password: str | None = None  # shown once, to whoever created the tenant
    authorised_plans: list[int] = field(default_factory=list)


def create(
    db: Database,
    *,
    code: str,
    name: str,
    base_domain: str,
    parent_id: int | None = None,
    within: int | None = None,
    level_: int | None = None,
    commission_percent=None,
    inherited_branding: bool = True,
    customer_limit: int | None = None,
    allowed_services: Iterable[str] | None = None,
    hosts: Iterable[str] = (),
    hosts_verified: bool = True,
    admin: AdminSpec | None = None,
    actor: str = "system",
) -> Created:
    """Create a reseller (top level: `parent_id` None) or a sub-reseller, in one transaction of its own.

    `within` is the caller's tenant when a reseller creates a sub-reseller: the parent must be it or one
    of its descendants; the master ISP passes None and may place the tenant anywhere. On any failure
    nothing is left behind (no registry row, schema, user or authorisation).

    `hosts_verified`: host names from the master ISP are trusted at once (as with the CLI); a reseller's
    are added unverified (they lead nowhere until DNS verification), so no reseller can claim a domain
    that is not its own. The platform sub-domain always works.
    """
    kinds = _kinds(allowed_services)
    percent = _percent(commission_percent)
    inherit_services = allowed_services is None
    with tenant_context(None), db.session() as s:
        parent = None
        if parent_id is not None:
            # Locked: two sub-resellers created at once under one parent must not both take its last room.
            parent = s.get(TenantRow, parent_id, with_for_update=True)
        if parent_id is not None and (
            parent is None or (within is not None and parent.id != within and not is_descendant(s, within, parent.id))
        ):
            raise Invalid("parent_reseller_id must be your own reseller or one of your sub-resellers"
                          if within is not None else f"no tenant with id {parent_id}", field="parent_reseller_id")
        if within is not None and parent_id is None:
            raise Invalid("a sub-reseller needs a parent", field="parent_reseller_id")
        if parent is not None and parent.status != "Active":
            raise Conflict(f"{parent.code} is {parent.status.lower()}: no sub-resellers can be created under it")
        depth = _level(s, parent, level_)
        if inherit_services and parent is not None:
            kinds = effective_services(s, parent.id)
        _within_parent_services(s, parent, kinds)
        _within_parent_commission(parent, percent)
        _within_parent_limit(db, s, parent, customer_limit)

        hosts = tuple(hosts)
        tenant = tenant_svc.provision(s, code=code, name=name, base_domain=base_domain,
                                      parent_code=parent.code if parent else None,
                                      hosts=hosts if hosts_verified else (), customer_limit=customer_limit,
                                      actor=actor)
        if not hosts_verified:
            for host in hosts:
                tenant_svc.add_domain(s, tenant.code, host, verified=False, actor=actor)
        row = s.get(TenantRow, tenant.id)
        row.commission_percent = percent
        row.allowed_services = kinds
        row.inherited_branding = inherited_branding
        admin_id = admin_username = generated = None
        if admin is not None:
            admin_id, admin_username, generated = _first_admin(s, tenant, admin)
        plans = _copy_authorisations(s, parent, tenant, actor) if parent is not None else []
        audit.record(s, actor, "subreseller.create" if parent else "reseller.create", tenant.id, code=tenant.code,
                     parent=parent.code if parent else None, level=depth,
                     commission_percent=str(percent) if percent is not None else None,
                     customer_limit=customer_limit, allowed_services=kinds, inherited_branding=inherited_branding,
                     admin=admin_username, authorised_plans=plans)
        s.flush()
    return Created(tenant=tenant, level=depth, admin_id=admin_id, admin_username=admin_username,
                   generated_password=generated, authorised_plans=plans)


def _first_admin(session: Session, tenant: Tenant, admin: AdminSpec) -> tuple[int, str, str | None]:
    """The new tenant's first Admin, written in its schema within the provisioning transaction.

    The transaction's `search_path` is set for the child explicitly: it was set when the transaction
    began (for `public`), and only a `SET LOCAL` changes it mid-transaction. Returns the user's id,
    username, and the generated password when none was given (shown once).
    """
    from app.services.auth import users

    with tenant_context(tenant):
        session.execute(text(search_path_sql()))
        user, generated = users.create_user(session, username=admin.username, email=admin.email, role="Admin",
                                            password=admin.password)
        return user.id, user.username, generated


def _copy_authorisations(session: Session, parent: TenantRow, child: Tenant, actor: str) -> list[int]:
    """The parent's wholesale plans of the kinds the child may sell become the child's too (same regions)."""
    from app.services import catalogue

    allowed = effective_services(session, child.id)
    copied = []
    for plan in catalogue.authorised_plans(session, parent.id):
        if allowed is None or plan.kind in allowed:
            granted = catalogue.authorisation_of(session, plan.id, parent.id)
            catalogue.authorise(session, plan.id, child.id, regions=granted.regions if granted else None,
                                actor=actor)
            copied.append(plan.id)
    return copied


# -- configuring ---------------------------------------------------------------------------------------
def configure(db: Database, code: str, *, within: int | None = None, actor: str = "system", **changes) -> Tenant:
    """Change a tenant's name and terms, with the same rules as at creation, in a transaction of its own.

    `within`: a reseller configures only its descendants. Changes are also checked downwards: a
    commission below a sub-reseller's, or a limit below what the tenant already uses (its customers
    and its sub-resellers' limits), is refused rather than silently breaking the tree.
    """
    allowed_keys = {"name", "customer_limit", "commission_percent", "allowed_services", "inherited_branding"}
    unknown = set(changes) - allowed_keys
    if unknown:
        raise Invalid(f"cannot change {', '.join(sorted(unknown))}")
    with tenant_context(None), db.session() as s:
        found = s.execute(select(TenantRow.id, TenantRow.parent_id).where(TenantRow.code == code)).first()
        if found is None or (within is not None and not is_descendant(s, within, found.id)):
            raise NotFound(f"no {'sub-reseller' if within is not None else 'tenant'} with code {code!r}")
        # Locked in id order, which is top-down (a tenant is always created after its parent), as are the
        # descendants narrowed below: two changes in one subtree at once wait for each other, never deadlock.
        locked = {r.id: r for r in s.execute(
            select(TenantRow).where(TenantRow.id.in_([i for i in found if i is not None]))
            .order_by(TenantRow.id).with_for_update()).scalars()}
        row, parent = locked[found.id], locked.get(found.parent_id)
        before = {k: _plain(getattr(row, k)) for k in changes}

        if "name" in changes:
            name = (changes["name"] or "").strip()
            if not name or len(name) > 200:
                raise Invalid("a tenant needs a name of at most 200 characters", field="name")
            row.name = name
        if "allowed_services" in changes:
            kinds = _kinds(changes["allowed_services"])
            _within_parent_services(s, parent, kinds)
            row.allowed_services = kinds
            narrowed = _narrow_descendants(s, row, kinds)
            if narrowed:
                audit.record(s, actor, "tenant.services_narrowed", row.id, descendants=narrowed, kinds=kinds)
        if "commission_percent" in changes:
            percent = _percent(changes["commission_percent"])
            _within_parent_commission(parent, percent)
            if percent is not None:
                above = s.execute(select(TenantRow.code).where(TenantRow.parent_id == row.id,
                                                               TenantRow.commission_percent > percent)).scalars().all()
                if above:
                    raise Conflict(f"sub-resellers {', '.join(above)} have a higher commission than {percent}; "
                                   "lower theirs first")
            row.commission_percent = percent
        if "customer_limit" in changes:
            limit = changes["customer_limit"]
            _within_parent_limit(db, s, parent, limit, excluding=row.id)
            if limit is not None:
                handed, unlimited = _children_limits(s, row.id)
                if unlimited:
                    raise Conflict(f"sub-resellers {', '.join(unlimited)} have no customer limit; give them one "
                                   "before limiting their parent")
                used = handed + own_customers(db, tenant_svc.ref(row))
                if limit < used:
                    raise Conflict(f"{row.code} already uses {used} (its customers and its sub-resellers' limits)",
                                   used=used)
            row.customer_limit = limit
        if "inherited_branding" in changes:
            row.inherited_branding = bool(changes["inherited_branding"])
        after = {k: _plain(getattr(row, k)) for k in changes}
        audit.record(s, actor, "tenant.configure", row.id, before=before, after=after)
        s.flush()
        return tenant_svc.ref(row)


def _plain(value):
    return str(value) if isinstance(value, Decimal) else value


def set_status(db: Database, code: str, status: str, *, reason: str | None, actor: str) -> Tenant:
    """Suspend or reactivate a tenant in a transaction of its own (audited by the tenants service).

    A sub-reseller keeps its own status: while a reseller above it is suspended its portals, API and
    RADIUS sign-ins follow the suspended one (tenants/registry.py `blocking`), and when that one is
    reactivated it is back as it was, without a second decision about each of its sub-resellers.
    """
    with tenant_context(None), db.session() as s:
        row = tenant_svc.get(s, code)
        if status == row.status:
            raise Conflict(f"{code} is already {status.lower()}")
        return tenant_svc.ref(tenant_svc.set_status(s, code, status, reason=reason, actor=actor))


# -- figures and consolidated views ---------------------------------------------------------------------
@dataclass(frozen=True)
class Figures:
    customers: int = 0
    active_customers: int = 0
    active_services: int = 0
    mrr: dict[str, Decimal] = field(default_factory=dict)  # currency -> monthly recurring revenue

    def __add__(self, other: Figures) -> Figures:
        mrr = dict(self.mrr)
        for currency, amount in other.mrr.items():
            mrr[currency] = mrr.get(currency, Decimal(0)) + amount
        return Figures(self.customers + other.customers, self.active_customers + other.active_customers,
                       self.active_services + other.active_services, mrr)


def monthly(amounts: Iterable[tuple[str, str, Decimal]]) -> dict[str, Decimal]:
    """(currency, billing period, sum of prices) → MRR per currency: quarterly / 3, yearly / 12, summed at
    full precision and rounded half-up to cents only at the end (so 3 × 10.00 quarterly is 10.00, not 9.99)."""
    totals: dict[str, Decimal] = {}
    for currency, period, amount in amounts:
        if amount is None:
            continue
        totals[currency] = totals.get(currency, Decimal(0)) + Decimal(amount) / MONTHS[period]
    return {c: v.quantize(CENT, rounding=ROUND_HALF_UP) for c, v in sorted(totals.items())}


def figures(db: Database, tenant: Tenant) -> Figures:
    """Customers (all, Active), Active services and MRR of one tenant, read in its own schema.

    MRR counts services in Active or Limited status (both are billed), each price normalised to a month.
    `active_services` counts those in Active status.
    """
    with tenant_context(tenant), db.session() as s:
        customers, active = s.execute(
            select(func.count(), func.count().filter(Customer.status == "Active")).select_from(Customer)
        ).one()
        services = s.execute(
            select(func.count()).select_from(Service).where(Service.status == "Active")
        ).scalar_one()
        amounts = s.execute(
            select(Service.currency, Service.billing_period, func.sum(Service.price))
            .where(Service.status.in_(BILLED_STATUSES), Service.price.is_not(None))
            .group_by(Service.currency, Service.billing_period)
        ).all()
    return Figures(customers, active, services, monthly(amounts))


def consolidated(db: Database, tenants: Iterable[Tenant]) -> Figures:
    """The sum of several tenants' figures (each MRR is already rounded to cents, so the sum is exact)."""
    total = Figures()
    for tenant in tenants:
        total = total + figures(db, tenant)
    return total


@dataclass(frozen=True)
class CustomerRow:
    id: int
    portal_id: str
    name: str
    kind: str
    email: str | None
    status: str
    created_at: datetime


def customers(db: Database, tenant: Tenant, *, offset: int = 0, limit: int = 50,
              status: str | None = None) -> tuple[int, list[CustomerRow]]:
    """A page of a tenant's customers, read-only, from its own schema; returns (total, rows)."""
    with tenant_context(tenant), db.session() as s:
        query = select(Customer)
        count = select(func.count()).select_from(Customer)
        if status:
            query, count = query.where(Customer.status == status), count.where(Customer.status == status)
        total = s.execute(count).scalar_one()
        rows = s.execute(query.order_by(Customer.id).offset(offset).limit(limit)).scalars().all()
        return total, [CustomerRow(c.id, c.portal_id, c.display_name, c.kind, c.email, c.status, c.created_at)
                       for c in rows]


def customer(db: Database, tenant: Tenant, customer_id: int) -> CustomerRow | None:
    with tenant_context(tenant), db.session() as s:
        c = s.get(Customer, customer_id)
        if c is None:
            return None
        return CustomerRow(c.id, c.portal_id, c.display_name, c.kind, c.email, c.status, c.created_at)


