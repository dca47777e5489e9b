"""Key figures: customers, Active services and MRR, exact to the cent, read in each tenant's own schema."""

from decimal import Decimal

from app.models.provisioning import Service
from app.services import resellers
from tenants import tenant_context
from tests.resellers.conftest import add_customer, sign_in


def _service(s, customer_id, price, period, status="Active", currency="KES"):
    s.add(Service(customer_id=customer_id, plan_id=1, kind="internet", status=status,
                  price=Decimal(price) if price is not None else None, currency=currency, billing_period=period))


def test_monthly_normalisation_rounds_once_at_the_end():
    assert resellers.monthly([("KES", "quarterly", Decimal("30.00"))]) == {"KES": Decimal("10.00")}
    # 10/3 + 10/3 + 10/3 is 10.00 when rounded at the end (it would be 9.99 rounding each part)
    assert resellers.monthly([("KES", "quarterly", Decimal("10.00")), ("KES", "yearly", Decimal("0")),
                              ("KES", "monthly", Decimal("6.6667"))]) == {"KES": Decimal("10.00")}
    assert resellers.monthly([("USD", "yearly", Decimal("100.00"))]) == {"USD": Decimal("8.33")}
    assert resellers.monthly([("USD", "yearly", Decimal("0.06"))]) == {"USD": Decimal("0.01")}  # 0.005 rounds up
    assert resellers.monthly([]) == {}


def test_figures_are_exact(app, db, tree):
    grand = tree.grandchild
    active_id, _ = add_customer(db, grand.tenant, "Paying", status="Active")
    with db.session() as s, tenant_context(grand.tenant):
        _service(s, active_id, "10.00", "monthly")
        _service(s, active_id, "100.00", "quarterly")          # 33.333…
        _service(s, active_id, "100.00", "yearly", "Limited")  # 8.333… (Limited is billed, not Active)
        _service(s, active_id, "50.00", "monthly", "Suspended")
        _service(s, active_id, "70.00", "monthly", "Terminated")
        _service(s, active_id, None, "monthly", "Pending")
        _service(s, active_id, "12.00", "yearly", currency="USD")
        s.flush()  # inside the tenant's context: the transaction's search_path is set when it begins
    figures = resellers.figures(db, grand.tenant)
    assert figures.customers == 2 and figures.active_customers == 1
    assert figures.active_services == 3  # two KES and one USD in Active status
    assert figures.mrr == {"KES": Decimal("51.67"), "USD": Decimal("1.00")}
    assert all(isinstance(v, Decimal) for v in figures.mrr.values())

    child = tree.child
    with db.session() as s, tenant_context(child.tenant):
        _service(s, child.customers[0][0], "0.10", "quarterly")  # 0.0333… → 0.03
        s.flush()
    client = app.test_client()
    headers = sign_in(client, tree.root.host, tree.root.admin)
    listed = {t["code"]: t["figures"] for t in client.get("/reseller/api/sub-resellers", headers=headers).get_json()}
    assert listed[grand.code] == {"customers": 2, "active_customers": 1, "active_services": 3,
                                  "mrr": {"KES": "51.67", "USD": "1.00"}}
    assert listed[child.code]["mrr"] == {"KES": "0.03"}
    detail = client.get(f"/reseller/api/sub-resellers/{child.code}", headers=headers).get_json()
    assert detail["consolidated"]["mrr"] == {"KES": "51.70", "USD": "1.00"}
    assert detail["consolidated"]["active_services"] == 4
    summary = client.get("/reseller/api/sub-resellers/summary", headers=headers).get_json()
    assert summary["own"]["mrr"] == {} and summary["consolidated"]["mrr"] == {"KES": "51.70", "USD": "1.00"}
