"""Customer premises equipment: the models a reseller stocks and each device's life."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from app.api.equipment import schemas as s
from app.models.provisioning import EquipmentItem, Service
from app.services import equipment
from app.services.errors import NotFound
from app.web import db_session
from app.web.auth import requires

blp = Blueprint("equipment", __name__, url_prefix="/reseller/api", description="Equipment (CPE) inventory")
USER = ("user",)


def _visible(item: EquipmentItem) -> bool:
    return equipment.visible(item, g.principal.allowed_customer_ids)


@blp.route("/equipment-models")
@requires("services.view", kinds=USER)
@blp.response(200, s.EquipmentModelOut(many=True))
def list_models():
    """The equipment models this reseller stocks."""
    return equipment.list_models(db_session())


@blp.route("/equipment-models", methods=["POST"])
@requires("services.provision", kinds=USER)
@blp.arguments(s.EquipmentModelIn)
@blp.response(201, s.EquipmentModelOut)
def create_model(body):
    """A new equipment model (vendor and model name are unique together)."""
    return equipment.create_model(db_session(), **body)


@blp.route("/equipment")
@requires("services.view", kinds=USER)
@blp.arguments(s.EquipmentListArgs, location="query")
@blp.response(200, s.EquipmentOut(many=True))
def list_items(args):
    """Devices, by status, customer or service."""
    return [item for item in equipment.list_items(db_session(), **args) if _visible(item)]


@blp.route("/equipment", methods=["POST"])
@requires("services.provision", kinds=USER)
@blp.arguments(s.EquipmentIn)
@blp.response(201, s.EquipmentOut)
def create_item(body):
    """A device into stock (serial and MAC are unique)."""
    return equipment.create_item(db_session(), **body)


@blp.route("/equipment/<int:item_id>", methods=["PATCH"])
@requires("services.provision", kinds=USER)
@blp.arguments(s.EquipmentPatch)
@blp.response(200, s.EquipmentOut)
def change_item(body, item_id):
    """Assign to a service, unassign, mark recovered or faulty, or put back in stock."""
    session = db_session()
    item = equipment.get_item(session, item_id)
    if not _visible(item):
        raise NotFound("no such device")
    if body["service_id"] is not None:
        service = session.get(Service, body["service_id"])  # the schema bounds the id
        if service is None or not g.principal.may_see_customer(service.customer_id):
            raise NotFound("no such service", field="service_id")
    return equipment.change(session, item_id, body["action"], service_id=body["service_id"], notes=body["notes"],
                            allowed_customer_ids=g.principal.allowed_customer_ids)
