"""Change requests: approval where configured, immediate or next cycle; vacation holds; the daily run."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from app import clock
from app.models.provisioning import Service
from app.services import catalogue, price_rules, service_requests, services
from app.services.errors import Conflict, Invalid
from app.services.settings import put_setting
from tenants import tenant_context

D = Decimal
TODAY = clock.today()


@pytest.fixture
def active(db, make_shop, make_plan):
    """An active service on a 60.00 plan (+25%), and a bigger plan (100.00) the reseller also sells."""
    shop = make_shop()
    bigger = make_plan(wholesale_price="100.00", download_kbps=50000)
    with db.session() as s:
        catalogue.authorise(s, bigger.id, shop.tenant.id)
    with db.session() as s, tenant_context(shop.tenant):
        price_rules.create_rule(s, {"service_type": "internet", "markup_type": "percent", "markup_value": D("25"),
                                    "effective_from": date(2024, 1, 1)})
        service = services.create(s, shop.customer_id, shop.plan.id)
        services.activate(s, service.id)
        return shop, service.id, bigger


def _require_approval(db, tenant, *kinds):
    with db.session() as s, tenant_context(tenant):
        put_setting(s, "services", {"approval_required": list(kinds)})


def test_upgrade_without_approval_is_done_at_once_at_the_new_price(db, active):
    shop, service_id, bigger = active
    with db.session() as s, tenant_context(shop.tenant):
        request = service_requests.create(s, service_id, "upgrade", {"plan_id": bigger.id})
        assert request.status == "Completed"
        service = s.get(Service, service_id)
        assert (service.plan_id, service.price, service.setup_fee) == (bigger.id, D("125.00"), D("0.00"))


def test_upgrade_with_approval_waits_then_is_approved(db, active):
    shop, service_id, bigger = active
    _require_approval(db, shop.tenant, "upgrade", "downgrade")
    with db.session() as s, tenant_context(shop.tenant):
        request = service_requests.create(s, service_id, "upgrade", {"plan_id": bigger.id})
        assert request.status == "Pending"
        assert s.get(Service, service_id).plan_id == shop.plan.id
        with pytest.raises(Conflict, match="open upgrade"):
            service_requests.create(s, service_id, "upgrade", {"plan_id": bigger.id})
    with db.session() as s, tenant_context(shop.tenant):
        done = service_requests.approve(s, request.id, note="ok")
        assert (done.status, done.note, done.effective_on) == ("Completed", "ok", TODAY)
        assert s.get(Service, service_id).plan_id == bigger.id
        with pytest.raises(Conflict, match="Completed"):
            service_requests.reject(s, request.id)


def test_rejected_request_changes_nothing(db, active):
    shop, service_id, bigger = active
    _require_approval(db, shop.tenant, "upgrade")
    with db.session() as s, tenant_context(shop.tenant):
        request = service_requests.create(s, service_id, "upgrade", {"plan_id": bigger.id})
        assert service_requests.reject(s, request.id, note="not in your area").status == "Rejected"
        assert s.get(Service, service_id).plan_id == shop.plan.id
        # a rejected request is closed: a new one may be made
        assert service_requests.create(s, service_id, "upgrade", {"plan_id": bigger.id}).status == "Pending"


def test_next_cycle_waits_for_the_next_billing_cycle(db, active):
    shop, service_id, bigger = active
    with db.session() as s, tenant_context(shop.tenant):
        service = s.get(Service, service_id)
        service.activated_at = datetime(2025, 1, 31, 12, tzinfo=UTC)
        expected = service_requests.next_cycle_start(s, service, TODAY)
        assert expected > TODAY and expected.day in (28, 29, 30, 31)  # the 31st, or the end of a shorter month
        request = service_requests.create(s, service_id, "downgrade", {"plan_id": bigger.id},
                                          effective="next_cycle")
        assert (request.status, request.effective_on) == ("Approved", expected)
        assert s.get(Service, service_id).plan_id == shop.plan.id
    with db.session() as s, tenant_context(shop.tenant):
        assert service_requests.apply_due(s, expected - timedelta(days=1))["completed"] == 0
        assert service_requests.apply_due(s, expected)["completed"] == 1
        assert s.get(Service, service_id).plan_id == bigger.id
        assert service_requests.get(s, request.id).status == "Completed"


@pytest.mark.parametrize(("anchor", "today", "period", "expected"), [
    (date(2025, 1, 31), date(2025, 2, 10), "monthly", date(2025, 2, 28)),
    (date(2025, 1, 31), date(2025, 2, 28), "monthly", date(2025, 3, 31)),
    (date(2024, 1, 15), date(2024, 1, 15), "monthly", date(2024, 2, 15)),
    (date(2024, 1, 15), date(2024, 5, 1), "quarterly", date(2024, 7, 15)),
    (date(2024, 2, 29), date(2024, 3, 1), "yearly", date(2025, 2, 28)),
])
def test_next_cycle_dates(db, active, anchor, today, period, expected):
    shop, service_id, _ = active
    with db.session() as s, tenant_context(shop.tenant):
        service = s.get(Service, service_id)
        service.activated_at = datetime(anchor.year, anchor.month, anchor.day, 9, tzinfo=UTC)
        service.billing_period = period
        assert service_requests.next_cycle_start(s, service, today) == expected


def test_cancellation_next_cycle_terminates_then(db, active):
    shop, service_id, _ = active
    with db.session() as s, tenant_context(shop.tenant):
        request = service_requests.create(s, service_id, "cancellation", {"reason": "moving abroad"},
                                          effective="next_cycle")
        when = request.effective_on
    with db.session() as s, tenant_context(shop.tenant):
        service_requests.apply_due(s, when)
        service = s.get(Service, service_id)
        assert (service.status, service.status_reason) == ("Terminated", "moving abroad")


def test_vacation_hold_suspends_then_restores(db, active):
    shop, service_id, _ = active
    with db.session() as s, tenant_context(shop.tenant):
        request = service_requests.create(s, service_id, "suspension",
                                          {"from": TODAY.isoformat(), "until": (TODAY + timedelta(days=7)).isoformat()})
        assert request.status == "Completed"
        service = s.get(Service, service_id)
        assert (service.status, service.status_reason) == ("Suspended", "vacation hold")
        assert (service.vacation_from, service.vacation_until) == (TODAY, TODAY + timedelta(days=7))
    with db.session() as s, tenant_context(shop.tenant):
        assert service_requests.apply_due(s, TODAY + timedelta(days=7))["holds_ended"] == 0  # `until` is inclusive
        assert service_requests.apply_due(s, TODAY + timedelta(days=8))["holds_ended"] == 1
        service = s.get(Service, service_id)
        assert (service.status, service.vacation_from) == ("Active", None)


def test_future_vacation_hold_starts_on_its_day_and_other_suspensions_are_not_lifted(db, active):
    shop, service_id, _ = active
    start, until = TODAY + timedelta(days=3), TODAY + timedelta(days=5)
    with db.session() as s, tenant_context(shop.tenant):
        service_requests.create(s, service_id, "suspension", {"from": start.isoformat(), "until": until.isoformat()})
        assert s.get(Service, service_id).status == "Active"
    with db.session() as s, tenant_context(shop.tenant):
        assert service_requests.apply_due(s, start)["holds_started"] == 1
        assert s.get(Service, service_id).status == "Suspended"
        services.restore(s, service_id, reason="back early")
        services.suspend(s, service_id, reason="unpaid invoice")
    with db.session() as s, tenant_context(shop.tenant):
        service_requests.apply_due(s, until + timedelta(days=1))
        assert s.get(Service, service_id).status_reason == "unpaid invoice"  # not ours to lift


def test_invalid_requests(db, active):
    shop, service_id, bigger = active
    with db.session() as s, tenant_context(shop.tenant):
        with pytest.raises(Invalid, match="already"):
            service_requests.create(s, service_id, "upgrade", {"plan_id": shop.plan.id})
        with pytest.raises(Invalid, match="today or later"):
            service_requests.create(s, service_id, "suspension", {"from": "2020-01-01", "until": "2020-01-02"})
        with pytest.raises(Invalid, match="immediate"):
            service_requests.create(s, service_id, "suspension", {"from": TODAY.isoformat(),
                                                                  "until": TODAY.isoformat()}, effective="next_cycle")
        with pytest.raises(Invalid, match="kind"):
            service_requests.create(s, service_id, "teleport", {})


def test_relocation_checks_the_region(db, active):
    shop, service_id, _ = active
    with db.session() as s:
        catalogue.authorise(s, shop.plan.id, shop.tenant.id, regions=["Nairobi"])
    with db.session() as s, tenant_context(shop.tenant):
        with pytest.raises(Invalid, match="Kisumu"):
            service_requests.create(s, service_id, "relocation", {"installation_address": "1 Lake Rd",
                                                                  "region": "Kisumu"})
        request = service_requests.create(s, service_id, "relocation", {"installation_address": "2 Moi Ave",
                                                                        "region": "Nairobi"})
        service = s.get(Service, service_id)
        assert (request.status, service.installation_address, service.region) == ("Completed", "2 Moi Ave", "Nairobi")


def test_termination_cancels_open_requests(db, active):
    shop, service_id, bigger = active
    _require_approval(db, shop.tenant, "upgrade")
    with db.session() as s, tenant_context(shop.tenant):
        request = service_requests.create(s, service_id, "upgrade", {"plan_id": bigger.id})
        services.terminate(s, service_id, reason="fraud")
        assert service_requests.get(s, request.id).status == "Cancelled"
