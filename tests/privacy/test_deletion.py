"""Deleting an account: the customer asks with their password again (a wrong one refused and logged, too many
stopped), once at a time, told by e-mail; the reseller sees the request and the services in its way; an
approval is refused while a service lives; approved, the personal data is erased and every session ends, while
invoices, payments and the ledger stay (and the ledger audit still agrees), the customer becomes Inactive, the
last e-mail goes out and is scrubbed once delivered; a customer with nothing financial is deleted outright;
declined with a reason the customer is told; withdrawn by the customer; never by support staff signed in as
the customer or with an API key; another customer, another reseller and a user who may not see the customer
all meet a 404."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from app.models import ActivityEvent, ApiKey, AuthSession, Customer, LoginEvent, Outbox, PortalAccount
from app.models.billing import Invoice, LedgerEntry, Payment, PaymentMethod
from app.models.customers import Contact
from app.models.privacy import ConsentEvent, DeletionRequest
from app.services import contacts, customers, services
from app.services.auth import users
from app.services.billing import ledger, payment_methods
from tenants import tenant_context
from tests.auth.conftest import PASSWORD
from tests.notifications.conftest import RunningWorker, mail_broker, smtp_server  # noqa: F401  (fixtures)
from tests.privacy.conftest import api_key, impersonate, invoice, pay, reseller_admin
from tests.web.test_email_links import _check as check_links

ASK = "/portal/api/privacy/deletion-request"
REQUESTS = "/reseller/api/privacy/deletion-requests"


def _ask(client, p, password: str = PASSWORD, **body):
    return client.post(ASK, json={"password": password, **body}, headers=p.headers)


def _terminate(db, p, service_id: int | None = None) -> None:
    with db.session() as s, tenant_context(p.tenant):
        services.terminate(s, service_id or p.service_id, reason="the customer is leaving")


def _mails(db, p, template: str) -> list[Outbox]:
    with db.session() as s, tenant_context(p.tenant):
        return list(s.execute(select(Outbox).where(Outbox.template == f"privacy/{template}")
                              .order_by(Outbox.id)).scalars())


def _count(db, p, model, **where) -> int:
    with db.session() as s, tenant_context(p.tenant):
        return s.execute(select(func.count()).select_from(model).filter_by(**where)).scalar_one()


def test_the_customer_asks_with_their_password_and_the_reseller_sees_what_stands_in_the_way(client, db, portal):
    p = portal()
    wrong = _ask(client, p, "Wrong#Pass1")
    assert wrong.status_code == 422 and wrong.get_json()["field"] == "password"
    assert _count(db, p, DeletionRequest) == 0
    assert _count(db, p, ActivityEvent, customer_id=p.customer_id, action="privacy.deletion_refused") == 1
    asked = _ask(client, p, reason="Moving abroad")
    assert asked.status_code == 201, asked.get_json()
    body = asked.get_json()
    assert body["status"] == "Requested" and body["reason"] == "Moving abroad"
    assert [s["id"] for s in body["live_services"]] == [p.service_id]
    assert {k["key"] for k in body["kept"]} >= {"financial", "portal_id"}
    assert [e["to_status"] for e in body["history"]] == ["Requested"]
    again = _ask(client, p)
    assert again.status_code == 409 and again.get_json()["type"] == "/problems/deletion-already-requested"
    [mail] = _mails(db, p, "deletion_requested")
    assert mail.to_address == p.email and "withdraw" in mail.body_text
    check_links(client, [mail], "Withdraw my request", p.host)  # its link opens the request's own page

    admin = reseller_admin(client, db, p)
    listed = client.get(REQUESTS, headers=admin).get_json()
    assert listed["total"] == 1 and listed["items"][0]["portal_id"] == p.portal_id
    assert listed["items"][0]["live_services"][0]["id"] == p.service_id
    assert client.get(f"{REQUESTS}?status=Approved", headers=admin).get_json()["total"] == 0


def test_wrong_passwords_are_limited(client, db, portal):
    p = portal()
    for _ in range(5):
        assert _ask(client, p, "Wrong#Pass1").status_code == 422
    assert _ask(client, p).status_code == 429  # even the right one, for the rest of the half hour
    assert _count(db, p, DeletionRequest) == 0


def test_approval_is_refused_while_a_service_lives_and_nothing_is_erased(client, db, portal):
    p = portal()
    request_id = _ask(client, p).get_json()["id"]
    admin = reseller_admin(client, db, p)
    refused = client.post(f"{REQUESTS}/{request_id}/approve", json={}, headers=admin)
    assert refused.status_code == 409 and refused.get_json()["type"] == "/problems/services-not-terminated"
    assert refused.get_json()["services"][0]["id"] == p.service_id
    assert client.get(f"{REQUESTS}/{request_id}", headers=admin).get_json()["status"] == "Requested"
    assert client.get("/portal/api/profile", headers=p.headers).get_json()["email"] == p.email


def test_approval_erases_the_person_ends_every_session_and_keeps_the_financial_records(
        app, client, db, portal, mail_broker, smtp_server):  # noqa: F811
    p = portal()
    invoice(db, p, "1000.00")
    pay(db, p, "1000.00")
    with db.session() as s, tenant_context(p.tenant):
        contacts.create(s, p.customer_id, {"name": "Wanjiku Mwangi", "phone": "+254722000111"})
        payment_methods.add(s, p.customer_id, kind="card", token="pm_to_forget", brand="visa", last4="4242",
                            expiry_month=12, expiry_year=2030)
        customers.update(s, p.customer_id, {"national_id": "12345678", "address": "Moi Avenue 1",
                                             "latitude": Decimal("-1.28"), "longitude": Decimal("36.82")})
    client.put("/portal/api/privacy/consents", json={"marketing_email": True}, headers=p.headers)
    key = api_key(client, p, "read")
    request_id = _ask(client, p, reason="Moving abroad").get_json()["id"]
    _terminate(db, p)
    before = {m: _count(db, p, m, customer_id=p.customer_id) for m in (Invoice, Payment, LedgerEntry)}

    admin = reseller_admin(client, db, p)
    done = client.post(f"{REQUESTS}/{request_id}/approve", json={"note": "done as asked"}, headers=admin)
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["status"] == "Approved" and body["outcome"] == "anonymised" and body["reason"] is None
    assert [e["to_status"] for e in body["history"]] == ["Requested", "Approved"]

    with db.session() as s, tenant_context(p.tenant):
        person = s.get(Customer, p.customer_id)
        assert person.status == "Inactive" and person.portal_id == p.portal_id
        assert all(getattr(person, f) is None for f in ("first_name", "last_name", "email", "phone", "national_id",
                                                        "address", "latitude", "longitude", "mpesa_number"))
        assert person.display_name == p.portal_id
        account = s.get(PortalAccount, p.customer_id)
        assert account.password_hash is None and account.is_active is False
        assert ledger.audit(s) == []
        assert s.execute(select(DeletionRequest.kept).where(DeletionRequest.id == request_id)).scalar_one()
    assert {m: _count(db, p, m, customer_id=p.customer_id) for m in (Invoice, Payment, LedgerEntry)} == before
    for model, where in ((Contact, {"customer_id": p.customer_id}), (ApiKey, {"customer_id": p.customer_id}),
                         (PaymentMethod, {"customer_id": p.customer_id}),
                         (AuthSession, {"principal_kind": "customer", "principal_id": p.customer_id}),
                         (LoginEvent, {"principal_kind": "customer", "principal_id": p.customer_id})):
        assert _count(db, p, model, **where) == 0, model.__tablename__
    assert _count(db, p, ConsentEvent, customer_id=p.customer_id) == 1  # the proof of what was agreed stays
    assert client.get("/portal/api/profile", headers=p.headers).status_code == 401  # every session has ended
    assert client.get("/portal/api/profile", headers=key).status_code == 401
    assert client.post("/portal/auth/login", json={"portal_id": p.portal_id, "password": PASSWORD},
                       headers={"Host": p.host}).status_code == 401
    invoice_pdf = client.get("/reseller/api/invoices", headers=admin).get_json()
    assert invoice_pdf["total"] >= 1  # the reseller still has its invoices

    [earlier] = _mails(db, p, "deletion_requested")
    assert earlier.to_address == "[removed]" and p.email not in earlier.body_text
    [last] = _mails(db, p, "deletion_approved")
    assert last.to_address == p.email and "What is kept" in last.body_text
    from app.services.privacy import housekeeping

    with db.session() as s, tenant_context(p.tenant):
        assert housekeeping.sweep(s)["scrubbed"] == 0  # not delivered yet: kept until it is
    sender = RunningWorker(mail_broker)  # the real worker delivers it to the test's SMTP server
    sender.worker.start()
    try:
        sender.drain()
    finally:
        sender.worker.stop()
    [delivered] = smtp_server.inbox.to(p.email)
    assert "deleted" in delivered["Subject"]
    with db.session() as s, tenant_context(p.tenant):
        assert housekeeping.sweep(s)["scrubbed"] == 1
    [last] = _mails(db, p, "deletion_approved")
    assert last.status == "sent" and last.to_address == "[removed]" and p.email not in last.body_text


def test_a_customer_with_nothing_financial_is_deleted_outright(client, db, portal):
    p = portal()
    with db.session() as s, tenant_context(p.tenant):
        lone = customers.create(s, first_name="Neema", last_name="Otieno", email="neema@example.com")
        users.set_portal_password(s, lone.id, PASSWORD)
        lone_id, lone_portal = lone.id, lone.portal_id
    token = client.post("/portal/auth/login", json={"portal_id": lone_portal, "password": PASSWORD},
                        headers={"Host": p.host}).get_json()["token"]
    theirs = {"Authorization": f"Bearer {token}", "Host": p.host}
    client.put("/portal/api/privacy/consents", json={"marketing_sms": True}, headers=theirs)
    request_id = client.post(ASK, json={"password": PASSWORD}, headers=theirs).get_json()["id"]
    admin = reseller_admin(client, db, p)
    done = client.post(f"{REQUESTS}/{request_id}/approve", json={}, headers=admin).get_json()
    assert done["outcome"] == "deleted" and done["portal_id"] == lone_portal
    with db.session() as s, tenant_context(p.tenant):
        assert s.get(Customer, lone_id) is None
    assert _count(db, p, ConsentEvent, customer_id=lone_id) == 0
    assert client.get(f"{REQUESTS}/{request_id}", headers=admin).get_json()["status"] == "Approved"


def test_a_declined_request_tells_the_customer_why_and_they_may_ask_again(app, client, db, portal):
    p = portal()
    request_id = _ask(client, p).get_json()["id"]
    admin = reseller_admin(client, db, p)
    assert client.post(f"{REQUESTS}/{request_id}/decline", json={}, headers=admin).status_code == 422
    assert client.post(f"{REQUESTS}/{request_id}/decline", json={"reason": " "}, headers=admin).status_code == 422
    declined = client.post(f"{REQUESTS}/{request_id}/decline", json={"reason": "An unpaid balance is open"},
                           headers=admin)
    assert declined.status_code == 200 and declined.get_json()["status"] == "Declined"
    assert client.post(f"{REQUESTS}/{request_id}/approve", json={}, headers=admin).status_code == 409
    mine = client.get(ASK, headers=p.headers).get_json()
    assert mine["status"] == "Declined" and mine["decision_note"] == "An unpaid balance is open"
    [mail] = _mails(db, p, "deletion_declined")
    assert "An unpaid balance is open" in mail.body_text
    reader = app.test_client()  # the customer, reading the e-mail in their own browser
    assert reader.post("/portal/auth/login", json={"portal_id": p.portal_id, "password": PASSWORD},
                       headers={"Host": p.host}).status_code == 200
    check_links(reader, [mail], "An unpaid balance is open", p.host)
    assert _ask(client, p).status_code == 201


def test_the_customer_withdraws_a_waiting_request(client, db, portal):
    p = portal()
    request_id = _ask(client, p).get_json()["id"]
    withdrawn = client.post(f"{ASK}/withdraw", headers=p.headers)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "Withdrawn"
    assert client.post(f"{ASK}/withdraw", headers=p.headers).status_code == 404
    admin = reseller_admin(client, db, p)
    assert client.post(f"{REQUESTS}/{request_id}/approve", json={}, headers=admin).status_code == 409
    assert len(_mails(db, p, "deletion_withdrawn")) == 1


def test_support_staff_and_api_keys_cannot_ask_or_withdraw(app, client, db, portal, staff):
    p = portal()
    support = impersonate(app, client, p, staff)
    host = {"Host": p.host}
    assert support.post(ASK, json={"password": PASSWORD}, headers=host).status_code == 403
    write = api_key(client, p, "read_write")
    assert client.post(ASK, json={"password": PASSWORD}, headers=write).status_code == 403
    assert _count(db, p, DeletionRequest) == 0
    _ask(client, p)
    assert support.post(f"{ASK}/withdraw", headers=host).status_code == 403
    assert client.post(f"{ASK}/withdraw", headers=write).status_code == 403
    assert support.get(ASK, headers=host).get_json()["status"] == "Requested"  # they may see it


def test_another_customer_another_reseller_and_a_limited_user_meet_a_404(client, db, portal):
    p = portal()
    request_id = _ask(client, p).get_json()["id"]
    with db.session() as s, tenant_context(p.tenant):
        other_portal_id = customers.get(s, p.other_customer_id).portal_id
    other = client.post("/portal/auth/login", json={"portal_id": other_portal_id, "password": PASSWORD},
                        headers={"Host": p.host}).get_json()["token"]
    assert client.get(ASK, headers={"Authorization": f"Bearer {other}", "Host": p.host}).status_code == 404
    elsewhere = portal("PRIVD")
    their_admin = reseller_admin(client, db, elsewhere)
    assert client.get(REQUESTS, headers=their_admin).get_json()["total"] == 0
    assert client.post(f"{REQUESTS}/{request_id}/approve", json={}, headers=their_admin).status_code == 404
    with db.session() as s, tenant_context(p.tenant):
        users.create_user(s, username="limited@privacy.example", email="limited@privacy.example", role="Admin",
                          password=PASSWORD, allowed_customer_ids=[p.other_customer_id])
    token = client.post("/reseller/auth/login", json={"username": "limited@privacy.example", "password": PASSWORD},
                        headers={"Host": p.host}).get_json()["token"]
    limited = {"Authorization": f"Bearer {token}", "Host": p.host}
    assert client.get(REQUESTS, headers=limited).get_json()["total"] == 0
    assert client.get(f"{REQUESTS}/{request_id}", headers=limited).status_code == 404
    assert client.post(f"{REQUESTS}/{request_id}/approve", json={}, headers=limited).status_code == 404
    with db.session() as s, tenant_context(p.tenant):
        assert s.get(DeletionRequest, request_id).status == "Requested"


def test_reviewing_needs_the_permission_to_delete_customers(client, db, portal):
    p = portal()
    request_id = _ask(client, p).get_json()["id"]
    with db.session() as s, tenant_context(p.tenant):
        users.create_user(s, username="helper@privacy.example", email="helper@privacy.example", role="User",
                          password=PASSWORD)
    token = client.post("/reseller/auth/login", json={"username": "helper@privacy.example", "password": PASSWORD},
                        headers={"Host": p.host}).get_json()["token"]
    helper = {"Authorization": f"Bearer {token}", "Host": p.host}
    assert client.get(REQUESTS, headers=helper).status_code == 403
    assert client.post(f"{REQUESTS}/{request_id}/approve", json={}, headers=helper).status_code == 403
    assert client.get(f"/reseller/api/privacy/customers/{p.customer_id}/consents", headers=helper).status_code == 200
