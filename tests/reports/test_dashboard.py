"""The reseller dashboard on a small known dataset, exact to the cent; consolidated figures of a parent are
its own plus its descendants'; a reseller never sees a sibling's; the console sees any subtree."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select, text

from app import clock
from app.models.customers import CustomerStatusChange
from app.models.reports import ReportMonth
from app.services.billing import invoices, payments
from app.services.customers import status as customer_status
from app.services.reports import dashboard, scope
from app.services.reports.periods import Months
from tenants import tenant_context
from tests.auth.conftest import PASSWORD
from tests.billing.test_payments import finance_headers
from tests.resellers.conftest import add_customer, sign_in, staff_headers

D = Decimal


def _known_shop(db, billable):
    """Three customers: one churned (New → Inactive), two Active with services of 1000.00 a month and
    3000.00 a quarter; one invoice of 1000.00, paid 600.00, of which 100.00 refunded."""
    first = billable("1000.00")
    billable("3000.00", period="quarterly", shop=_shop_of(first))
    with db.session() as s, tenant_context(first.tenant):
        churned = s.execute(text("SELECT id FROM customers WHERE status = 'New'")).scalar_one()
        customer_status.change_status(s, churned, "Inactive", "moved away")
        draft = invoices.create_draft(s, first.customer_id, [{"description": "Fibre", "unit_price": "1000.00"}])
        invoices.issue(s, draft.id)
        payment = payments.record(s, customer_id=first.customer_id, amount="600.00", method="cash")
        payments.refund(s, payment.id, amount="100.00", reason="overpaid by mistake")
    return first.tenant


def _shop_of(b):
    from tests.provisioning.conftest import Shop

    return Shop(b.tenant, b.plan, b.customer_id, "")


def _values(board: dict) -> dict:
    return {name: figure["value"] for name, figure in board["figures"].items()}


def test_a_known_dataset_gives_exact_figures(app, db, billable):
    tenant = _known_shop(db, billable)
    reply = app.test_client().get("/reseller/api/dashboard", headers=finance_headers(app, db, tenant))
    assert reply.status_code == 200, reply.get_json()
    board = reply.get_json()
    assert _values(board) == {
        "customers_total": 3, "customers_active": 2, "customers_new": 3, "customers_churned": 1,
        "mrr": {"KES": "2000.00"},  # 1000.00 + 3000.00 / 3
        "arpu": {"KES": "1000.00"},  # 2000.00 over 2 active customers
        "commission_earned": "0.00",
        "outstanding_receivables": {"KES": "500.00"},  # 1000.00 less the 500.00 kept of the payment
        "invoiced": {"KES": "1000.00"},
        "collected": {"KES": "500.00"},  # 600.00 received, 100.00 refunded
        "collection_rate": {"KES": "50.00"},
        "open_tickets": 0,
        "credit_utilisation": None,
    }
    assert board["figures"]["open_tickets"]["source"] == "tickets not built yet"
    assert board["scope"] == {"tenant": tenant.code, "consolidated": False, "tenants": [tenant.code],
                              "label": tenant.code}
    # twelve months, oldest first; everything happened this month, so the history before it is empty
    customers = board["figures"]["customers_total"]["series"]
    assert len(customers) == 12 and customers[-1] == {"month": board["months"][-1], "value": 3}
    assert [p["value"] for p in customers[:-1]] == [0] * 11
    assert board["figures"]["mrr"]["series"][-1]["value"] == {"KES": "2000.00"}
    assert board["figures"]["mrr"]["series"][0]["value"] == {"KES": "0.00"}
    assert board["figures"]["collection_rate"]["series"][-2]["value"] == {}


def test_history_is_rebuilt_from_the_records(db, billable):
    """Stocks at the end of earlier months are now minus what changed since: moving a customer's
    creation and status history (and the service's) back two months moves the figures with them."""
    b = billable("1000.00")
    back = clock.now() - timedelta(days=62)
    with db.session() as s, tenant_context(b.tenant):
        s.execute(text("UPDATE customers SET created_at = :at WHERE id = :id"), {"at": back, "id": b.customer_id})
        s.execute(text("UPDATE customer_status_history SET at = :at WHERE customer_id = :id"),
                  {"at": back, "id": b.customer_id})
        s.execute(text("UPDATE service_status_history SET at = :at WHERE service_id = :id"),
                  {"at": back, "id": b.service_id})
    today = clock.now().date()
    months = Months.ending(today, dashboard.ZoneInfo("UTC"))
    with db.session() as s, tenant_context(b.tenant):
        parts = dashboard.read(s, b.tenant, months)
        assert s.query(CustomerStatusChange).count() == 3  # the shop's customer, created; ours, created + Active
    figures = dashboard.figures(parts, months)
    month_of_back = months.labels().index(back.strftime("%Y-%m"))
    active = [p["value"] for p in figures["customers_active"]["series"]]
    assert active[:month_of_back] == [0] * month_of_back and active[month_of_back:] == [1] * (12 - month_of_back)
    mrr = [p["value"] for p in figures["mrr"]["series"]]
    assert mrr[month_of_back - 1] == {"KES": "0.00"} and mrr[month_of_back] == {"KES": "1000.00"}
    assert figures["customers_new"]["series"][month_of_back]["value"] == 1
    assert figures["customers_total"]["value"] == 2 and figures["customers_active"]["value"] == 1

    # closed months are kept: the next view reads them back (and only the month so far from the records)
    with db.session() as s, tenant_context(b.tenant):
        kept = s.execute(select(ReportMonth.month)).scalars().all()
        again = dashboard.figures(dashboard.read(s, b.tenant, months), months)
    assert len(kept) in (10, 11) and months.starts[-1] not in kept  # the current month never is
    assert again == figures
    # a payment now changes this month's figures and none of the kept months'
    with db.session() as s, tenant_context(b.tenant):
        payments.record(s, customer_id=b.customer_id, amount="250.00", method="cash")
    with db.session() as s, tenant_context(b.tenant):
        later = dashboard.figures(dashboard.read(s, b.tenant, months), months)
    assert later["collected"]["value"] == {"KES": "250.00"}
    assert later["collected"]["series"][:-1] == figures["collected"]["series"][:-1]
    assert later["mrr"]["series"] == figures["mrr"]["series"]


def test_consolidated_is_own_plus_descendants(app, db, tree):
    from app.models.provisioning import Service

    paying, _ = add_customer(db, tree.grandchild.tenant, "Active", status="Active")
    with db.session() as s, tenant_context(tree.grandchild.tenant):
        s.add(Service(customer_id=paying, plan_id=1, kind="internet", status="Active", price=D("100.00"),
                      currency="KES", billing_period="yearly"))
        s.flush()
    with db.session() as s, tenant_context(tree.child.tenant):
        s.add(Service(customer_id=tree.child.customers[0][0], plan_id=1, kind="internet", status="Active",
                      price=D("100.00"), currency="KES", billing_period="yearly"))
        s.flush()
    add_customer(db, tree.sibling.tenant, "Other")
    client = app.test_client()
    child = sign_in(client, tree.child.host, tree.child.admin)
    own = client.get("/reseller/api/dashboard", headers=child).get_json()
    both = client.get("/reseller/api/dashboard?consolidated=true", headers=child).get_json()
    assert own["figures"]["customers_total"]["value"] == 1
    assert both["scope"]["tenants"] == [tree.child.code, tree.grandchild.code]  # never the sibling or root
    assert both["figures"]["customers_total"]["value"] == 1 + 2
    assert both["figures"]["customers_active"]["value"] == 1
    # 100.00 a year is 8.333… a month in each tenant: summed before rounding, 16.67 (not 8.33 + 8.33)
    assert own["figures"]["mrr"]["value"] == {"KES": "8.33"} and both["figures"]["mrr"]["value"] == {"KES": "16.67"}

    # the same sum, read tenant by tenant through the service
    today = clock.now().date()
    months = Months.ending(today, dashboard.ZoneInfo("UTC"))
    parts = []
    for node in (tree.child, tree.grandchild):
        with db.session() as s, tenant_context(node.tenant):
            parts.append(dashboard.read(s, node.tenant, months))
    summed = dashboard.figures(parts[0] + parts[1], months)
    assert summed["customers_total"] == both["figures"]["customers_total"]

    root = sign_in(client, tree.root.host, tree.root.admin)
    everything = client.get("/reseller/api/dashboard?consolidated=true", headers=root).get_json()
    assert sorted(everything["scope"]["tenants"]) == sorted(
        [tree.root.code, tree.child.code, tree.grandchild.code, tree.sibling.code])
    assert everything["figures"]["customers_total"]["value"] == 1 + 1 + 2 + 2


def test_a_reseller_never_reaches_a_siblings_figures(app, db, tree):
    client = app.test_client()
    child = sign_in(client, tree.child.host, tree.child.admin)
    sibling_host = {**child, "Host": tree.sibling.host}
    assert client.get("/reseller/api/dashboard", headers=sibling_host).status_code == 401
    with db.session() as s:
        where = scope.of_tenant(s, tree.child.tenant, consolidated=True)
    assert tree.sibling.code not in where.codes() and tree.root.code not in where.codes()


def test_the_console_sees_any_subtree_and_everything(app, db, staff, tree):
    client = app.test_client()
    headers = staff_headers(client, staff)
    sub = client.get(f"/console/api/dashboard?tenant={tree.child.code}", headers=headers).get_json()
    assert sub["scope"]["tenants"] == [tree.child.code, tree.grandchild.code]
    assert sub["figures"]["customers_total"]["value"] == 2
    everything = client.get("/console/api/dashboard", headers=headers).get_json()
    assert {tree.root.code, tree.sibling.code} <= set(everything["scope"]["tenants"])
    assert everything["figures"]["customers_total"]["value"] >= 4
    assert client.get("/console/api/dashboard?tenant=NOPE_NOPE", headers=headers).status_code == 404
    reseller = sign_in(client, tree.root.host, tree.root.admin)
    assert client.get("/console/api/dashboard", headers={**reseller, "Host": "console.test.example"}).status_code \
        == 403


def test_a_user_without_finance_reports_is_refused(app, db, tree):
    client = app.test_client()
    agent = sign_in(client, tree.root.host, tree.root.agent)  # the User role: no finance.reports
    assert client.get("/reseller/api/dashboard", headers=agent).status_code == 403
    viewer = sign_in(client, tree.root.host, tree.root.viewer)  # Readonly holds it
    assert client.get("/reseller/api/dashboard", headers=viewer).status_code == 200
    # a Manager limited to some customers holds finance.reports, but reports add up every customer
    from app.services.auth import users

    with db.session() as s, tenant_context(tree.root.tenant):
        users.create_user(s, username="limited@abc.example", email="limited@abc.example", role="Manager",
                          password=PASSWORD, allowed_customer_ids=[tree.root.customers[0][0]])
    limited = sign_in(client, tree.root.host, "limited@abc.example")
    for path in ("/reseller/api/dashboard", "/reseller/api/reports/revenue", "/reseller/api/reports/schedules"):
        assert client.get(path, headers=limited).status_code == 403


def test_commission_and_credit_figures_are_the_services_own(db, billable):
    """Commission earned follows the commission summary's rule (rejected lines are never owed, reversals
    count); credit utilisation is the reseller account's, now and month by month."""
    from app.models.commissions import CommissionLine
    from app.models.reseller_accounts import AccountEntry
    from app.services.commissions import summary
    from app.services.reseller_accounts import accounts, credit

    b = billable("1000.00")
    today = clock.now().date()
    month = today.replace(day=1)
    with db.session() as s, tenant_context(b.tenant):
        for n, (amount, status) in enumerate((("80.00", "Approved"), ("12.35", "Pending"), ("-8.00", "Approved"),
                                              ("50.00", "Rejected"))):
            s.add(CommissionLine(reseller_id=b.tenant.id, customer_id=b.customer_id, source_tenant_id=b.tenant.id,
                                 kind="recurring", base_amount=D("800.00"), rate=D("10"), amount=D(amount),
                                 currency="KES", period_start=today, period_end=today, status=status,
                                 source_key=f"test:{b.tenant.id}:{n}"))
        s.flush()  # inside the tenant's context (the session commits after the context is left)
    with db.session() as s:
        account = accounts.configure(s, b.tenant.id, {"currency": "KES", "credit_limit": "2000.00"}, actor="test")
        s.add(AccountEntry(account_id=account.id, kind="charge", amount=D("1500.00"), currency="KES",
                           due_on=today, source_key=f"test:{b.tenant.id}:charge", description="wholesale"))
    with db.session() as s:
        where = scope.of_tenant(s, b.tenant)
    board = dashboard.build(db, where, today, dashboard.ZoneInfo("UTC"))["figures"]
    with db.session() as s, tenant_context(b.tenant):
        earned = summary.earned(s, month, today)
        utilisation = credit.utilisation(s, b.tenant.id)
    assert earned == D("84.35") and board["commission_earned"]["value"] == "84.35"
    assert board["commission_earned"]["series"][-1]["value"] == "84.35"
    assert utilisation == D("75.00") and board["credit_utilisation"]["value"] == "75.00"
    assert [p["value"] for p in board["credit_utilisation"]["series"][-2:]] == ["0.00", "75.00"]


def test_the_platform_dashboard_is_kept_a_few_minutes_and_computed_again_on_demand(app, db, tree):
    """The console's landing page reads the platform's figures from Redis for MAX_AGE: a customer added since is
    counted once staff ask for the figures fresh, and the entry lives no longer than MAX_AGE."""
    from app.services.reports import platform_dashboard
    from tenants.storage import redis_key

    redis, today, utc = app.extensions["backhaul"].redis, clock.today(), ZoneInfo("UTC")
    redis.delete(redis_key("platform", "dashboard", "UTC", today.isoformat()))
    first = platform_dashboard.figures(db, redis, today, utc)
    assert tree.root.code in first["scope"]["tenants"] and first["computed_at"] <= clock.now()
    kept = platform_dashboard.figures(db, redis, today, utc)
    assert kept == first  # dates and moments come back as dates and moments
    assert 0 < redis.ttl(redis_key("platform", "dashboard", "UTC", today.isoformat())) <= platform_dashboard.MAX_AGE
    add_customer(db, tree.sibling.tenant, "Onemore")
    total = first["figures"]["customers_total"]["value"]
    assert platform_dashboard.figures(db, redis, today, utc)["figures"]["customers_total"]["value"] == total
    fresh = platform_dashboard.figures(db, redis, today, utc, fresh=True)
    assert fresh["figures"]["customers_total"]["value"] == total + 1 and fresh["computed_at"] > first["computed_at"]
    assert platform_dashboard.figures(db, redis, today, utc) == fresh
