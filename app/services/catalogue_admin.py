"""The master ISP's changes to the wholesale catalogue, each with its audit entry, so that the console's API
and its pages record the same: a plan created or changed, a reseller authorised to sell one (or no longer)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models.catalogue import Plan, PlanAuthorisation
from app.services import audit, catalogue


def create_plan(session: Session, *, actor: str, **fields) -> Plan:
    plan = catalogue.create_plan(session, **fields)
    audit.record(session, actor, "plan.created", plan_id=plan.id, code=plan.code)
    return plan


def update_plan(session: Session, plan_id: int, *, actor: str, **changes) -> Plan:
    plan = catalogue.update_plan(session, plan_id, **changes)
    audit.record(session, actor, "plan.updated", plan_id=plan.id, changes={k: str(v) for k, v in changes.items()})
    return plan


def authorise(session: Session, plan_id: int, tenant_id: int, regions: list[str] | None, *,
              actor: str) -> PlanAuthorisation:
    grant = catalogue.authorise(session, plan_id, tenant_id, regions, actor=actor)
    audit.record(session, actor, "plan.authorised", tenant_id=tenant_id, plan_id=plan_id, regions=grant.regions)
    return grant


def deauthorise(session: Session, plan_id: int, tenant_id: int, *, actor: str) -> None:
    catalogue.deauthorise(session, plan_id, tenant_id)
    audit.record(session, actor, "plan.deauthorised", tenant_id=tenant_id, plan_id=plan_id)
