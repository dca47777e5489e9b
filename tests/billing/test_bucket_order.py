"""The order usage is drawn in ("Bucket Priority" in the self-care journey, 003): promotions (weight 10)
first, top-ups (20) second, the plan's allowance (30: a bucket per service and billing cycle, made once
and new at the cycle date) last; the same weight by soonest expiry, expired buckets skipped. And voice
and SMS balances drawn down by usage records — once per record, through the service and the API."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from app import clock
from app.models.billing import UsageBucket
from app.services import customers, services
from app.services.billing import buckets, topups
from app.services.errors import Conflict, Invalid
from app.services.settings import put_setting
from app.services.usage import allowance, fup, records
from tenants import tenant_context
from tests.radius.test_usage_api import customer_headers, user_headers

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


def test_checks_and_records_running_at_once_draw_each_megabyte_and_each_record_once(db, metered):
    m = metered(data_allowance_mb=100)
    with db.session() as s, tenant_context(m.tenant):
        top = topups.buy(s, m.service_id, kind="data", amount="50", price="5.00").bucket.id
        sms = topups.buy(s, m.service_id, kind="sms", amount="10", price="5.00").bucket.id
        s.execute(text("INSERT INTO usage_daily (service_id, day, upload, download) VALUES (:s, :d, 0, :o)"),
                  {"s": m.service_id, "d": clock.today(), "o": 70 * MB})
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(n: int) -> None:
        try:
            start.wait()
            with db.session() as s, tenant_context(m.tenant):
                if n % 2:
                    fup.check(s, [m.service_id])
                else:
                    records.intake(s, "sms-gw", [{"id": "same", "service_id": m.service_id, "kind": "sms",
                                                 "quantity": "4"}])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    [plan] = plan_buckets(db, m)
    assert left(db, m, top, plan.id, sms) == [Decimal("0"), Decimal("80"), Decimal("6")]


# -- voice and SMS --------------------------------------------------------------------------------------

def record(s, m: Metered, id: str, kind: str, quantity: str, **extra) -> records.Applied:  # noqa: A002
    [applied] = records.intake(s, "softswitch", [{"id": id, "service_id": m.service_id, "kind": kind,
                                                 "quantity": quantity, **extra}])
    return applied


def test_voice_minutes_are_drawn_top_up_first_then_the_plans_and_a_record_draws_once(db, metered):
    m = metered(data_allowance_mb=None, kind="voice", voice_minutes=100)
    with db.session() as s, tenant_context(m.tenant):
        top = topups.buy(s, m.service_id, kind="voice", amount="30", price="50.00").bucket.id
        first = record(s, m, "cdr-1", "voice", "12.5", destination="+254700000001", category="off-net")
        assert (first.created, first.drawn, first.uncovered) == (True, Decimal("12.5"), Decimal("0"))
        record(s, m, "cdr-2", "voice", "20")
        again = record(s, m, "cdr-1", "voice", "12.5")  # the switch sent it again
        assert (again.created, again.drawn, again.record.drawn) == (False, Decimal("0"), Decimal("12.5"))
        with pytest.raises(Conflict, match="other figures"):
            record(s, m, "cdr-1", "voice", "13")
    [plan] = plan_buckets(db, m, "voice")
    assert (plan.weight, plan.total) == (30, Decimal("100"))
    assert left(db, m, top, plan.id) == [Decimal("0"), Decimal("97.5")]
    with db.session() as s, tenant_context(m.tenant):
        assert topups.balances(s, m.service_id)["voice"]["remaining"] == Decimal("97.5")
        history = records.page(s, m.service_id, page=1, per_page=10)
        assert [(r["external_id"], r["quantity"], r["drawn"]) for r in history["items"]][-1] == \
            ("cdr-1", Decimal("12.5"), Decimal("12.5"))
        assert history["items"][-1]["destination"] == "+254700000001"


def test_sms_messages_are_drawn_and_what_no_bucket_holds_is_uncovered(db, metered):
    m = metered()
    with db.session() as s, tenant_context(m.tenant):
        bundle = topups.buy(s, m.service_id, kind="sms", amount="5", price="10.00").bucket.id
        assert record(s, m, "sms-1", "sms", "3").drawn == Decimal("3")
        over = record(s, m, "sms-2", "sms", "4")
        assert (over.drawn, over.uncovered) == (Decimal("2"), Decimal("2"))
        with pytest.raises(Invalid, match="whole messages"):
            record(s, m, "sms-3", "sms", "1.5")
        with pytest.raises(Invalid, match="occurred_at"):
            record(s, m, "sms-4", "sms", "1", occurred_at=clock.now() - timedelta(days=40))
    assert left(db, m, bundle) == [Decimal("0")]


def test_usage_records_through_the_api_once_per_id_and_only_for_own_services(client, db, metered, make_tenant):
    m = metered()
    with db.session() as s, tenant_context(m.tenant):
        topups.buy(s, m.service_id, kind="sms", amount="100", price="10.00")
        username = services.set_network_credentials(s, m.service_id, password="Gw#Pass2026")[0].network_username
    headers = user_headers(client, db, m.tenant)
    batch = {"source": "sms-gw", "records": [
        {"id": "m-1", "service_id": m.service_id, "kind": "sms", "quantity": "2"},
        {"id": "m-2", "username": username, "kind": "sms", "quantity": 1, "destination": "+254711000000"}]}
    sent = client.post("/reseller/api/usage-records", headers=headers, json=batch)
    assert sent.status_code == 200, sent.get_json()
    assert [(r["external_id"], r["created"], r["drawn"], r["service_id"]) for r in sent.get_json()["records"]] == \
        [("m-1", True, "2.000", m.service_id), ("m-2", True, "1.000", m.service_id)]
    again = client.post("/reseller/api/usage-records", headers=headers, json=batch).get_json()
    assert [r["created"] for r in again["records"]] == [False, False]
    balances = client.get(f"/reseller/api/services/{m.service_id}/balances", headers=headers).get_json()
    assert next(b for b in balances["balances"] if b["kind"] == "sms")["remaining"] == "97.000"

    history = client.get(f"/reseller/api/services/{m.service_id}/usage-records", headers=headers).get_json()
    assert history["total"] == 2 and {r["source"] for r in history["items"]} == {"api:sms-gw"}
    mine = client.get(f"/portal/api/services/{m.service_id}/usage-records", headers=customer_headers(client, db, m))
    assert mine.status_code == 200 and mine.get_json()["total"] == 2

    def refused(body, status, who=headers):
        answer = client.post("/reseller/api/usage-records", headers=who, json=body)
        assert answer.status_code == status, (body, answer.get_json())
        assert answer.content_type == "application/problem+json"

    one = {"id": "m-9", "service_id": m.service_id, "kind": "sms", "quantity": "1"}
    for bad in ({**one, "quantity": 1.5}, {**one, "kind": "data"}, {**one, "username": username},
                {k: v for k, v in one.items() if k != "service_id"}, {**one, "id": "a\x00b"},
                {**one, "quantity": "0"}, {**one, "category": "free"}):
        refused({"records": [bad]}, 422)
    refused({"records": []}, 422)
    refused({"source": "radius!", "records": [one]}, 422)
    refused({"source": "sms-gw", "records": [{**one, "id": "m-1", "quantity": "5"}]}, 409)
    refused({"records": [one, {**one, "id": "m-10", "service_id": 999_999_999}]}, 404)
    other = metered()  # another reseller (ids are per reseller: its service 1 is its own): our username is not its
    refused({"records": [{"id": "x-1", "username": username, "kind": "sms", "quantity": "1"}]}, 404,
            user_headers(client, db, other.tenant))
    refused({"records": [one]}, 403, user_headers(client, db, m.tenant, role="Readonly"))
    with db.session() as s, tenant_context(m.tenant):
        someone_else = customers.create(s, first_name="Other", last_name="Customer").id
    refused({"records": [one]}, 404, user_headers(client, db, m.tenant, role="Manager",
                                                  allowed_customer_ids=[someone_else]))
    with db.session() as s, tenant_context(m.tenant):  # nothing refused was kept, nothing drawn
        assert s.execute(text("SELECT count(*) FROM usage_records")).scalar_one() == 2
        assert topups.balances(s, m.service_id)["sms"]["remaining"] == Decimal("97")
