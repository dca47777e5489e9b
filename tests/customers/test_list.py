"""The customer list: filters, full-text search, sort, keyset pages with totals, and who sees what."""

from datetime import UTC, datetime

import pytest

from app import clock
from app.api.customers.schemas import CustomerSummaryOut, summary
from app.models import Customer
from app.services import customers as service
from app.services.errors import Invalid
from tenants import tenant_context


def _ids(page: dict) -> list[int]:
    return [item["id"] for item in page["items"]]


@pytest.fixture
def people(reseller):
    """A tenant with a handful of varied customers (plus the fixture's own, Wanjiru Mwangi)."""
    r = reseller()
    made = {
        "amina": r.make(first_name="Amina", last_name="Otieno", county="Nairobi", sub_county="Westlands",
                        city="Nairobi", category="residential", status="Active", mpesa_number="0712345678",
                        email="amina.otieno@example.com"),
        "brian": r.make(first_name="Brian", last_name="Kiprono", county="Uasin Gishu", city="Eldoret",
                        category="business", status="Suspended", national_id="30111222"),
        "acme": r.make(kind="company", company_name="Nairobi Hardware Ltd", county="Kiambu", city="Thika",
                       category="business", status="Active"),
        "grace": r.make(first_name="Grace", last_name="Nairobi-Wambui", county="nairobi", sub_county="Kibra",
                        status="Pending"),
        "otieno": r.make(first_name="Otieno", last_name="Kamau", county="Kisumu", status="New",
                         phone="+254 733 000 111"),
    }
    return r, made


def test_filters(people):
    r, c = people

    def ids(**params):
        page = r.get("/customers", **params).get_json()
        assert page["total"] == len(page["items"]), page
        return set(_ids(page))

    assert ids(portal_id=c["brian"].portal_id.lower()) == {c["brian"].id}
    assert ids(status="Active") == {c["amina"].id, c["acme"].id}
    assert ids(status=["Active", "Pending"]) == {c["amina"].id, c["acme"].id, c["grace"].id}
    assert ids(status="Suspended,New") == {c["brian"].id, c["otieno"].id, r.acc.customer_id}
    assert ids(county="NAIROBI") == {c["amina"].id, c["grace"].id}  # whatever case it was typed in
    assert ids(county="nairobi", sub_county="westlands") == {c["amina"].id}
    assert ids(city="eldoret") == {c["brian"].id}
    assert ids(category="Business") == {c["brian"].id, c["acme"].id}
    assert ids(county="Nairobi", status="Active") == {c["amina"].id}
    assert ids(county="Mombasa") == set()
    # name: words of the name only (a Nairobi address is not a name; the company name is)
    assert ids(name="otieno") == {c["amina"].id, c["otieno"].id}
    assert ids(name="nairobi") == {c["acme"].id, c["grace"].id}
    assert ids(name="oti kam") == {c["otieno"].id}
    assert r.get("/customers", status="Approved").status_code == 422


def test_full_text_search(people):
    r, c = people

    def ids(q):
        return set(_ids(r.get("/customers", q=q).get_json()))

    assert ids("amin") == {c["amina"].id}                       # a prefix of a name
    assert ids("AMINA otieno") == {c["amina"].id}               # every word must match
    assert ids("0712345") == {c["amina"].id}                    # M-PESA number as typed locally
    assert ids("2547123") == {c["amina"].id}                    # and in its stored form
    assert ids("amina.otieno@example.com") == {c["amina"].id}   # a whole e-mail address
    assert ids("amina.otieno@exa") == {c["amina"].id}           # part of one
    assert ids("30111222") == {c["brian"].id}                   # national ID
    assert ids(c["brian"].portal_id) == {c["brian"].id}         # Portal ID
    assert ids("254733") == {c["otieno"].id}                    # phone digits
    assert ids("westlands") == {c["amina"].id}                  # location
    assert ids("nairobi") == {c["amina"].id, c["acme"].id, c["grace"].id}
    assert ids("eldoret brian") == {c["brian"].id}
    assert ids("zzz") == set()
    assert len(ids("  ")) == 6                                  # a blank search is no search
    assert ids("!!! ''' & | :*") == set()                       # nothing typed is tsquery syntax
    assert r.get("/customers", q="x" * 201).status_code == 422


def test_created_between(people):
    r, c = people
    r.sql("UPDATE customers SET created_at = :at WHERE id = :i", at=datetime(2026, 3, 1, 12, tzinfo=UTC),
          i=c["brian"].id)
    r.sql("UPDATE customers SET created_at = :at WHERE id = :i", at=datetime(2026, 3, 2, 0, tzinfo=UTC),
          i=c["amina"].id)
    page = r.get("/customers", created_from="2026-03-01", created_to="2026-03-01").get_json()
    assert _ids(page) == [c["brian"].id]  # a date as the upper bound is the whole of that day
    page = r.get("/customers", created_from="2026-03-01T00:00:00Z", created_to="2026-03-02T00:00:00+00:00").get_json()
    assert set(_ids(page)) == {c["brian"].id, c["amina"].id}
    assert r.get("/customers", created_from="yesterday").status_code == 422


def test_sorting(people):
    r, c = people
    everyone = r.get("/customers").get_json()
    assert everyone["sort"] == "-created_at" and everyone["total"] == 6
    newest_first = _ids(everyone)
    assert newest_first == sorted(newest_first, reverse=True)  # made one after another
    by_name = [i["display_name"] for i in r.get("/customers", sort="name").get_json()["items"]]
    assert by_name == ["Amina Otieno", "Brian Kiprono", "Grace Nairobi-Wambui", "Nairobi Hardware Ltd",
                       "Otieno Kamau", "Wanjiru Mwangi"]
    assert [i["display_name"] for i in r.get("/customers", sort="-name").get_json()["items"]] == by_name[::-1]
    portal_ids = [i["portal_id"] for i in r.get("/customers", sort="portal_id").get_json()["items"]]
    assert portal_ids == sorted(portal_ids)
    assert r.get("/customers", sort="email").status_code == 422


@pytest.mark.parametrize("sort", ["-created_at", "name", "-portal_id", "id"])
def test_keyset_pages_neither_skip_nor_repeat_while_customers_are_added(reseller, sort):
    r = reseller()
    names = ["Zawadi", "Baraka", "Mumbua", "Kioko", "Achieng", "Neema", "Tumaini", "Imani", "Jabari", "Pendo",
             "Wairimu", "Otieno", "Faraji", "Halima", "Juma", "Khadija", "Lulu", "Nia", "Rehema", "Sefu",
             "Taji", "Upendo"]
    for n in names:
        r.make(first_name=n, last_name="Test")
    before = r.get("/customers", sort=sort, limit=200).get_json()
    assert before["total"] == 23 and before["next_cursor"] is None
    seen, cursor, pages = [], None, 0
    while True:
        params = {"sort": sort, "limit": 5, **({"cursor": cursor} if cursor else {})}
        page = r.get("/customers", **params).get_json()
        pages += 1
        seen += _ids(page)
        # customers arrive while someone pages: at the front, the back and the middle of every order
        for first in ("Aaron", "Zuberi", "Mwende"):
            r.make(first_name=f"{first}{pages}", last_name="Late")
        cursor = page["next_cursor"]
        if not cursor:
            break
        assert page["total"] >= 23
    original = _ids(before)
    assert len(seen) == len(set(seen)), "a row was repeated"
    assert set(original) <= set(seen), "a row was skipped"
    # the rows that were there all along come in the order of the first listing
    assert [i for i in seen if i in set(original)] == original


def test_cursor_errors(people):
    r, _ = people
    first = r.get("/customers", limit=2).get_json()
    assert first["next_cursor"]
    assert r.get("/customers", limit=2, cursor=first["next_cursor"]).status_code == 200
    wrong_sort = r.get("/customers", limit=2, sort="name", cursor=first["next_cursor"])
    assert wrong_sort.status_code == 422 and wrong_sort.get_json()["errors"] == {"cursor": [
        "not valid for this list and sort"]}
    assert r.get("/customers", cursor="not-a-cursor").status_code == 422
    assert r.get("/customers", limit=0).status_code == 422 and r.get("/customers", limit=201).status_code == 422


def test_list_rows_are_what_the_schema_says(people, db):
    """The list writes its rows by hand for speed: it must give exactly what the declared schema would."""
    r, c = people
    page = r.get("/customers", sort="id").get_json()
    with db.session() as s, tenant_context(r.tenant):
        objects = [s.get(Customer, item["id"]) for item in page["items"]]
        rows = service.list_page(s, service.CustomerFilter(), sort="id").items
    assert page["items"] == [CustomerSummaryOut().dump(o) for o in objects] == [summary(row) for row in rows]


def test_tenants_see_only_their_own(reseller):
    a, b = reseller(), reseller()
    only_in_a = a.make(first_name="Only", last_name="InA", county="Nairobi")
    for _ in range(3):
        a.make()  # A's ids go past anything B has
    page_b = b.get("/customers", q="only").get_json()
    assert page_b["total"] == 0 and page_b["items"] == []
    assert b.get("/customers").get_json()["total"] == 1  # B's own fixture customer
    assert b.get(f"/customers/{only_in_a.id}").status_code == 404
    assert b.get(f"/customers/{only_in_a.id}/history").status_code == 404
    bulk = b.post("/customers/bulk/status", {"ids": [only_in_a.id], "status": "Inactive", "reason": "x"}).get_json()
    assert bulk["results"][0]["outcome"] == "not_found"
    assert a.get(f"/customers/{only_in_a.id}").get_json()["status"] == "New"
    # A's token is refused on B's host altogether
    assert a.client.get("/reseller/api/customers", headers={**a.headers, "Host": b.acc.host}).status_code == 401


def test_a_user_limited_to_some_customers(reseller, db):
    admin = reseller()
    mine, theirs = admin.make(first_name="Mine", last_name="One"), admin.make(first_name="Theirs", last_name="Two")
    from app.services.auth import users

    with db.session() as s, tenant_context(admin.tenant):
        users.create_user(s, username="field@reseller.example", email="field@reseller.example", role="Manager",
                          password="Str0ng#Pass", allowed_customer_ids=[mine.id])
    client = admin.client
    token = client.post("/reseller/auth/login", json={"username": "field@reseller.example",
                                                      "password": "Str0ng#Pass"},
                        headers={"Host": admin.acc.host}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}", "Host": admin.acc.host}
    api = "/reseller/api"

    page = client.get(f"{api}/customers", headers=headers).get_json()
    assert _ids(page) == [mine.id] and page["total"] == 1
    assert client.get(f"{api}/customers", query_string={"q": "theirs"}, headers=headers).get_json()["total"] == 0
    for method, path, body in [("GET", f"/customers/{theirs.id}", None),
                               ("PATCH", f"/customers/{theirs.id}", {"city": "Nairobi"}),
                               ("GET", f"/customers/{theirs.id}/history", None),
                               ("POST", f"/customers/{theirs.id}/status", {"status": "Active", "reason": "x"}),
                               ("POST", f"/customers/{theirs.id}/approve", {}),
                               ("GET", f"/customers/{theirs.id}/contacts", None),
                               ("POST", f"/customers/{theirs.id}/contacts", {"name": "X"})]:
        response = client.open(api + path, method=method, json=body, headers=headers)
        assert response.status_code == 404, (method, path, response.get_json())
    assert client.get(f"{api}/customers/{mine.id}", headers=headers).status_code == 200
    bulk = client.post(f"{api}/customers/bulk/status", json={"filter": {}, "status": "Active", "reason": "go"},
                       headers=headers).get_json()
    assert [(x["id"], x["outcome"]) for x in bulk["results"]] == [(mine.id, "changed")]
    bulk = client.post(f"{api}/customers/bulk/status", json={"ids": [theirs.id], "status": "Active", "reason": "go"},
                       headers=headers).get_json()
    assert bulk["results"][0]["outcome"] == "not_found"
    assert admin.get(f"/customers/{theirs.id}").get_json()["status"] == "New"
    # a contact of a customer the user may not see is not there either
    contact = admin.post(f"/customers/{theirs.id}/contacts", {"name": "Site owner"}).get_json()
    assert client.get(f"{api}/contacts/{contact['id']}", headers=headers).status_code == 404
    assert client.delete(f"{api}/contacts/{contact['id']}", headers=headers).status_code == 404


def test_ids_beyond_bigint_name_nothing(reseller):
    r = reseller()
    huge = 2**64
    for method, path, body in [("GET", f"/customers/{huge}", None), ("DELETE", f"/customers/{huge}", None),
                               ("PATCH", f"/customers/{huge}", {"city": "Nairobi"}),
                               ("POST", f"/customers/{huge}/status", {"status": "Active", "reason": "x"}),
                               ("GET", f"/customers/{huge}/contacts", None), ("GET", f"/contacts/{huge}", None),
                               ("PATCH", f"/contact-types/{huge}", {"name": "X"})]:
        assert r.client.open("/reseller/api" + path, method=method, json=body, headers=r.headers).status_code == 404
    bulk = r.post("/customers/bulk/status", {"ids": [huge], "status": "Active", "reason": "x"})
    assert bulk.status_code == 422
    assert r.post(f"/customers/{r.acc.customer_id}/contacts", {"name": "X", "type_id": huge}).status_code == 422


@pytest.mark.parametrize("payload", [
    {"s": "-created_at", "k": "2026-01-01T00:00:00+00:00", "i": 2**64},
    {"s": "-created_at", "k": "2026-01-01T00:00:00", "i": 1},
    {"s": "-created_at", "k": 12, "i": 1},
    {"s": "-created_at", "k": "2026-01-01T00:00:00+00:00", "i": "1"},
    ["-created_at", "x", 1],
])
def test_forged_cursors_are_refused(reseller, payload):
    import base64
    import json

    r = reseller()
    cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    assert r.get("/customers", cursor=cursor).status_code == 422
    named = {"s": "name", "k": "a\x00b", "i": 1}
    forged = base64.urlsafe_b64encode(json.dumps(named).encode()).decode()
    assert r.get("/customers", sort="name", cursor=forged).status_code == 422
    assert r.get("/customers", county="Nai\x00robi").status_code == 422
    assert r.post("/customers", {"first_name": "Nul\x00", "last_name": "Byte"}).status_code == 422
    assert r.get("/customers", created_to="9999-12-31").status_code == 422


@pytest.fixture
def subscribers(reseller):
    """Customers with services of different kinds and statuses (and the fixture's own, with none)."""
    r = reseller()
    internet, voice = r.plan("internet"), r.plan("voice", wholesale_price="10.00")
    made = {
        "home": r.make(first_name="Home", last_name="Surfer", county="Nairobi"),
        "both": r.make(first_name="Both", last_name="Kinds", county="Nairobi"),
        "left": r.make(first_name="Left", last_name="Voice", county="Kisumu"),
        "waiting": r.make(first_name="Waiting", last_name="Install", county="Nairobi"),
    }
    r.service(made["home"].id, internet, "Active")
    r.service(made["both"].id, internet, "Pending")
    r.service(made["both"].id, voice, "Suspended")
    r.service(made["left"].id, voice, "Terminated")
    r.service(made["waiting"].id, internet, "Pending")
    return r, made


def test_service_type_filter(subscribers):
    r, c = subscribers

    def ids(**params):
        page = r.get("/customers", **params).get_json()
        assert page["total"] == len(page["items"]), page
        return set(_ids(page))

    # a Pending service counts (ordered, about to be installed); a Terminated one does not
    assert ids(service_type="internet") == {c["home"].id, c["both"].id, c["waiting"].id}
    assert ids(service_type="voice") == {c["both"].id}
    assert ids(service_type="recurring") == set()
    # with the other filters and the search
    assert ids(service_type="internet", status="New") == {c["waiting"].id}
    assert ids(service_type="internet", q="surfer") == {c["home"].id}
    assert ids(service_type="voice", county="Kisumu") == set()
    assert len(ids()) == 5  # without it, everyone, with services or not


def test_service_type_filter_pages_with_a_total(subscribers):
    r, c = subscribers
    seen, cursor = [], None
    while True:
        page = r.get("/customers", service_type="internet", sort="name", limit=1,
                     **({"cursor": cursor} if cursor else {})).get_json()
        assert page["total"] == 3
        seen += _ids(page)
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [c["both"].id, c["home"].id, c["waiting"].id]  # Both Kinds, Home Surfer, Waiting Install


def test_an_unknown_service_type_is_refused(subscribers):
    r, _ = subscribers
    refused = r.get("/customers", service_type="fibre")
    assert refused.status_code == 422 and refused.headers["Content-Type"] == "application/problem+json"
    assert "service_type" in refused.get_json()["errors"]["query"]
    with r.db.session() as s, tenant_context(r.tenant), pytest.raises(Invalid, match="service_type must be one of"):
        service.list_page(s, service.CustomerFilter(service_type="fibre"))


def test_payment_status_filter(people, db):
    """Overdue, unpaid and paid read the invoices (here written as the billing service writes them)."""
    from datetime import timedelta
    from decimal import Decimal

    from app.models.billing import Invoice
    from app.services.billing import ledger

    r, c = people
    today = clock.today()
    with db.session() as s, tenant_context(r.acc.tenant):
        for n, (who, due, status) in enumerate([("amina", today - timedelta(days=3), "Issued"),
                                                ("brian", today + timedelta(days=10), "Partially Paid"),
                                                ("acme", today + timedelta(days=10), "Paid")]):
            invoice = Invoice(kind="invoice", series="INV", number=f"T-{n}", status=status,
                              customer_id=c[who].id, currency="KES", total=Decimal("100.00"),
                              amount_paid=Decimal("0.00"), due_on=due, issued_at=clock.now())
            s.add(invoice)
            s.flush()
            ledger.post(s, customer_id=c[who].id, kind="charge", amount=Decimal("100.00"), currency="KES",
                        description="test", invoice_id=invoice.id)

    def ids(status):
        page = r.get("/customers", payment_status=status).get_json()
        return set(_ids(page))

    assert ids("overdue") == {c["amina"].id}
    assert ids("unpaid") == {c["brian"].id}
    assert ids("paid") == {c["acme"].id, c["grace"].id, c["otieno"].id, r.acc.customer_id}
    assert r.get("/customers", payment_status="late").status_code == 422
