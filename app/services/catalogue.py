"""The master ISP's wholesale catalogue: plans, and which resellers may sell which plan where.

A plan is sellable by a tenant when all of these hold, and `sellable_plan` is the one place that checks
them (services refer to plans by id across schemas, with no foreign key to do it for us):
the plan is active, an authorisation row names the tenant (and, when it lists regions, the region), and
the plan's kind is within the tenant's `allowed_services` (NULL: every kind).
"""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.models import Tenant
from app.models.catalogue import BILLING_PERIODS, PLAN_KINDS, Plan, PlanAuthorisation
from app.services.errors import Conflict, Invalid, NotFound
from app.services.ids import valid_id
from app.services.money import money

SPEED_FIELDS = ("download_kbps", "upload_kbps", "burst_download_kbps", "burst_upload_kbps",
                "burst_threshold_download_kbps", "burst_threshold_upload_kbps", "burst_time_seconds",
                "limited_download_kbps", "limited_upload_kbps", "data_allowance_mb", "voice_minutes")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")  # as the table's check constraint says
EDITABLE = frozenset({"name", "description", "fup_policy", "components", "wholesale_price", "currency",
                      "billing_period", "setup_fee", "is_active", *SPEED_FIELDS})


# -- plans ------------------------------------------------------------------------------------------

def create_plan(session: Session, *, code: str, name: str, kind: str, wholesale_price, currency: str,
                billing_period: str = "monthly", setup_fee=Decimal("0"), **fields) -> Plan:
    if kind not in PLAN_KINDS:
        raise Invalid(f"kind must be one of {', '.join(PLAN_KINDS)}", field="kind")
    if not CODE.match(code or ""):
        raise Invalid("a plan code is 1–40 letters, digits, '_', '.' or '-', starting with a letter or digit",
                      field="code")
    if session.execute(select(Plan.id).where(Plan.code == code)).first():
        raise Conflict(f"a plan with the code {code} exists already", field="code")
    unknown = set(fields) - EDITABLE
    if unknown:
        raise Invalid(f"unknown plan field(s): {', '.join(sorted(unknown))}")
    plan = Plan(code=code, name=name, kind=kind, components=[])
    _apply(session, plan, {"wholesale_price": wholesale_price, "currency": currency, "billing_period": billing_period,
                           "setup_fee": setup_fee, **fields})
    session.add(plan)
    session.flush()
    return plan


def update_plan(session: Session, plan_id: int, **changes) -> Plan:
    """Change a plan. Services already sold keep the price they were sold at (their snapshot)."""
    plan = get_plan(session, plan_id)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise Invalid(f"these plan fields cannot be changed: {', '.join(sorted(unknown))}")
    _apply(session, plan, changes)
    session.flush()
    return plan


def _apply(session: Session, plan: Plan, values: dict) -> None:
    for key in ("wholesale_price", "setup_fee"):
        if key in values:
            value = money(values[key], key)
            if value < 0:
                raise Invalid(f"{key} cannot be negative", field=key)
            values[key] = value
    if "currency" in values:
        currency = (values["currency"] or "").upper()
        if len(currency) != 3 or not currency.isalpha():
            raise Invalid("currency is a three-letter ISO 4217 code", field="currency")
        values["currency"] = currency
    if "billing_period" in values and values["billing_period"] not in BILLING_PERIODS:
        raise Invalid(f"billing_period must be one of {', '.join(BILLING_PERIODS)}", field="billing_period")
    for key in SPEED_FIELDS:
        if values.get(key) is not None and values[key] < 0:
            raise Invalid(f"{key} cannot be negative", field=key)
    if "components" in values:
        values["components"] = _components(session, plan, values["components"] or [])
    for key, value in values.items():
        setattr(plan, key, value)


def _components(session: Session, plan: Plan, ids: list[int]) -> list[int]:
    """A bundle is made of other, existing plans that are not bundles themselves."""
    if plan.kind != "bundle":
        if ids:
            raise Invalid("only a bundle has components", field="components")
        return []
    found = dict(session.execute(select(Plan.id, Plan.kind).where(Plan.id.in_([i for i in ids if valid_id(i)]))).all())
    missing = [i for i in ids if i not in found]
    if missing:
        raise Invalid(f"no such plan(s): {', '.join(map(str, missing))}", field="components")
    if any(kind == "bundle" for kind in found.values()) or plan.id in found:
        raise Invalid("a bundle cannot contain a bundle", field="components")
    return list(dict.fromkeys(ids))


def get_plan(session: Session, plan_id: int) -> Plan:
    plan = session.get(Plan, plan_id) if valid_id(plan_id) else None
    if plan is None:
        raise NotFound("no such plan")
    return plan


def list_plans(session: Session, *, kind: str | None = None, active: bool | None = None) -> list[Plan]:
    query = select(Plan).order_by(Plan.kind, Plan.code)
    if kind:
        query = query.where(Plan.kind == kind)
    if active is not None:
        query = query.where(Plan.is_active.is_(active))
    return list(session.execute(query).scalars())


# -- authorisations ---------------------------------------------------------------------------------

def _tenant(session: Session, tenant_id: int) -> Tenant:
    tenant = session.get(Tenant, tenant_id) if valid_id(tenant_id) else None
    if tenant is None:
        raise NotFound("no such reseller")
    return tenant


def kind_allowed(tenant: Tenant, kind: str) -> bool:
    return tenant.allowed_services is None or kind in tenant.allowed_services


def authorise(session: Session, plan_id: int, tenant_id: int, regions: list[str] | None = None,
              actor: str | None = None) -> PlanAuthorisation:
    """Let `tenant_id` sell `plan_id` (in `regions`, None: everywhere); authorising again sets the regions.

    Refused for a kind outside the tenant's `allowed_services`, which would be an authorisation that
    could never be used.
    """
    plan = get_plan(session, plan_id)
    tenant = _tenant(session, tenant_id)
    if not kind_allowed(tenant, plan.kind):
        raise Conflict(f"{tenant.code} may not sell {plan.kind} services", field="plan_id")
    regions = sorted({r.strip() for r in regions if r and r.strip()}) if regions is not None else None
    if regions == []:
        raise Invalid("regions: give at least one, or none at all for everywhere", field="regions")
    session.execute(
        insert(PlanAuthorisation).values(plan_id=plan_id, tenant_id=tenant_id, regions=regions, created_by=actor)
        .on_conflict_do_update(index_elements=[PlanAuthorisation.plan_id, PlanAuthorisation.tenant_id],
                               set_={"regions": regions})
    )
    return session.execute(
        select(PlanAuthorisation).where(PlanAuthorisation.plan_id == plan_id,
                                        PlanAuthorisation.tenant_id == tenant_id)
        .execution_options(populate_existing=True)
    ).scalar_one()


def deauthorise(session: Session, plan_id: int, tenant_id: int) -> None:
    """Stop `tenant_id` selling `plan_id`; services already sold keep running."""
    if not (valid_id(plan_id) and valid_id(tenant_id)):
        raise NotFound("this reseller is not authorised for this plan")
    done = session.execute(delete(PlanAuthorisation).where(PlanAuthorisation.plan_id == plan_id,
                                                           PlanAuthorisation.tenant_id == tenant_id))
    if not done.rowcount:
        raise NotFound("this reseller is not authorised for this plan")


def authorisations(session: Session, plan_id: int) -> list[PlanAuthorisation]:
    get_plan(session, plan_id)
    return list(session.execute(
        select(PlanAuthorisation).where(PlanAuthorisation.plan_id == plan_id).order_by(PlanAuthorisation.tenant_id)
    ).scalars())


def authorised_plans(session: Session, tenant_id: int) -> list[Plan]:
    """The active plans `tenant_id` may sell, respecting its `allowed_services`."""
    tenant = _tenant(session, tenant_id)
    query = (select(Plan).join(PlanAuthorisation, PlanAuthorisation.plan_id == Plan.id)
             .where(PlanAuthorisation.tenant_id == tenant_id, Plan.is_active.is_(True))
             .order_by(Plan.kind, Plan.code))
    if tenant.allowed_services is not None:
        query = query.where(Plan.kind.in_(tenant.allowed_services))
    return list(session.execute(query).scalars())


def authorisation_of(session: Session, plan_id: int, tenant_id: int) -> PlanAuthorisation | None:
    return session.execute(
        select(PlanAuthorisation).where(PlanAuthorisation.plan_id == plan_id, PlanAuthorisation.tenant_id == tenant_id)
    ).scalar_one_or_none()


def sellable_plan(session: Session, plan_id: int, tenant_id: int, region: str | None = None,
                  check_region: bool = True) -> Plan:
    """The plan, if `tenant_id` may sell it (in `region`); NotFound otherwise, so that a reseller learns
    nothing about plans it is not authorised for."""
    plan = session.get(Plan, plan_id) if valid_id(plan_id) else None
    grant = authorisation_of(session, plan_id, tenant_id) if plan is not None else None
    if plan is None or grant is None or not plan.is_active:
        raise NotFound("no such plan in your catalogue", field="plan_id")
    if not kind_allowed(_tenant(session, tenant_id), plan.kind):
        raise NotFound("no such plan in your catalogue", field="plan_id")
    if check_region and grant.regions is not None and region not in grant.regions:
        where = f"in {region!r}" if region else "without a region"
        raise Invalid(f"plan {plan.code} is not sold {where}; it is sold in: {', '.join(grant.regions)}",
                      field="region")
    return plan
