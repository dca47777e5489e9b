"""`Idempotency-Key` on the payment POSTs, through the API on the real database: the same key and body
replay the first answer and record nothing more, another body under the key is a 422, concurrent
requests with one key make one payment, errors are not remembered, keys are per caller and expire."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from sqlalchemy import func, select, text

from app.models.billing import IdempotencyKey, Payment
from app.services.billing import idempotency, ledger
from tenants import tenant_context
from tests.billing.test_payments import finance_headers, issue_invoice

URL = "/reseller/api/payments"


def _count(db, tenant) -> int:
    with db.session() as s, tenant_context(tenant):
        return s.execute(select(func.count()).select_from(Payment)).scalar_one()


def test_same_key_same_body_replays_the_answer_and_pays_once(app, db, billable):
    b = billable()
    headers = finance_headers(app, db, b.tenant)
    with db.session() as s, tenant_context(b.tenant):
        issue_invoice(s, b.customer_id, "1000.00")
    client = app.test_client()
    body = {"customer_id": b.customer_id, "amount": "400.00", "method": "cash", "reference": "till 3"}
    keyed = {**headers, "Idempotency-Key": "c0ffee-0001"}
    first = client.post(URL, headers=keyed, json=body)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    # the same body with its keys in another order is the same request
    again = client.post(URL, headers=keyed, json=dict(reversed(list(body.items()))))
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert _count(db, b.tenant) == 1
    with db.session() as s, tenant_context(b.tenant):
        assert ledger.balance(s, b.customer_id) == Decimal("600.00")

    other = client.post(URL, headers=keyed, json={**body, "amount": "450.00"})
    assert other.status_code == 422
    assert other.get_json()["type"] == "/problems/idempotency-key-reused"
    assert other.headers["Content-Type"] == "application/problem+json"
    # without a key, or with another, the same body is a new payment
    assert client.post(URL, headers=headers, json=body).status_code == 201
    assert client.post(URL, headers={**headers, "Idempotency-Key": "c0ffee-0002"}, json=body).status_code == 201
    assert _count(db, b.tenant) == 3


def test_refunds_honour_the_key_too(app, db, billable):
    b = billable()
    headers = finance_headers(app, db, b.tenant)
    client = app.test_client()
    payment = client.post(URL, headers=headers, json={"customer_id": b.customer_id, "amount": "300.00",
                                                      "method": "card"}).get_json()
    keyed = {**headers, "Idempotency-Key": "refund-1"}
    answers = [client.post(f"{URL}/{payment['id']}/refunds", headers=keyed, json={"amount": "100.00", "reason": "x"})
               for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert len({a.get_json()["id"] for a in answers}) == 1
    assert client.get(f"{URL}/{payment['id']}", headers=headers).get_json()["refunded_amount"] == "100.00"


def test_concurrent_requests_with_one_key_make_one_payment(app, db, billable):
    b = billable()
    headers = {**finance_headers(app, db, b.tenant), "Idempotency-Key": "race-1"}
    body = {"customer_id": b.customer_id, "amount": "75.00", "method": "wallet"}

    def post(_):
        response = app.test_client().post(URL, headers=headers, json=body)
        return response.status_code, response.get_json()["id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(post, range(16)))
    assert {status for status, _ in answers} == {201}
    assert len({payment_id for _, payment_id in answers}) == 1
    assert _count(db, b.tenant) == 1


def test_an_error_is_not_remembered_so_the_fixed_request_may_reuse_the_key(app, db, billable):
    b = billable()
    headers = {**finance_headers(app, db, b.tenant), "Idempotency-Key": "fix-me"}
    client = app.test_client()
    bad = client.post(URL, headers=headers, json={"customer_id": b.customer_id, "amount": "1.001", "method": "cash"})
    assert bad.status_code == 422
    good = client.post(URL, headers=headers, json={"customer_id": b.customer_id, "amount": "1.00", "method": "cash"})
    assert good.status_code == 201
    assert client.post(URL, headers={**headers, "Idempotency-Key": "x" * 201},
                       json={"customer_id": b.customer_id, "amount": "1.00", "method": "cash"}).status_code == 422


def test_keys_are_per_caller_and_expire_after_a_day(app, db, billable):
    b = billable()
    alice = {**finance_headers(app, db, b.tenant), "Idempotency-Key": "shared"}
    bob = {**finance_headers(app, db, b.tenant), "Idempotency-Key": "shared"}
    client = app.test_client()
    body = {"customer_id": b.customer_id, "amount": "5.00", "method": "cash"}
    one = client.post(URL, headers=alice, json=body).get_json()
    two = client.post(URL, headers=bob, json=body).get_json()
    assert one["id"] != two["id"]
    with db.session() as s, tenant_context(b.tenant):
        s.execute(text("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'"))
    three = client.post(URL, headers=alice, json={**body, "amount": "6.00"})  # a day later: a fresh key
    assert three.status_code == 201 and three.get_json()["id"] not in (one["id"], two["id"])
    with db.session() as s, tenant_context(b.tenant):
        s.execute(text("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'"))
        assert idempotency.purge_expired(s) == 2
        assert s.execute(select(func.count()).select_from(IdempotencyKey)).scalar_one() == 0
