"""The order usage is drawn in ("Bucket Priority" in the self-care journey, 003): promotions (weight 10)
first, top-ups (20) second, the plan's allowance (30: a bucket per service and billing cycle, made once
and new at the cycle date) last; the same weight by soonest expiry, expired buckets skipped."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from app import clock
from app.models.billing import UsageBucket
from app.services import customers, services
from app.services.billing import buckets, topups
from app.services.settings import put_setting
from app.services.usage import allowance, fup
from tenants import tenant_context
from tests.radius.test_usage_api import user_headers

MB = 2**20
_n = itertools.count(1)


@dataclass
class Metered:
    tenant: object
    customer_id: int
    service_id: int
    portal_id: str


@pytest.fixture
def metered(db, make_shop, make_plan):
    """A customer with one active service whose plan allows `data_allowance_mb` MB (and `voice_minutes`)
    per billing cycle, billing day 1 unless told."""

    def make(data_allowance_mb: int | None = 100, kind: str = "internet", billing_day: int = 1, zone: str = "UTC",
             **plan_fields) -> Metered:
        shop = make_shop("ORDER", plan=make_plan(kind=kind, data_allowance_mb=data_allowance_mb, **plan_fields))
        with db.session() as s, tenant_context(shop.tenant):
            put_setting(s, "timezone", zone)
        with db.session() as s, tenant_context(shop.tenant):
            customer = customers.create(s, first_name="Wanjiru", last_name=f"Mwangi{next(_n)}",
                                        email=f"wanjiru{next(_n)}@example.com", billing_day=billing_day)
            service = services.create(s, customer.id, shop.plan.id)
            services.activate(s, service.id, reason="test")
            return Metered(shop.tenant, customer.id, service.id, customer.portal_id)

    return make


def use(db, m: Metered, megabytes: int, *, on: date | None = None, now: datetime | None = None) -> dict:
    """`megabytes` more traffic on the service's day (as the accounting store adds it), then the fair-use
    rule as accounting runs it after every batch."""
    with db.session() as s, tenant_context(m.tenant):
        s.execute(text("INSERT INTO usage_daily (service_id, day, upload, download) VALUES (:s, :d, 0, :o) "
                       "ON CONFLICT (service_id, day) DO UPDATE SET download = usage_daily.download + :o"),
                  {"s": m.service_id, "d": on or clock.today(), "o": megabytes * MB})
    with db.session() as s, tenant_context(m.tenant):
        return fup.check(s, [m.service_id], now=now)


def left(db, m: Metered, *ids: int) -> list[Decimal]:
    with db.session() as s, tenant_context(m.tenant):
        found = dict(s.execute(select(UsageBucket.id, UsageBucket.remaining).where(UsageBucket.id.in_(ids))).all())
    return [found[i] for i in ids]


def plan_buckets(db, m: Metered, kind: str = "data") -> list[UsageBucket]:
    with db.session() as s, tenant_context(m.tenant):
        found = list(s.execute(select(UsageBucket).where(UsageBucket.service_id == m.service_id,
                                                         UsageBucket.source == "plan", UsageBucket.kind == kind)
                               .order_by(UsageBucket.starts_at)).scalars())
        s.expunge_all()
        return found


def test_promotions_are_drawn_first_then_top_ups_and_the_plans_allowance_last(db, metered):
    m = metered(data_allowance_mb=100)
    with db.session() as s, tenant_context(m.tenant):
        promo = topups.buy(s, m.service_id, kind="data", amount="30", price="0", source="promotion").bucket
        top = topups.buy(s, m.service_id, kind="data", amount="50", price="10.00", validity_days=30).bucket
        assert (promo.weight, top.weight) == (10, 20)
        promo_id, top_id = promo.id, top.id

    use(db, m, 60)
    [plan] = plan_buckets(db, m)
    assert (plan.weight, plan.total) == (30, Decimal("100"))
    assert left(db, m, promo_id, top_id, plan.id) == [Decimal("0"), Decimal("20"), Decimal("100")]
    use(db, m, 40)
    assert left(db, m, promo_id, top_id, plan.id) == [Decimal("0"), Decimal("0"), Decimal("80")]
    with db.session() as s, tenant_context(m.tenant):
        state = fup.status(s, m.service_id)
        assert state["percent"] == Decimal("20.0")  # only the 20 MB that reached the plan count against it
        assert services.get(s, m.service_id).status == "Active"


def test_the_same_weight_is_drawn_by_soonest_expiry_and_expired_buckets_are_skipped(db, metered):
    m = metered(data_allowance_mb=100)
    with db.session() as s, tenant_context(m.tenant):
        late = topups.buy(s, m.service_id, kind="data", amount="40", price="5.00", validity_days=30).bucket.id
        soon = topups.buy(s, m.service_id, kind="data", amount="40", price="5.00", validity_days=2).bucket.id
        forever = topups.buy(s, m.service_id, kind="data", amount="40", price="5.00").bucket.id
        gone, _ = buckets.add(s, customer_id=m.customer_id, service_id=m.service_id, kind="data", source="topup",
                              amount=Decimal("500"), starts_at=clock.now() - timedelta(days=10),
                              expires_at=clock.now() - timedelta(days=1))
        gone = gone.id

    use(db, m, 50)
    [plan] = plan_buckets(db, m)
    assert left(db, m, soon, late, forever, gone, plan.id) == \
        [Decimal("0"), Decimal("30"), Decimal("40"), Decimal("500"), Decimal("100")]
    use(db, m, 80)  # the last top-up without expiry goes before the plan's allowance, which expires sooner
    assert left(db, m, soon, late, forever, gone, plan.id) == \
        [Decimal("0"), Decimal("0"), Decimal("0"), Decimal("500"), Decimal("90")]


@pytest.mark.clock("2026-11-10T09:00:00Z")
def test_the_plans_bucket_is_made_once_per_cycle_and_new_at_the_cycle_date(db, metered):
    m = metered(data_allowance_mb=100, billing_day=1, zone="Africa/Nairobi")
    use(db, m, 30)
    use(db, m, 0)  # nothing new: nothing drawn
    with db.session() as s, tenant_context(m.tenant):
        allowance.ensure_current(s, m.service_id)
        allowance.ensure_current(s, m.service_id)
        assert fup.reset_due(s) == []
    [november] = plan_buckets(db, m)
    nairobi_midnight = timedelta(hours=3)  # the reseller's days start at its own midnight
    assert (november.total, november.remaining) == (Decimal("100"), Decimal("70"))
    assert november.starts_at == datetime(2026, 11, 1, tzinfo=UTC) - nairobi_midnight
    assert november.expires_at == datetime(2026, 12, 1, tzinfo=UTC) - nairobi_midnight
    assert november.reference == f"plan:{m.service_id}:data:2026-11-01"

    with clock.travel("2026-12-01T05:00:00Z"):  # 08:00 in Nairobi: the daily job opens December's bucket
        with db.session() as s, tenant_context(m.tenant):
            fup.reset_due(s)
            fup.reset_due(s)
            assert topups.balances(s, m.service_id)["data"]["remaining"] == Decimal("100")
        use(db, m, 25)
    old, december = plan_buckets(db, m)
    assert old.id == november.id and old.remaining == Decimal("70")  # the old cycle's is over, not drawn
    assert (december.total, december.remaining) == (Decimal("100"), Decimal("75"))
    assert december.starts_at == old.expires_at
    assert december.expires_at == datetime(2027, 1, 1, tzinfo=UTC) - nairobi_midnight


@pytest.mark.clock("2026-11-10T09:00:00Z")
def test_a_plan_changed_mid_cycle_resizes_the_cycles_bucket_and_keeps_what_was_used(db, metered, make_plan):
    m = metered(data_allowance_mb=100)
    use(db, m, 60)
    bigger = make_plan(data_allowance_mb=500)
    with db.session() as s, tenant_context(m.tenant):  # as an upgrade applied now sets it (service_requests.py)
        services.get(s, m.service_id).plan_id = bigger.id
    use(db, m, 10)
    [plan] = plan_buckets(db, m)
    assert (plan.total, plan.remaining) == (Decimal("500"), Decimal("430"))


def test_a_promotion_through_the_api_is_weight_10_and_drawn_first(client, db, metered):
    m = metered(data_allowance_mb=100)
    headers = user_headers(client, db, m.tenant)
    bought = client.post(f"/reseller/api/services/{m.service_id}/topups", headers=headers,
                         json={"kind": "data", "amount": "10", "price": "0", "source": "promotion"})
    assert bought.status_code == 201, bought.get_json()
    assert (bought.get_json()["bucket"]["weight"], bought.get_json()["invoice_id"]) == (10, None)
    listed = client.get(f"/reseller/api/services/{m.service_id}/buckets", headers=headers).get_json()
    assert [(b["source"], b["weight"], b["remaining"]) for b in listed] == \
        [("promotion", 10, "10.000"), ("plan", 30, "100.000")]
