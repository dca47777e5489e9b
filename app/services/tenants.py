"""Creating, configuring, suspending and deleting tenants (resellers and sub-resellers).

Provisioning happens in one transaction: the registry row, `CREATE SCHEMA`, every tenant migration,
the default settings and the domains. PostgreSQL's DDL is transactional, so any failure on the way
leaves neither a schema nor a registry row behind.
"""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.models import Domain
from app.models import Tenant as TenantRow
from app.models.base import utcnow
from app.services import audit
from app.services.errors import Conflict, Invalid, NotFound
from app.services.settings import seed_defaults
from migrations.baseline import create_at_head
from tenants import InvalidTenantCode, Tenant, schema_for_code, tenant_context, validate_code
from tenants.hosts import normalise_host
from tenants.schema import quote_schema, subdomain_for_code

STATUSES = ("Active", "Suspended", "Inactive")


def ref(row: TenantRow) -> Tenant:
    return Tenant(id=row.id, code=row.code, name=row.name, schema=row.schema_name, status=row.status,
                  parent_id=row.parent_id)


def get(session: Session, code: str) -> TenantRow:
    row = session.execute(select(TenantRow).where(TenantRow.code == code)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no tenant with code {code!r}")
    return row


def list_all(session: Session) -> list[TenantRow]:
    return list(session.execute(select(TenantRow).order_by(TenantRow.id)).scalars())


def clean_host(host: str) -> str:
    cleaned = normalise_host(host)
    if cleaned is None or cleaned.startswith("[") or cleaned.replace(".", "").isdigit() or "." not in cleaned:
        raise Invalid(f"{host!r} is not a valid host name")
    return cleaned


def provision(
    session: Session,
    *,
    code: str,
    name: str,
    base_domain: str,
    parent_code: str | None = None,
    hosts: tuple[str, ...] | list[str] = (),
    customer_limit: int | None = None,
    settings: dict | None = None,
    actor: str = "system",
) -> Tenant:
    try:
        schema = schema_for_code(code)
    except InvalidTenantCode as exc:
        raise Invalid(str(exc)) from None
    if not name or not name.strip():
        raise Invalid("a tenant needs a name")
    if customer_limit is not None and customer_limit < 0:
        raise Invalid("customer_limit cannot be negative")
    if session.execute(select(TenantRow.id).where(TenantRow.code == code)).first():
        raise Conflict(f"a tenant with code {code} already exists")
    parent = get(session, validate_code(parent_code)) if parent_code else None
    platform_host = f"{subdomain_for_code(code)}.{base_domain}"
    custom_hosts = [clean_host(h) for h in hosts]
    taken = session.execute(
        select(Domain.host).where(Domain.host.in_([platform_host, *custom_hosts]))
    ).scalars().all()
    if taken:
        raise Conflict(f"host name already in use: {', '.join(sorted(taken))}")

    row = TenantRow(code=code, name=name.strip(), parent_id=parent.id if parent else None,
                    schema_name=schema, status="Active", customer_limit=customer_limit, settings={})
    session.add(row)
    session.flush()
    session.execute(text(f"CREATE SCHEMA {quote_schema(schema)}"))
    tenant = ref(row)
    create_at_head(session.connection(), tenant)
    with tenant_context(tenant):
        seed_defaults(session, code, row.name, settings)

    now = utcnow()
    session.add(Domain(host=platform_host, tenant_id=row.id, kind="platform", is_primary=not custom_hosts,
                       verified_at=now))
    for i, host in enumerate(custom_hosts):
        # Hosts given by the platform operator are trusted; resellers' own domains go through
        # DNS verification before they get a verified_at.
        session.add(Domain(host=host, tenant_id=row.id, kind="custom", is_primary=i == 0, verified_at=now))
    audit.record(session, actor, "tenant.create", row.id, code=code, parent=parent_code,
                 hosts=[platform_host, *custom_hosts])
    session.flush()
    return tenant


def set_status(session: Session, code: str, status: str, *, reason: str | None = None,
               actor: str = "system") -> TenantRow:
    if status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}")
    row = get(session, code)
    before = row.status
    row.status = status
    row.status_reason = reason
    audit.record(session, actor, "tenant.status", row.id, before=before, after=status, reason=reason)
    session.flush()
    return row


def add_domain(session: Session, code: str, host: str, *, primary: bool = False, verified: bool = True,
               reserved=None, actor: str = "system") -> Domain:
    """app/services/domains.py by tenant code, for the CLI and provisioning.

    Unverified hosts get their DNS verification token there, so a reseller can prove them later. Pass
    `reserved` (a domains.Reserved) whenever the host comes from a reseller rather than the operator.
    """
    from app.services import domains  # it imports clean_host from here

    row = get(session, code)
    return domains.add(session, row.id, host, reserved=reserved, verified=verified, primary=primary, actor=actor)


def delete(session: Session, code: str, *, actor: str = "system") -> None:
    """Drop the tenant's schema and registry rows; refused while it has sub-resellers."""
    row = get(session, code)
    children = session.execute(select(TenantRow.code).where(TenantRow.parent_id == row.id)).scalars().all()
    if children:
        raise Conflict(f"{code} has sub-resellers ({', '.join(children)}); delete or move them first")
    from app.services.reseller_accounts import accounts as reseller_accounts

    reseller_accounts.check_deletable(session, row.id, code)
    session.execute(text(f"DROP SCHEMA IF EXISTS {quote_schema(row.schema_name)} CASCADE"))
    audit.record(session, actor, "tenant.delete", row.id, code=code, schema=row.schema_name)
    session.delete(row)  # domains and Portal IDs go with it (ON DELETE CASCADE)
    session.flush()
