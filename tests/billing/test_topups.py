"""Top-ups and buckets on the real database: draw order (lowest weight, then soonest expiry), expired
buckets skipped, concurrent consumption in real threads never overdraws, purchases idempotent by their
reference and audited by the ledger, the wallet, emergency credit and its repayment, and a data top-up
lifting a fair-usage limit at once — but never one dunning holds."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.models.base import utcnow
from app.models.billing import Invoice, UsageBucket
from app.services import services
from app.services.billing import buckets, dunning, ledger, topups
from app.services.errors import Conflict, Invalid
from tenants import tenant_context
from tests.billing.test_dunning import accounts, admin, overdue_invoice, set_policy  # noqa: F401  (fixtures)


def bucket(s, b, kind="data", amount="100", weight=20, expires_in=None, source="topup", **kwargs):
    made, _ = buckets.add(s, customer_id=b.customer_id, service_id=b.service_id, kind=kind, source=source,
                          amount=Decimal(amount), weight=weight,
                          expires_at=utcnow() + expires_in if expires_in is not None else None, **kwargs)
    return made


def remaining(s, bucket_id) -> Decimal:
    return s.execute(select(UsageBucket.remaining).where(UsageBucket.id == bucket_id)).scalar_one()


def test_buckets_are_drawn_lowest_weight_first_then_soonest_expiry_and_expired_ones_are_skipped(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        plan = bucket(s, b, amount="1000", weight=30, source="plan")
        late = bucket(s, b, amount="100", weight=20, expires_in=timedelta(days=30))
        soon = bucket(s, b, amount="100", weight=20, expires_in=timedelta(days=2))
        promo = bucket(s, b, amount="50", weight=10, expires_in=timedelta(days=60))
        expired = bucket(s, b, amount="500", weight=1, expires_in=timedelta(days=-1))
        draw = buckets.consume(s, b.service_id, "data", "220")
        assert draw.taken == [(promo.id, Decimal("50")), (soon.id, Decimal("100")), (late.id, Decimal("70"))]
        assert remaining(s, expired.id) == Decimal("500") and remaining(s, plan.id) == Decimal("1000")
        draw = buckets.consume(s, b.service_id, "data", "2000")
        assert draw.drawn == Decimal("1030") and draw.shortfall == Decimal("970")
        assert buckets.balances(s, b.service_id)["data"]["remaining"] == Decimal("0")
        with pytest.raises(Conflict, match="not enough"):
            buckets.consume(s, b.service_id, "voice", "1", partial=False)


def test_concurrent_consumption_never_overdraws(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        ids = [bucket(s, b, amount="300", weight=w).id for w in (10, 20, 30)]  # 900 MB in three buckets
    drawn: list[Decimal] = []
    errors: list[BaseException] = []
    start = threading.Barrier(12)

    def worker():
        try:
            start.wait()
            for _ in range(10):
                with db.session() as s, tenant_context(b.tenant):
                    drawn.append(buckets.consume(s, b.service_id, "data", "10").drawn)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.session() as s, tenant_context(b.tenant):
        left = [remaining(s, i) for i in ids]
    assert sum(drawn) == Decimal("900") and left == [Decimal("0")] * 3  # 1200 asked, exactly 900 given
    assert len(drawn) == 120


def test_a_top_up_charged_to_the_account_issues_an_invoice_and_is_idempotent(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        first = topups.buy(s, b.service_id, kind="data", amount="5120", price="500.00", validity_days=30,
                           reference="order-1")
        again = topups.buy(s, b.service_id, kind="data", amount="5120", price="500.00", validity_days=30,
                           reference="order-1")
        assert first.created and not again.created and again.bucket.id == first.bucket.id
        assert first.invoice.status == "Issued" and first.invoice.total == Decimal("500.00")
        assert first.bucket.invoice_id == first.invoice.id and first.bucket.weight == 20
        assert s.query(Invoice).filter(Invoice.customer_id == b.customer_id).count() == 1
        assert ledger.balance(s, b.customer_id) == Decimal("500.00")
        assert topups.balances(s, b.service_id)["data"]["remaining"] == Decimal("5120")
        with pytest.raises(Conflict):
            topups.buy(s, b.service_id, kind="voice", amount="10", price="5.00", reference="order-1")


def test_a_top_up_paid_in_cash_is_a_paid_invoice(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        bought = topups.buy(s, b.service_id, kind="sms", amount="100", price="50.00", pay_with="cash")
        s.refresh(bought.invoice)
        assert bought.invoice.status == "Paid" and bought.payment.amount == Decimal("50.00")
        assert ledger.balance(s, b.customer_id) == Decimal("0.00")


def test_prepaid_credit_is_bought_once_and_spent_from_the_wallet_without_touching_the_ledger(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        credit = topups.buy(s, b.service_id, kind="money", amount="200.00", pay_with="mpesa")
        assert credit.invoice.total == Decimal("200.00") and ledger.balance(s, b.customer_id) == Decimal("0.00")
        voice = topups.buy(s, b.service_id, kind="voice", amount="60", price="150.00", pay_with="wallet")
        assert voice.from_wallet == Decimal("150.00") and voice.invoice is None
        assert topups.balances(s, b.service_id)["money"]["remaining"] == Decimal("50.00")
        assert ledger.balance(s, b.customer_id) == Decimal("0.00")
        with pytest.raises(Conflict, match="not enough money"):
            topups.buy(s, b.service_id, kind="voice", amount="60", price="150.00", pay_with="wallet")
        with pytest.raises(Invalid):
            topups.buy(s, b.service_id, kind="money", amount="10.00", pay_with="wallet")


def test_a_data_top_up_lifts_a_fair_usage_limit_at_once(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        services.limit(s, b.service_id, reason=topups.FUP_REASON)
        bought = topups.buy(s, b.service_id, kind="data", amount="1024", price="100.00")
        assert bought.restored and services.get(s, b.service_id).status == "Active"
        assert [h.to_status for h in services.history(s, b.service_id)][-2:] == ["Limited", "Active"]


def test_a_data_top_up_does_not_lift_what_dunning_holds_or_a_limit_for_another_reason(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        set_policy(s, grace_days=0, action="limit")
        overdue_invoice(s, b.customer_id, days=2)
        dunning.run(s)
        assert services.get(s, b.service_id).status == "Limited"
        bought = topups.buy(s, b.service_id, kind="data", amount="1024", price="100.00")
        assert not bought.restored and services.get(s, b.service_id).status == "Limited"
    c = billable()
    with db.session() as s, tenant_context(c.tenant):
        services.limit(s, c.service_id, reason="abuse report")
        assert not topups.buy(s, c.service_id, kind="data", amount="1024", price="100.00").restored


def test_emergency_credit_one_at_a_time_and_repaid_by_the_next_top_up(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        services.limit(s, b.service_id, reason=topups.FUP_REASON)
        loan = topups.grant_emergency(s, b.service_id, kind="data", amount="1000")
        assert loan.source == "emergency" and loan.weight == 40
        assert services.get(s, b.service_id).status == "Active"  # emergency data lifts the FUP limit
        assert loan.expires_at - utcnow() > timedelta(hours=47)
        with pytest.raises(Conflict, match="emergency credit already"):
            topups.grant_emergency(s, b.service_id, kind="voice", amount="10")
        with pytest.raises(Invalid):
            topups.grant_emergency(s, b.service_id, kind="data", amount="999999")
        buckets.consume(s, b.service_id, "data", "600")
        bought = topups.buy(s, b.service_id, kind="data", amount="5000", price="400.00")
        assert bought.repaid_emergency == Decimal("600")
        assert bought.bucket.remaining == Decimal("4400")
        s.refresh(loan)
        assert (loan.total, loan.remaining) == (Decimal("0"), Decimal("0"))
        assert topups.outstanding_emergency(s, b.service_id) == []
        assert topups.grant_emergency(s, b.service_id, kind="voice", amount="10").kind == "voice"


def test_a_small_top_up_repays_part_and_the_rest_stays_owed(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        loan = topups.grant_emergency(s, b.service_id, kind="data", amount="1000")
        buckets.consume(s, b.service_id, "data", "800")
        small = topups.buy(s, b.service_id, kind="data", amount="500", price="50.00")
        assert small.repaid_emergency == Decimal("500") and small.bucket.remaining == Decimal("0")
        assert topups.outstanding_emergency(s, b.service_id)[0]["owed"] == Decimal("300")
        with pytest.raises(Conflict):
            topups.grant_emergency(s, b.service_id, kind="data", amount="100")
        assert topups.buy(s, b.service_id, kind="data", amount="1000", price="90.00").repaid_emergency == Decimal("300")
        s.refresh(loan)
        assert (loan.total, loan.remaining) == (Decimal("0"), Decimal("0"))


def test_top_ups_are_refused_on_a_terminated_service(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        services.terminate(s, b.service_id, reason="moved away")
        with pytest.raises(Conflict):
            topups.buy(s, b.service_id, kind="data", amount="1024", price="100.00")


# -- the API ---------------------------------------------------------------------------------------------

def test_buying_through_the_api_is_idempotent_and_shows_in_the_balances(client, db, admin):  # noqa: F811
    b, headers = admin
    url = f"/reseller/api/services/{b.service_id}/topups"
    body = {"kind": "data", "amount": "5120", "price": "500.00", "validity_days": 30, "pay_with": "mpesa"}
    keyed = {**headers, "Idempotency-Key": "topup-7f3a"}
    first = client.post(url, headers=keyed, json=body)
    assert first.status_code == 201, first.get_json()
    bought = first.get_json()
    assert bought["created"] and bought["invoice_number"] and bought["payment_id"]
    assert bought["bucket"]["remaining"] == "5120.000" and bought["bucket"]["weight"] == 20
    again = client.post(url, headers=keyed, json=body)
    assert again.status_code == 201 and again.get_json() == bought
    assert client.post(url, headers=keyed, json={**body, "amount": "1024"}).status_code == 422  # key reused
    by_reference = {**body, "reference": "ORDER-1"}
    one = client.post(url, headers=headers, json=by_reference).get_json()
    two = client.post(url, headers=headers, json=by_reference).get_json()
    assert one["created"] and not two["created"] and one["bucket"]["id"] == two["bucket"]["id"]

    balances = client.get(f"/reseller/api/services/{b.service_id}/balances", headers=headers).get_json()
    data = next(x for x in balances["balances"] if x["kind"] == "data")
    assert data["remaining"] == "10240.000" and data["buckets"] == 2 and balances["emergency"] == []
    listed = client.get(f"/reseller/api/services/{b.service_id}/buckets?kind=data", headers=headers).get_json()
    assert len(listed) == 2
    with db.session() as s, tenant_context(b.tenant):
        assert ledger.balance(s, b.customer_id) == Decimal("0.00")  # both invoices paid by their payments


def test_bad_top_ups_and_emergency_credit_through_the_api(client, admin):  # noqa: F811
    b, headers = admin
    url = f"/reseller/api/services/{b.service_id}/topups"
    for bad in ({"kind": "data", "amount": 5.5, "price": "1.00"}, {"kind": "data", "amount": "-1", "price": "1"},
                {"kind": "data", "amount": "100"}, {"kind": "gold", "amount": "1", "price": "1"},
                {"kind": "voice", "amount": "10", "price": "1.001"}):
        refused = client.post(url, headers=headers, json=bad)
        assert refused.status_code == 422, bad
        assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert client.post("/reseller/api/services/999999/topups", headers=headers,
                       json={"kind": "data", "amount": "1", "price": "1"}).status_code == 404
    loan = f"/reseller/api/services/{b.service_id}/emergency-credit"
    lent = client.post(loan, headers=headers, json={"kind": "data", "amount": "1024", "hours": 24})
    assert lent.status_code == 201 and lent.get_json()["source"] == "emergency"
    again = client.post(loan, headers=headers, json={"kind": "voice", "amount": "10"})
    assert again.status_code == 409 and again.headers["Content-Type"].startswith("application/problem+json")
    owed = client.get(f"/reseller/api/services/{b.service_id}/balances", headers=headers).get_json()["emergency"]
    assert owed[0]["owed"] == "0.000" and owed[0]["remaining"] == "1024.000"
