"""Top-ups a customer buys for themselves: only the reseller's bundles at the reseller's prices, paid from
a balance that covers them (never into debt), bought once per reference; the buckets in the order they
are drawn; emergency credit where the reseller grants it."""

from decimal import Decimal

from sqlalchemy import func, select

from app.models.billing import Invoice, UsageBucket
from app.services.billing import allocation, topups
from app.services.settings import put_setting
from tenants import tenant_context
from tests.portal_api.conftest import api_key, pay, reseller_admin

BUNDLES = [
    {"code": "DATA-5GB", "name": "5 GB for 30 days", "kind": "data", "amount": "5120", "price": "500.00",
     "validity_days": 30},
    {"code": "SMS-100", "name": "100 SMS", "kind": "sms", "amount": "100", "price": "50.00", "source": "addon"},
]


def _offer(client, db, p, bundles=BUNDLES):
    answer = client.put("/reseller/api/topup-bundles", headers=reseller_admin(client, db, p),
                        json={"bundles": bundles})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def _buckets(db, p, source="topup"):
    with db.session() as s, tenant_context(p.tenant):
        return s.execute(select(UsageBucket).where(UsageBucket.service_id == p.service_id,
                                                   UsageBucket.source == source)).scalars().all()


def _credit(db, p) -> Decimal:
    with db.session() as s, tenant_context(p.tenant):
        return allocation.credit(s, p.customer_id)


def _invoices(db, p) -> int:
    with db.session() as s, tenant_context(p.tenant):
        return s.execute(select(func.count()).select_from(Invoice)).scalar_one()


def test_the_reseller_offers_bundles_and_the_customer_sees_them(client, db, portal):
    p = portal()
    assert client.get("/portal/api/topup-bundles", headers=p.headers).get_json() == []  # nothing until offered
    offered = _offer(client, db, p)
    assert [(b["code"], b["price"], b["source"]) for b in offered] == [("DATA-5GB", "500.00", "topup"),
                                                                      ("SMS-100", "50.00", "addon")]
    seen = client.get("/portal/api/topup-bundles", headers=p.headers).get_json()
    assert seen == offered and seen[0]["amount"] == "5120.000" and seen[0]["validity_days"] == 30
    admin = reseller_admin(client, db, p)
    for bad in ([{**BUNDLES[0], "price": "0"}], [BUNDLES[0], {**BUNDLES[1], "code": "data-5gb"}],
                [{**BUNDLES[0], "amount": "-5"}], [{**BUNDLES[0], "price": 500.5}], [{**BUNDLES[0], "code": "a b"}]):
        answer = client.put("/reseller/api/topup-bundles", headers=admin, json={"bundles": bad})
        assert answer.status_code == 422, bad
    assert client.get("/portal/api/topup-bundles", headers=p.headers).get_json() == offered  # nothing half-kept
    assert client.put("/reseller/api/topup-bundles", headers=p.headers, json={"bundles": []}).status_code == 403
    assert client.get("/reseller/api/topup-bundles", headers=admin).get_json() == offered


def test_a_bundle_is_bought_from_a_balance_that_covers_it(client, db, portal):
    p = portal()
    _offer(client, db, p)
    short = client.post(f"/portal/api/services/{p.service_id}/topups", headers=p.headers, json={"bundle": "DATA-5GB"})
    assert short.status_code == 409 and short.get_json()["type"].endswith("/insufficient-balance")
    assert short.get_json()["shortfall"] == "500.00"
    assert _buckets(db, p) == [] and _invoices(db, p) == 0  # nothing bought, nothing owed

    pay(db, p, "600.00", method="mpesa")
    bought = client.post(f"/portal/api/services/{p.service_id}/topups", headers=p.headers,
                         json={"bundle": "data-5gb", "reference": "order-1"})
    assert bought.status_code == 201, bought.get_json()
    found = bought.get_json()
    assert found["created"] is True and found["bucket"]["kind"] == "data" and found["bucket"]["total"] == "5120.000"
    assert found["bucket"]["weight"] == 20 and found["bucket"]["expires_at"] is not None
    assert _credit(db, p) == Decimal("100.00")
    invoice = client.get(f"/portal/api/invoices/{found['invoice_id']}", headers=p.headers).get_json()
    assert invoice["status"] == "Paid" and invoice["total"] == "500.00"

    again = client.post(f"/portal/api/services/{p.service_id}/topups", headers=p.headers,
                        json={"bundle": "DATA-5GB", "reference": "order-1"})
    assert again.status_code == 201 and again.get_json()["created"] is False
    assert len(_buckets(db, p)) == 1 and _credit(db, p) == Decimal("100.00")  # charged once
    assert client.post(f"/portal/api/services/{p.service_id}/topups", headers=p.headers,
                       json={"bundle": "DATA-5GB"}).status_code == 409  # 100.00 left does not cover 500.00


def test_an_idempotency_key_buys_once(client, db, portal):
    p = portal()
    _offer(client, db, p)
    pay(db, p, "2000.00")
    keyed = {**p.headers, "Idempotency-Key": "a7f1c3e0-portal-topup"}
    first = client.post(f"/portal/api/services/{p.service_id}/topups", headers=keyed, json={"bundle": "SMS-100"})
    second = client.post(f"/portal/api/services/{p.service_id}/topups", headers=keyed, json={"bundle": "SMS-100"})
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true" and second.get_json() == first.get_json()
    assert len(_buckets(db, p, "addon")) == 1 and _credit(db, p) == Decimal("1950.00")


def test_only_the_resellers_bundles_and_only_the_customers_services(client, db, portal):
    p = portal()
    _offer(client, db, p)
    pay(db, p, "5000.00")
    for body in ({"bundle": "FREE-DATA"}, {"bundle": "DATA-5GB", "price": "1.00"},
                 {"bundle": "DATA-5GB", "pay_with": "account"}, {"bundle": "DATA-5GB", "amount": "999999"}):
        answer = client.post(f"/portal/api/services/{p.service_id}/topups", headers=p.headers, json=body)
        assert answer.status_code in (404, 422), body
    assert client.post(f"/portal/api/services/{p.other_service_id}/topups", headers=p.headers,
                       json={"bundle": "DATA-5GB"}).status_code == 404
    assert client.post(f"/portal/api/services/{p.service_id}/topups", headers=api_key(client, p, "read"),
                       json={"bundle": "DATA-5GB"}).status_code == 403
    assert _buckets(db, p) == [] and _credit(db, p) == Decimal("5000.00")


def test_the_wallet_pays_all_or_nothing(client, db, portal):
    p = portal()
    _offer(client, db, p, [*BUNDLES, {"code": "CREDIT-100", "name": "100 KES credit", "kind": "money",
                                      "amount": "100.00", "price": "100.00"}])
    pay(db, p, "100.00")
    credit = client.post(f"/portal/api/services/{p.service_id}/topups", headers=p.headers,
                         json={"bundle": "CREDIT-100"})
    assert credit.status_code == 201 and credit.get_json()["bucket"]["kind"] == "money"
    sms = client.post(f"/portal/api/services/{p.service_id}/topups", headers=p.headers,
                      json={"bundle": "SMS-100", "pay_with": "wallet"})
    assert sms.status_code == 201 and sms.get_json()["from_wallet"] == "50.00" and sms.get_json()["invoice_id"] is None
    data = client.post(f"/portal/api/services/{p.service_id}/topups", headers=p.headers,
                       json={"bundle": "DATA-5GB", "pay_with": "wallet"})
    assert data.status_code == 409  # 50.00 left: not enough, so nothing is drawn and nothing bought
    assert [b.kind for b in _buckets(db, p)] == ["money"]
    with db.session() as s, tenant_context(p.tenant):
        money = next(b for b in topups.service_balances(s, p.service_id)["balances"] if b["kind"] == "money")
    assert money["remaining"] == Decimal("50.00")


def test_the_buckets_in_the_order_they_are_drawn(client, db, portal):
    p = portal()
    _offer(client, db, p)
    pay(db, p, "1000.00")
    client.post(f"/portal/api/services/{p.service_id}/topups", headers=p.headers, json={"bundle": "DATA-5GB"})
    with db.session() as s, tenant_context(p.tenant):
        topups.buy(s, p.service_id, kind="data", amount="1024", price="0", source="promotion")
    found = client.get(f"/portal/api/services/{p.service_id}/balances", headers=p.headers).get_json()
    data = [(b["source"], b["weight"]) for b in found["buckets"] if b["kind"] == "data"]
    assert data == [("promotion", 10), ("topup", 20)]
    assert next(b for b in found["balances"] if b["kind"] == "data")["remaining"] == "6144.000"
    assert all("reference" not in b for b in found["buckets"])
    assert client.get(f"/portal/api/services/{p.other_service_id}/balances", headers=p.headers).status_code == 404


def test_emergency_credit_where_the_reseller_grants_it(client, db, portal):
    p = portal()
    offer = client.get("/portal/api/emergency-credit", headers=p.headers).get_json()
    assert offer["available"] is True and offer["max"]["data"] == "5120" and offer["hours"] == 48
    lent = client.post(f"/portal/api/services/{p.service_id}/emergency-credit", headers=p.headers,
                       json={"kind": "data"})
    assert lent.status_code == 201 and lent.get_json()["total"] == "5120.000" and lent.get_json()["weight"] == 40
    assert client.post(f"/portal/api/services/{p.service_id}/emergency-credit", headers=p.headers,
                       json={"kind": "sms"}).status_code == 409  # one at a time
    assert client.post(f"/portal/api/services/{p.other_service_id}/emergency-credit", headers=p.headers,
                       json={"kind": "data"}).status_code == 404

    q = portal("PAPIB")
    assert client.post(f"/portal/api/services/{q.service_id}/emergency-credit", headers=q.headers,
                       json={"kind": "data", "amount": "999999"}).status_code == 422  # above the cap
    with db.session() as s, tenant_context(q.tenant):
        put_setting(s, "topups", {"emergency": {"self_service": False}})
    assert client.get("/portal/api/emergency-credit", headers=q.headers).get_json()["available"] is False
    kept = client.post(f"/portal/api/services/{q.service_id}/emergency-credit", headers=q.headers,
                       json={"kind": "data"})
    assert kept.status_code == 409 and _buckets(db, q, "emergency") == []
