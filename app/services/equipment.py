"""Customer premises equipment (CPE): the models a reseller stocks and every device's life.

    in_stock ──assign──▶ assigned ──recovered──▶ recovered ──in_stock──▶ in_stock
        ▲                   │ unassign (a mistake undone)      ▲ assign (re-issued as is)
        └───────────────────┘                                  │
    faulty ◀── from in_stock, assigned or recovered;  faulty ──in_stock──▶ (repaired)

A device goes to `recovered` when its service is terminated (`recover_for_service`): the service is gone,
so the device is the reseller's to collect; someone inspects it and puts it back in stock or marks it
faulty. `customer_id` is kept after recovery, so one can see whose device it was.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models.base import utcnow
from app.models.provisioning import EquipmentItem, EquipmentModel, Service
from app.services.errors import Conflict, Invalid, NotFound
from app.services.ids import valid_id

TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "assign": (frozenset({"in_stock", "recovered"}), "assigned"),
    "unassign": (frozenset({"assigned"}), "in_stock"),
    "recovered": (frozenset({"assigned"}), "recovered"),
    "faulty": (frozenset({"in_stock", "assigned", "recovered"}), "faulty"),
    "in_stock": (frozenset({"recovered", "faulty"}), "in_stock"),
}
_MAC = re.compile(r"^[0-9a-f]{2}([:-]?)[0-9a-f]{2}(\1[0-9a-f]{2}){4}$")


def normalise_mac(mac: str | None) -> str | None:
    if not mac:
        return None
    value = mac.strip().lower()
    if not _MAC.match(value):
        raise Invalid(f"{mac!r} is not a MAC address", field="mac")
    digits = re.sub("[^0-9a-f]", "", value)
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2))


def create_model(session: Session, *, vendor: str, name: str, device_type: str | None = None,
                 description: str | None = None) -> EquipmentModel:
    if session.execute(select(EquipmentModel.id).where(EquipmentModel.vendor == vendor,
                                                       EquipmentModel.name == name)).first():
        raise Conflict(f"the model {vendor} {name} exists already")
    model = EquipmentModel(vendor=vendor, name=name, device_type=device_type, description=description)
    session.add(model)
    session.flush()
    return model


def list_models(session: Session) -> list[EquipmentModel]:
    return list(session.execute(select(EquipmentModel).order_by(EquipmentModel.vendor, EquipmentModel.name)).scalars())


def create_item(session: Session, *, model_id: int, serial: str, mac: str | None = None,
                notes: str | None = None) -> EquipmentItem:
    if not valid_id(model_id) or session.get(EquipmentModel, model_id) is None:
        raise NotFound("no such equipment model", field="model_id")
    serial = (serial or "").strip()
    if not serial:
        raise Invalid("a serial number is needed", field="serial")
    mac = normalise_mac(mac)
    if session.execute(select(EquipmentItem.id).where(EquipmentItem.serial == serial)).first():
        raise Conflict(f"a device with serial {serial} exists already", field="serial")
    if mac and session.execute(select(EquipmentItem.id).where(EquipmentItem.mac == mac)).first():
        raise Conflict(f"a device with MAC {mac} exists already", field="mac")
    item = EquipmentItem(model_id=model_id, serial=serial, mac=mac, notes=notes, status="in_stock")
    try:
        with session.begin_nested():
            session.add(item)
            session.flush()
    except IntegrityError:
        raise Conflict("a device with this serial or MAC exists already") from None
    return item


def get_item(session: Session, item_id: int, *, lock: bool = False) -> EquipmentItem:
    if not valid_id(item_id):
        raise NotFound("no such device")
    query = select(EquipmentItem).where(EquipmentItem.id == item_id)
    item = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if item is None:
        raise NotFound("no such device")
    return item


def list_items(session: Session, *, status: str | None = None, customer_id: int | None = None,
               service_id: int | None = None) -> list[EquipmentItem]:
    query = select(EquipmentItem).order_by(EquipmentItem.id)
    if status:
        query = query.where(EquipmentItem.status == status)
    if customer_id is not None:
        query = query.where(EquipmentItem.customer_id == customer_id)
    if service_id is not None:
        query = query.where(EquipmentItem.service_id == service_id)
    return list(session.execute(query).scalars())


def visible(item: EquipmentItem, allowed_customer_ids: frozenset[int] | None) -> bool:
    """Stock is everyone's; a device at a customer's is seen by those who may see that customer (`None`: all)."""
    return item.customer_id is None or allowed_customer_ids is None or item.customer_id in allowed_customer_ids


def change(session: Session, item_id: int, action: str, *, service_id: int | None = None,
           notes: str | None = None, allowed_customer_ids: frozenset[int] | None = None) -> EquipmentItem:
    """Move a device along its life (`TRANSITIONS`); `assign` needs the service it goes to, of a customer in
    `allowed_customer_ids` (None: any), as a restricted team member may not reach the others' services."""
    if action not in TRANSITIONS:
        raise Invalid(f"action must be one of {', '.join(TRANSITIONS)}", field="action")
    item = get_item(session, item_id, lock=True)
    allowed, target = TRANSITIONS[action]
    if item.status not in allowed:
        raise Conflict(f"a device that is {item.status} cannot be {action.replace('_', ' ')}",
                       current_status=item.status, action=action)
    now = utcnow()
    if action == "assign":
        service = session.get(Service, service_id) if valid_id(service_id) else None
        if service is None or (allowed_customer_ids is not None and service.customer_id not in allowed_customer_ids):
            raise NotFound("no such service", field="service_id")
        if service.status == "Terminated":
            raise Conflict("this service is terminated", field="service_id")
        item.service_id, item.customer_id, item.assigned_at = service.id, service.customer_id, now
    elif action == "unassign":
        item.service_id, item.customer_id, item.assigned_at = None, None, None
    elif action == "recovered":
        item.service_id, item.recovered_at = None, now
    elif action == "faulty":
        item.service_id, item.faulty_at = None, now
    item.status = target
    if notes is not None:
        item.notes = notes
    session.flush()
    return item


def recover_for_service(session: Session, service: Service) -> list[EquipmentItem]:
    """Every device of a terminated service goes to `recovered`: to be collected from the customer."""
    items = list(session.execute(
        select(EquipmentItem).where(EquipmentItem.service_id == service.id, EquipmentItem.status == "assigned")
        .with_for_update()
    ).scalars())
    now = utcnow()
    for item in items:
        item.status, item.service_id, item.recovered_at = "recovered", None, now
    session.flush()
    return items
