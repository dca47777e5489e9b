"""IP pools: lowest free address, exhaustion (an error and one alert an hour), release, concurrency."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from app.models import Outbox
from app.models.provisioning import IpAssignment, Service
from app.services import ip_pools, services
from app.services.errors import Conflict
from app.services.settings import put_setting
from tenants import tenant_context


def _pool(db, tenant, **kwargs):
    with db.session() as s, tenant_context(tenant):
        return ip_pools.create_pool(s, **kwargs).id


def _services(db, shop, n: int) -> list[int]:
    with db.session() as s, tenant_context(shop.tenant):
        return [services.create(s, shop.customer_id, shop.plan.id).id for _ in range(n)]


def _alerts(db, tenant) -> list[Outbox]:
    with db.session() as s, tenant_context(tenant):
        return s.execute(select(Outbox).where(Outbox.template == "provisioning/ip_pool_exhausted")).scalars().all()


def test_lowest_free_address_skipping_network_gateway_and_exclusions(db, make_shop):
    shop = make_shop()
    pool_id = _pool(db, shop.tenant, name="core", cidr="100.64.0.0/29", gateway="100.64.0.1",
                    excluded=["100.64.0.2", "100.64.0.4"])
    ids = _services(db, shop, 3)
    with db.session() as s, tenant_context(shop.tenant):
        got = [str(services.activate(s, i, static_ip=True)[0].static_ip) for i in ids]
        assert ip_pools.usage(s, ip_pools.get_pool(s, pool_id)) == {"size": 3, "used": 3}
    assert got == ["100.64.0.3", "100.64.0.5", "100.64.0.6"]  # .0 network, .7 broadcast, .1 gateway


def test_exhaustion_is_an_error_and_one_alert_an_hour(db, make_shop):
    shop = make_shop()
    with db.session() as s, tenant_context(shop.tenant):
        put_setting(s, "portal", {"title": "Shop", "support_email": "noc@shop.example", "support_phone": None})
    _pool(db, shop.tenant, name="tiny", cidr="100.64.1.0/30", gateway="100.64.1.1")  # one usable address
    first, second, third = _services(db, shop, 3)
    with db.session() as s, tenant_context(shop.tenant):
        services.activate(s, first, static_ip=True)
    for service_id in (second, third):
        with pytest.raises(ip_pools.PoolExhausted, match="no free address in tiny") as caught, db.session() as s, \
                tenant_context(shop.tenant):
            services.activate(s, service_id, static_ip=True)
        assert (caught.value.status, caught.value.slug) == (409, "ip-pool-exhausted")
    alerts = _alerts(db, shop.tenant)
    assert [a.to_address for a in alerts] == ["noc@shop.example"]  # the second failure within the hour: no mail
    assert "tiny" in alerts[0].subject and "1 of 1" in alerts[0].body_text
    with db.session() as s, tenant_context(shop.tenant):  # the failed activations left nothing behind
        assert s.get(Service, second).status == "Pending"
        assert len(s.execute(select(IpAssignment)).all()) == 1


def test_the_alert_goes_to_admins_without_a_support_address_and_again_after_an_hour(db, make_shop):
    from datetime import timedelta

    from app.models.provisioning import IpPoolAlert
    from app.services.auth import users

    shop = make_shop()
    with db.session() as s, tenant_context(shop.tenant):
        users.create_user(s, username="boss@shop.example", email="boss@shop.example", role="Admin",
                          password="Str0ng#Pass")
        users.create_user(s, username="help@shop.example", email="help@shop.example", role="User",
                          password="Str0ng#Pass")
    pool_id = _pool(db, shop.tenant, name="none-left", cidr="100.64.2.1/32", excluded=["100.64.2.1"])
    for _ in range(2):
        (service_id,) = _services(db, shop, 1)
        with pytest.raises(ip_pools.PoolExhausted), db.session() as s, tenant_context(shop.tenant):
            services.activate(s, service_id, ip_pool_id=pool_id)
        with db.session() as s, tenant_context(shop.tenant):  # an hour later
            s.get(IpPoolAlert, pool_id).alerted_at -= timedelta(minutes=61)
    assert [a.to_address for a in _alerts(db, shop.tenant)] == ["boss@shop.example", "boss@shop.example"]


def test_release_on_termination_makes_the_address_free_again(db, make_shop):
    shop = make_shop()
    _pool(db, shop.tenant, name="two", cidr="100.64.3.0/30")  # .1 and .2
    a, b, c = _services(db, shop, 3)
    with db.session() as s, tenant_context(shop.tenant):
        services.activate(s, a, static_ip=True)
        services.activate(s, b, static_ip=True)
        services.terminate(s, a, reason="moved")
        assert s.get(Service, a).static_ip is None
    with db.session() as s, tenant_context(shop.tenant):
        assert str(services.activate(s, c, static_ip=True)[0].static_ip) == "100.64.3.1"


def test_concurrent_activations_never_share_an_address(db, make_shop):
    shop = make_shop()
    _pool(db, shop.tenant, name="busy", cidr="100.64.4.0/28")  # 14 usable
    ids = _services(db, shop, 8)
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def activate(service_id):
        try:
            with tenant_context(shop.tenant), db.session() as s:
                s.get(Service, service_id)  # open the transaction before everyone starts
                barrier.wait(timeout=10)
                services.activate(s, service_id, static_ip=True)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=activate, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with db.session() as s, tenant_context(shop.tenant):
        addresses = [str(a) for a in s.execute(select(Service.static_ip).where(Service.id.in_(ids))).scalars()]
    assert len(set(addresses)) == len(ids) and None not in addresses


def test_the_last_address_goes_to_one_of_two_concurrent_activations(db, make_shop):
    shop = make_shop()
    _pool(db, shop.tenant, name="last", cidr="100.64.5.7/32")
    ids = _services(db, shop, 2)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def activate(service_id):
        with tenant_context(shop.tenant):
            try:
                with db.session() as s:
                    s.get(Service, service_id)
                    barrier.wait(timeout=10)
                    services.activate(s, service_id, static_ip=True)
                outcomes.append("ok")
            except ip_pools.PoolExhausted:
                outcomes.append("exhausted")

    threads = [threading.Thread(target=activate, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["exhausted", "ok"]


def test_pools_may_not_overlap_and_are_deleted_only_when_empty(db, make_shop):
    shop = make_shop()
    pool_id = _pool(db, shop.tenant, name="a", cidr="100.64.8.0/24")
    with pytest.raises(Conflict, match="overlaps"), db.session() as s, tenant_context(shop.tenant):
        ip_pools.create_pool(s, name="b", cidr="100.64.8.128/25")
    (service_id,) = _services(db, shop, 1)
    with db.session() as s, tenant_context(shop.tenant):
        services.activate(s, service_id, static_ip=True)
    with pytest.raises(Conflict, match="in use"), db.session() as s, tenant_context(shop.tenant):
        ip_pools.delete_pool(s, pool_id)
    with db.session() as s, tenant_context(shop.tenant):
        services.terminate(s, service_id)
        ip_pools.delete_pool(s, pool_id)


def test_pools_of_different_tenants_are_independent(db, make_shop):
    a, b = make_shop("POOLA"), make_shop("POOLB")
    for shop in (a, b):
        _pool(db, shop.tenant, name="same", cidr="100.64.9.0/30")
    for shop in (a, b):
        (service_id,) = _services(db, shop, 1)
        with db.session() as s, tenant_context(shop.tenant):
            assert str(services.activate(s, service_id, static_ip=True)[0].static_ip) == "100.64.9.1"
