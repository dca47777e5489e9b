"""Creating and changing customers: the fields of 001 "Step 1" and 004 "Required Information", their
validation and normalisation, and the reseller's customer limit."""

from decimal import Decimal

import pytest

from app.services.customers import normalise_msisdn

STEP_1 = {  # "Step 1: Basic Information" of 001, as written there
    "customer_type": "person", "first_name": "John", "last_name": "Doe", "email": "John@Example.com",
    "phone": "+1234567890", "address": "123 Main St", "city": "Lagos", "reseller_id": 1,
    "portal_id": "auto-generated", "generate_credentials": True,
}


def test_step_one_json_as_the_journey_writes_it(reseller):
    r = reseller()
    response = r.post("/customers", STEP_1)
    assert response.status_code == 201, response.get_json()
    out = response.get_json()
    prefix = r.tenant.code[:3]
    assert out["portal_id"].startswith(prefix) and out["portal_id"] != "auto-generated"
    assert out["email"] == "john@example.com" and out["display_name"] == "John Doe"
    assert out["status"] == "New" and out["customer_type"] == "person"
    assert out["extra"] == {"onboarding": {"generate_credentials": True}}  # for the access set-up step
    assert r.get(f"/customers/{out['id']}").get_json() == out


def test_person_with_every_required_field_of_004(reseller):
    r = reseller()
    body = {"first_name": "  Wanjiru ", "last_name": "Kamau", "email": "wanjiru@example.co.ke",
            "phone": "0722 000 111", "national_id": " 2345 6789 ", "address": "Plot 12,  Ngong Road",
            "city": "Nairobi", "county": "Nairobi", "sub_county": "Dagoretti North", "postal_code": "00100",
            "latitude": "-1.29206612", "longitude": 36.8219451, "mpesa_number": "+254 712-345-678",
            "category": "residential", "billing_day": 5, "payment_method": "mpesa", "deposit": "1500.00",
            "credit_limit": 2500.5}
    out = r.post("/customers", body).get_json()
    assert out["first_name"] == "Wanjiru" and out["address"] == "Plot 12, Ngong Road"
    assert out["national_id"] == "23456789" and out["phone"] == "0722000111"
    assert out["mpesa_number"] == "254712345678"
    assert (out["latitude"], out["longitude"]) == ("-1.292066", "36.821945")  # 6 decimals, half-up
    assert (out["deposit"], out["credit_limit"]) == ("1500.00", "2500.50")  # money as strings
    assert out["billing_day"] == 5 and out["payment_method"] == "mpesa" and out["sub_county"] == "Dagoretti North"
    rows = r.sql("SELECT deposit, credit_limit, latitude FROM customers WHERE id = :i", i=out["id"])
    assert rows[0] == (Decimal("1500.00"), Decimal("2500.50"), Decimal("-1.292066"))


def test_company(reseller):
    r = reseller()
    out = r.post("/customers", {"customer_type": "company", "company_name": "Acme Hardware Ltd",
                                "email": "accounts@acme.example", "mpesa_number": "0110123456"}).get_json()
    assert out["display_name"] == "Acme Hardware Ltd" and out["customer_type"] == "company"
    assert out["mpesa_number"] == "254110123456" and out["first_name"] is None
    missing = r.post("/customers", {"customer_type": "company", "first_name": "No", "last_name": "Company"})
    assert missing.status_code == 422 and "company_name" in missing.get_json()["errors"]


def test_shape_errors_name_their_fields(reseller):
    r = reseller()
    response = r.post("/customers", {**STEP_1, "email": "not-an-email", "billing_day": 31, "nickname": "JD",
                                     "portal_id": "ABC999999", "customer_type": "robot", "deposit": "lots"})
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["type"] == "/problems/validation"
    assert set(problem["errors"]["json"]) == {"email", "billing_day", "nickname", "portal_id", "customer_type",
                                              "deposit"}


def test_rule_errors_name_their_fields(reseller):
    r = reseller()
    response = r.post("/customers", {"first_name": "Only", "mpesa_number": "0812345678", "latitude": "-1.29",
                                     "deposit": "10.005", "credit_limit": "-1", "national_id": "#1",
                                     "phone": "call me"})
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["type"] == "/problems/invalid"
    assert set(problem["errors"]) == {"last_name", "mpesa_number", "longitude", "deposit", "credit_limit",
                                      "national_id", "phone"}
    assert "2 decimal places" in problem["errors"]["deposit"][0]
    huge = r.post("/customers", {"first_name": "Rich", "last_name": "Person", "deposit": 1.0088188714787626e+280,
                                 "latitude": "1e300", "longitude": "-1e300"})
    assert huge.status_code == 422 and set(huge.get_json()["errors"]) == {"deposit", "latitude", "longitude"}
    assert r.get("/customers").get_json()["total"] == 1  # only the fixture's customer: nothing was created


@pytest.mark.parametrize("typed, stored", [
    ("0712345678", "254712345678"), ("712345678", "254712345678"), ("+254712345678", "254712345678"),
    ("254712345678", "254712345678"), ("0712 345 678", "254712345678"), ("(0712) 345-678", "254712345678"),
    ("00254712345678", "254712345678"), ("0110123456", "254110123456"), ("+254 110 123 456", "254110123456"),
    ("0100123456", "254100123456"),
])
def test_mpesa_numbers_are_normalised(typed, stored):
    assert normalise_msisdn(typed) == stored


@pytest.mark.parametrize("typed", ["0812345678", "071234567", "07123456789", "+255712345678", "2547123456789",
                                   "0712-345-67x", "", "0212345678"])
def test_mpesa_numbers_that_are_not_kenyan_mobiles(typed):
    with pytest.raises(ValueError):
        normalise_msisdn(typed)


def test_update(reseller):
    r = reseller()
    made = r.create(mpesa_number="0712345678", county="Kiambu")
    changed = r.patch(f"/customers/{made['id']}", {"mpesa_number": "0799 000 111", "county": "Nairobi",
                                                   "credit_limit": None, "billing_day": 28})
    assert changed.status_code == 200, changed.get_json()
    out = changed.get_json()
    assert out["mpesa_number"] == "254799000111" and out["county"] == "Nairobi" and out["billing_day"] == 28
    assert out["portal_id"] == made["portal_id"] and out["status"] == "New"
    # the rules read the whole customer: a company needs its name, a person their names
    bad = r.patch(f"/customers/{made['id']}", {"customer_type": "company"})
    assert bad.status_code == 422 and "company_name" in bad.get_json()["errors"]
    assert r.patch(f"/customers/{made['id']}", {"portal_id": "X1"}).status_code == 422
    assert r.patch(f"/customers/{made['id']}", {"status": "Active"}).status_code == 422  # status has its endpoint
    assert r.patch(f"/customers/{made['id']}", {"latitude": "1.5"}).status_code == 422  # pairs only
    # `extra` merges: what onboarding keeps survives a form's own data
    extra = r.patch(f"/customers/{made['id']}", {"extra": {"crm_id": "C-77", "note": "gate code 1234"}}).get_json()
    assert extra["extra"] == {"onboarding": {"generate_credentials": False}, "crm_id": "C-77", "note": "gate code 1234"}
    extra = r.patch(f"/customers/{made['id']}", {"extra": {"note": None}}).get_json()["extra"]
    assert extra == {"onboarding": {"generate_credentials": False}, "crm_id": "C-77"}
    events = r.sql("SELECT action, detail FROM activity_log WHERE customer_id = :i ORDER BY id", i=made["id"])
    assert [e[0] for e in events] == ["customer.created"] + ["customer.updated"] * 3
    assert events[1][1]["fields"] == ["billing_day", "county", "mpesa_number"]  # credit_limit was None already


def test_customer_limit(reseller):
    r = reseller()  # the fixture's tenant has one customer already
    r.set_limit(2)
    second = r.create()
    refused = r.post("/customers", {"first_name": "Three", "last_name": "Many"})
    assert refused.status_code == 409
    problem = refused.get_json()
    assert problem["type"] == "/problems/customer-limit-reached"
    assert problem["limit"] == 2 and problem["count"] == 2 and "at most 2 customers" in problem["detail"]
    # a closed (Inactive) customer frees a place
    assert r.status(second["id"], "Inactive", "moved away").status_code == 200
    assert r.post("/customers", {"first_name": "Three", "last_name": "Fits"}).status_code == 201
    r.set_limit(None)
    assert r.post("/customers", {"first_name": "No", "last_name": "Limit"}).status_code == 201


def test_unknown_customer_is_404(reseller):
    r = reseller()
    assert r.get("/customers/999999").status_code == 404
    assert r.patch("/customers/999999", {"city": "Nairobi"}).status_code == 404
    assert r.delete("/customers/999999").status_code == 404


def test_the_limit_covers_what_was_handed_to_sub_resellers(reseller, make_tenant):
    r = reseller()  # one customer of its own already
    r.set_limit(3)
    make_tenant("SUB", parent_code=r.tenant.code, customer_limit=1)
    assert r.post("/customers", {"first_name": "Second", "last_name": "Own"}).status_code == 201
    refused = r.post("/customers", {"first_name": "Third", "last_name": "Own"})
    assert refused.status_code == 409
    problem = refused.get_json()
    assert problem["handed_to_sub_resellers"] == 1 and problem["count"] == 2
    assert "at most 2 customers of its own (3, less 1 handed to sub-resellers)" in problem["detail"]


def test_two_creations_at_once_cannot_both_take_the_last_place(reseller, db):
    import threading

    from app.services import customers
    from app.services.customers import CustomerLimitReached
    from tenants import tenant_context

    r = reseller()
    r.set_limit(2)  # one taken by the fixture's customer: one place left
    barrier, outcomes = threading.Barrier(2), []

    def create(n):
        try:
            with db.session() as s, tenant_context(r.tenant):
                barrier.wait(timeout=10)
                customers.create(s, first_name="Racer", last_name=str(n))
            outcomes.append("created")
        except CustomerLimitReached:
            outcomes.append("refused")

    threads = [threading.Thread(target=create, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["created", "refused"]
    assert r.get("/customers").get_json()["total"] == 2
