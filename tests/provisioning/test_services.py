"""Services: the status machine, activation's price snapshot, network credentials, tenant boundaries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from app import clock
from app.models import ActivityEvent
from app.models.provisioning import Service
from app.services import catalogue, events, network_credentials, price_rules, services
from app.services.auth import users
from app.services.auth.crypto import decrypt
from app.services.errors import Conflict, NotFound
from tenants import tenant_context
from tests.provisioning.conftest import add_customer

D = Decimal
STATUSES = ("Pending", "Active", "Suspended", "Limited", "Terminated")
# The table as the issue states it, written out here rather than read from the code under test.
EXPECTED = {
    ("Pending", "activate"): "Active", ("Pending", "terminate"): "Terminated",
    ("Active", "suspend"): "Suspended", ("Active", "limit"): "Limited", ("Active", "terminate"): "Terminated",
    ("Suspended", "restore"): "Active", ("Suspended", "terminate"): "Terminated",
    ("Limited", "suspend"): "Suspended", ("Limited", "restore"): "Active", ("Limited", "terminate"): "Terminated",
}
ACTIONS = ("activate", "suspend", "limit", "restore", "terminate")
PATH = {"Pending": [], "Active": ["activate"], "Suspended": ["activate", "suspend"],
        "Limited": ["activate", "limit"], "Terminated": ["terminate"]}


def _new_service(db, shop, **kwargs) -> int:
    with db.session() as s, tenant_context(shop.tenant):
        return services.create(s, shop.customer_id, shop.plan.id, **kwargs).id


def _do(s, service_id, action, **kwargs):
    if action == "activate":
        return services.activate(s, service_id, **kwargs)[0]
    return services.apply(s, service_id, action, reason=f"test {action}")


@pytest.mark.parametrize("start", STATUSES)
def test_status_transition_table(db, make_shop, start):
    shop = make_shop()
    for action in ACTIONS:
        service_id = _new_service(db, shop)
        with db.session() as s, tenant_context(shop.tenant):
            for step in PATH[start]:
                _do(s, service_id, step)
            assert s.get(Service, service_id).status == start
        expected = EXPECTED.get((start, action))
        with db.session() as s, tenant_context(shop.tenant):
            if expected is None:
                with pytest.raises(Conflict, match=f"{start} cannot be"):
                    _do(s, service_id, action)
            else:
                assert _do(s, service_id, action).status == expected
    assert {(old, EXPECTED[(old, a)]) for old, a in EXPECTED} == services.ALLOWED


def test_history_records_every_move_with_who_and_why(db, make_shop):
    shop = make_shop()
    service_id = _new_service(db, shop)
    with db.session() as s, tenant_context(shop.tenant):
        services.activate(s, service_id, reason="installed")
        services.suspend(s, service_id, reason="unpaid")
        services.restore(s, service_id, reason="paid")
        moves = [(h.from_status, h.to_status, h.reason, h.actor) for h in services.history(s, service_id)]
        logged = s.execute(select(ActivityEvent.action).where(ActivityEvent.customer_id == shop.customer_id,
                                                              ActivityEvent.action.like("service.%"))
                           .order_by(ActivityEvent.id)).scalars().all()
    assert moves == [(None, "Pending", "created", "system"), ("Pending", "Active", "installed", "system"),
                     ("Active", "Suspended", "unpaid", "system"), ("Suspended", "Active", "paid", "system")]
    assert logged == ["service.created", "service.active", "service.suspended", "service.active"]


def test_activation_snapshots_the_price_and_later_changes_do_not_alter_it(db, make_shop):
    shop = make_shop()
    with db.session() as s, tenant_context(shop.tenant):
        price_rules.create_rule(s, {"service_type": "internet", "tariff_id": shop.plan.id, "markup_type": "percent",
                                    "markup_value": D("25"), "effective_from": date(2024, 1, 1)})
    service_id = _new_service(db, shop)
    with db.session() as s, tenant_context(shop.tenant):
        service = services.activate(s, service_id)[0]
        assert (service.price, service.wholesale_price, service.currency, service.billing_period) == (
            D("75.00"), D("60.00"), "USD", "monthly")
    with db.session() as s, tenant_context(shop.tenant):  # the reseller reprices, from today on
        price_rules.create_rule(s, {"service_type": "internet", "tariff_id": shop.plan.id, "markup_type": "price",
                                    "markup_value": D("99.00"), "effective_from": clock.today()})
    with db.session() as s:  # and the master ISP raises its wholesale price
        catalogue.update_plan(s, shop.plan.id, wholesale_price=D("70.00"), setup_fee=D("10.00"))
    with db.session() as s, tenant_context(shop.tenant):
        service = s.get(Service, service_id)
        assert (service.price, service.wholesale_price, service.setup_fee) == (D("75.00"), D("60.00"), D("0.00"))
        assert services.activate(s, _new_service_in(s, shop))[0].price == D("99.00")  # new sales: the new price


def _new_service_in(s, shop) -> int:
    return services.create(s, shop.customer_id, shop.plan.id).id


def test_events_are_published_after_commit_only(db, make_shop):
    shop = make_shop()
    heard = []
    listener = events.subscribe("service.status_changed", lambda **p: heard.append(p))
    try:
        service_id = _new_service(db, shop)
        with db.session() as s, tenant_context(shop.tenant):
            services.activate(s, service_id)
            assert heard == []  # not before the commit
        assert [(e["from_status"], e["to_status"], e["tenant_id"]) for e in heard] == [
            ("Pending", "Active", shop.tenant.id)]
        with pytest.raises(RuntimeError), db.session() as s, tenant_context(shop.tenant):
            services.suspend(s, service_id, reason="rolled back")
            raise RuntimeError("boom")
        assert len(heard) == 1  # a rolled-back change is never heard of
    finally:
        events.unsubscribe("service.status_changed", listener)


# -- network credentials ---------------------------------------------------------------------------

def test_network_credentials_are_encrypted_at_rest_and_not_the_portal_password(db, make_shop):
    shop = make_shop()
    service_id = _new_service(db, shop)
    with db.session() as s, tenant_context(shop.tenant):
        users.set_portal_password(s, shop.customer_id, "Portal#Pass1")
        service, password = services.activate(s, service_id)
    assert password and len(password) == network_credentials.GENERATED_LENGTH
    with db.session() as s, tenant_context(shop.tenant):
        username, stored = s.execute(text("SELECT network_username, network_password_encrypted FROM services "
                                          "WHERE id = :id"), {"id": service_id}).one()
        assert username == shop.portal_id
        assert password not in stored and decrypt(stored) == password
        assert network_credentials.network_password(s.get(Service, service_id)) == password
        assert network_credentials.find_live(s, shop.portal_id).id == service_id
        users.set_portal_password(s, shop.customer_id, "Changed#Pass2")  # the portal password changes…
    with db.session() as s, tenant_context(shop.tenant):
        assert network_credentials.network_password(s.get(Service, service_id)) == password  # …this does not
        _, again = services.set_network_credentials(s, service_id, password="Given#Net9")
        assert again == "Given#Net9"
    with db.session() as s, tenant_context(shop.tenant):  # and setting network credentials leaves the portal's
        from app.models import PortalAccount
        from app.services.auth.passwords import verify_password

        assert verify_password(s.get(PortalAccount, shop.customer_id).password_hash, "Changed#Pass2")
        assert network_credentials.network_password(s.get(Service, service_id)) == "Given#Net9"


def test_usernames_start_with_the_portal_id_and_are_unique_among_live_services(db, make_shop):
    shop = make_shop()
    first, second = _new_service(db, shop), _new_service(db, shop)
    with db.session() as s, tenant_context(shop.tenant):
        services.activate(s, first)
        services.activate(s, second)
        assert s.get(Service, second).network_username == f"{shop.portal_id}.{second}"
        with pytest.raises(Conflict, match="in use"):
            services.set_network_credentials(s, second, username=shop.portal_id)
    with db.session() as s, tenant_context(shop.tenant):
        from app.services.errors import Invalid

        with pytest.raises(Invalid, match="Portal ID"):
            services.set_network_credentials(s, second, username="someone-else")
        services.terminate(s, first)
        services.set_network_credentials(s, second, username=shop.portal_id)  # free once terminated


# -- tenant isolation and authorisation -------------------------------------------------------------

def test_a_plan_not_authorised_for_b_cannot_be_sold_by_b(db, make_shop, make_tenant):
    shop = make_shop("SELLA")
    other = make_tenant("SELLB")
    customer_id = add_customer(db, other)
    with pytest.raises(NotFound, match="catalogue"), db.session() as s, tenant_context(other):
        services.create(s, customer_id, shop.plan.id)
    with db.session() as s:
        assert shop.plan.id not in [p.id for p in catalogue.authorised_plans(s, other.id)]
        assert shop.plan.id in [p.id for p in catalogue.authorised_plans(s, shop.tenant.id)]


def test_b_cannot_see_a_services(db, make_shop, make_tenant):
    shop = make_shop("SEEA")
    service_id = _new_service(db, shop)
    other = make_tenant("SEEB")
    with db.session() as s, tenant_context(other):
        assert s.execute(select(Service)).all() == []
        with pytest.raises(NotFound):
            services.get(s, service_id)


def test_allowed_services_limit_what_a_tenant_sells(db, make_tenant, make_plan):
    from app.models import Tenant as TenantRow

    voice_only = make_tenant("VOICE")
    internet, voice = make_plan("internet"), make_plan("voice", voice_minutes=500)
    with db.session() as s:
        s.get(TenantRow, voice_only.id).allowed_services = ["voice"]
    with db.session() as s, pytest.raises(Conflict, match="may not sell internet"):
        catalogue.authorise(s, internet.id, voice_only.id)
    with db.session() as s:
        catalogue.authorise(s, voice.id, voice_only.id)
    with db.session() as s:  # an authorisation made before the tenant's kinds narrowed is not sellable either
        s.get(TenantRow, voice_only.id).allowed_services = None
        catalogue.authorise(s, internet.id, voice_only.id)
        s.get(TenantRow, voice_only.id).allowed_services = ["voice"]
    customer_id = add_customer(db, voice_only)
    with db.session() as s:
        assert [p.kind for p in catalogue.authorised_plans(s, voice_only.id)] == ["voice"]
    with pytest.raises(NotFound), db.session() as s, tenant_context(voice_only):
        services.create(s, customer_id, internet.id)


def test_regions_restrict_where_a_plan_is_sold(db, make_shop):
    from app.services.errors import Invalid

    shop = make_shop()
    with db.session() as s:
        catalogue.authorise(s, shop.plan.id, shop.tenant.id, regions=["Nairobi", "Mombasa"])
    with db.session() as s, tenant_context(shop.tenant):
        assert services.create(s, shop.customer_id, shop.plan.id, region="Nairobi").status == "Pending"
        with pytest.raises(Invalid, match="not sold in 'Kisumu'"):
            services.create(s, shop.customer_id, shop.plan.id, region="Kisumu")
