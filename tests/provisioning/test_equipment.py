"""Equipment: the device's life, and recovery when its service is terminated."""

from __future__ import annotations

import pytest

from app.services import equipment, services
from app.services.errors import Conflict, Invalid
from tenants import tenant_context

# action → the statuses it may start from, as the issue describes the life of a device
EXPECTED = {
    "assign": {"in_stock", "recovered"},
    "unassign": {"assigned"},
    "recovered": {"assigned"},
    "faulty": {"in_stock", "assigned", "recovered"},
    "in_stock": {"recovered", "faulty"},
}
REACH = {"in_stock": [], "assigned": ["assign"], "recovered": ["assign", "recovered"], "faulty": ["faulty"]}


@pytest.fixture
def stock(db, make_shop):
    shop = make_shop()
    with db.session() as s, tenant_context(shop.tenant):
        model = equipment.create_model(s, vendor="MikroTik", name="hAP ax2", device_type="router")
        service = services.create(s, shop.customer_id, shop.plan.id)
        services.activate(s, service.id)
        return shop, model.id, service.id


def _item(db, shop, model_id, n):
    with db.session() as s, tenant_context(shop.tenant):
        return equipment.create_item(s, model_id=model_id, serial=f"SN-{n}", mac=f"AA-BB-CC-00-00-{n:02X}").id


@pytest.mark.parametrize("start", sorted(REACH))
def test_equipment_transition_table(db, stock, start):
    shop, model_id, service_id = stock
    for n, action in enumerate(sorted(EXPECTED)):
        item_id = _item(db, shop, model_id, n)
        with db.session() as s, tenant_context(shop.tenant):
            for step in REACH[start]:
                equipment.change(s, item_id, step, service_id=service_id)
            if start in EXPECTED[action]:
                assert equipment.change(s, item_id, action, service_id=service_id).status == \
                    equipment.TRANSITIONS[action][1]
            else:
                with pytest.raises(Conflict, match=f"{start} cannot be"):
                    equipment.change(s, item_id, action, service_id=service_id)
    assert {a: set(t[0]) for a, t in equipment.TRANSITIONS.items()} == EXPECTED


def test_assignment_names_customer_and_service_and_termination_recovers(db, stock):
    shop, model_id, service_id = stock
    item_id = _item(db, shop, model_id, 1)
    with db.session() as s, tenant_context(shop.tenant):
        item = equipment.change(s, item_id, "assign", service_id=service_id)
        assert (item.customer_id, item.service_id, item.mac) == (shop.customer_id, service_id, "aa:bb:cc:00:00:01")
    with db.session() as s, tenant_context(shop.tenant):
        services.terminate(s, service_id, reason="contract ended")
        item = equipment.get_item(s, item_id)
        assert (item.status, item.service_id, item.customer_id) == ("recovered", None, shop.customer_id)
        assert item.recovered_at is not None
        assert equipment.change(s, item_id, "in_stock", notes="inspected, reset").status == "in_stock"
        with pytest.raises(Conflict, match="terminated"):
            equipment.change(s, item_id, "assign", service_id=service_id)


def test_serial_and_mac_are_unique_and_macs_valid(db, stock):
    shop, model_id, _ = stock
    _item(db, shop, model_id, 7)
    with db.session() as s, tenant_context(shop.tenant):
        with pytest.raises(Conflict, match="serial"):
            equipment.create_item(s, model_id=model_id, serial="SN-7")
        with pytest.raises(Conflict, match="MAC"):
            equipment.create_item(s, model_id=model_id, serial="SN-8", mac="aabb.cc00.0007".replace(".", ""))
        with pytest.raises(Invalid, match="MAC"):
            equipment.create_item(s, model_id=model_id, serial="SN-9", mac="not-a-mac")
