"""The customer's services as the Services pages show them: plan and speed, price, status and why, static
IP, network username, equipment, the next renewal. Never the network password (`network_password`
reveals it on request) and nothing of the reseller's own (wholesale price, price rule, who did what).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.catalogue import Plan
from app.models.provisioning import EquipmentItem, EquipmentModel, Service
from app.services import pricing, service_requests, services
from app.services.errors import NotFound
from app.services.ids import valid_id

RENEWING = ("Active", "Limited", "Suspended")


def own_service(session: Session, customer_id: int, service_id: int, *, lock: bool = False) -> Service:
    """One of the customer's services; another customer's is not found, as if it did not exist."""
    service = services.get(session, service_id, lock=lock) if valid_id(service_id) else None
    if service is None or service.customer_id != customer_id:
        raise NotFound("no such service")
    return service


def plan_out(plan: Plan | None) -> dict | None:
    if plan is None:
        return None
    return {name: getattr(plan, name) for name in (
        "id", "code", "name", "kind", "description", "download_kbps", "upload_kbps", "data_allowance_mb",
        "voice_minutes", "billing_period")}


def equipment_of(session: Session, service_id: int) -> list[dict]:
    rows = session.execute(
        select(EquipmentItem, EquipmentModel).join(EquipmentModel, EquipmentModel.id == EquipmentItem.model_id)
        .where(EquipmentItem.service_id == service_id).order_by(EquipmentItem.id)).all()
    return [{"id": item.id, "serial": item.serial, "mac": str(item.mac) if item.mac else None,
             "vendor": model.vendor, "model": model.name, "device_type": model.device_type,
             "status": item.status, "assigned_at": item.assigned_at} for item, model in rows]


def service_out(session: Session, service: Service, *, detail: bool = True) -> dict:
    """What the customer sees of one service (`detail`: with equipment and renewal date too)."""
    out = {name: getattr(service, name) for name in (
        "id", "kind", "status", "status_reason", "price", "setup_fee", "currency", "billing_period",
        "activated_at", "suspended_at", "terminated_at", "vacation_from", "vacation_until",
        "installation_address", "region", "network_username", "created_at")}
    out.update(static_ip=str(service.static_ip) if service.static_ip else None,
               plan=plan_out(session.get(Plan, service.plan_id)), has_network_password=bool(
                   service.network_password_encrypted))
    if detail:
        out["equipment"] = equipment_of(session, service.id)
        out["next_renewal_on"] = (service_requests.next_cycle_start(session, service, pricing.today(session))
                                  if service.status in RENEWING and service.activated_at else None)
    return out


def list_services(session: Session, customer_id: int) -> list[dict]:
    """Every service of the customer, live ones and ended ones, oldest first."""
    return [service_out(session, s, detail=False) for s in services.list_for_customer(session, customer_id)]


def service_detail(session: Session, customer_id: int, service_id: int) -> dict:
    return service_out(session, own_service(session, customer_id, service_id))
