"""Reports: totals that equal the ledger's, filters, CSV and XLSX with the right types, consolidated rows."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
from sqlalchemy import text

from app import clock
from app.services.billing import invoices, payments
from app.services.reports import reports, scope
from app.services.reports.periods import DateRange, add_months
from tenants import tenant_context
from tests.billing.test_payments import finance_headers
from tests.resellers.conftest import add_customer, sign_in, staff_headers

D = Decimal
FIBRE = {"description": "Fibre", "unit_price": "1000.00"}


def _busy_month(db, billable):
    """Invoices, a void, a credit note, payments in cash and M-PESA, a refund and a reversed payment."""
    a = billable("1000.00")
    with db.session() as s, tenant_context(a.tenant):
        first = invoices.issue(s, invoices.create_draft(s, a.customer_id, [FIBRE]).id)
        second = invoices.issue(s, invoices.create_draft(s, a.customer_id, [
            {"description": "Router", "unit_price": "2500.00"}]).id)
        voided = invoices.issue(s, invoices.create_draft(s, a.customer_id, [
            {"description": "Typo", "unit_price": "333.33"}]).id)
        invoices.void(s, voided.id, reason="typed twice")
        invoices.credit_note(s, second.id, reason="router returned",
                             lines=[{"line_id": invoices.lines_of(s, second.id)[0].id, "amount": "500.00"}])
        cash = payments.record(s, customer_id=a.customer_id, amount="700.00", method="cash")
        payments.record(s, customer_id=a.customer_id, amount="1200.50", method="mpesa", provider="mpesa",
                        provider_ref="QX1234")
        payments.refund(s, cash.id, amount="200.00", reason="overpaid")
        wrong = payments.record(s, customer_id=a.customer_id, amount="99.99", method="cash")
        payments.reverse(s, wrong.id, reason="wrong customer")
        assert first.total == D("1000.00")
    return a.tenant


UTC_ZONE = ZoneInfo("UTC")


def _ledger(db, tenant, condition: str) -> Decimal:
    with db.session() as s, tenant_context(tenant):
        return D(s.execute(text(f"SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE {condition}")).scalar_one())


def _run(db, tenant, name, **filters):
    today = clock.now().date()
    with db.session() as s:
        where = scope.of_tenant(s, tenant)
    return reports.run(db, where, name, DateRange(today.replace(day=1), today, UTC_ZONE), filters)


def test_revenue_and_collections_total_the_ledger(db, billable):
    tenant = _busy_month(db, billable)
    revenue = _run(db, tenant, "revenue")
    (total,) = revenue.totals
    assert total == {"currency": "KES", "invoices": 3, "invoiced": D("3833.33"), "credit_notes": D("500.00"),
                     "voided": D("333.33"), "net": D("3000.00")}
    assert total["net"] == _ledger(db, tenant, "invoice_id IS NOT NULL AND payment_id IS NULL")

    collections = _run(db, tenant, "collections")
    by_method = {r["method"]: r for r in collections.rows}
    assert by_method["cash"]["received"] == D("799.99") and by_method["cash"]["refunded"] == D("200.00")
    assert by_method["cash"]["reversed"] == D("99.99") and by_method["cash"]["net"] == D("500.00")
    assert by_method["mpesa"]["net"] == D("1200.50")
    (total,) = collections.totals
    assert total["net"] == D("1700.50") == -_ledger(db, tenant, "payment_id IS NOT NULL")
    assert total["payments"] == 3

    only_mpesa = _run(db, tenant, "collections", method="mpesa")
    assert [r["method"] for r in only_mpesa.rows] == ["mpesa"] and only_mpesa.totals[0]["net"] == D("1200.50")
    assert _run(db, tenant, "revenue", currency="usd").rows == []


def test_a_range_excludes_what_is_outside_it(db, billable):
    tenant = _busy_month(db, billable)
    with db.session() as s:
        where = scope.of_tenant(s, tenant)
    last_month = add_months(clock.now().date(), -1)
    empty = reports.run(db, where, "revenue", DateRange(last_month, last_month.replace(day=28), UTC_ZONE), {})
    assert empty.rows == [] and empty.totals[0]["net"] == D("0.00")


def test_services_customers_and_churn(db, billable):
    b = billable("3000.00", period="quarterly")
    with db.session() as s, tenant_context(b.tenant):
        from app.services.customers import status as customer_status

        new_id = s.execute(text("SELECT id FROM customers WHERE status = 'New'")).scalar_one()
        customer_status.change_status(s, new_id, "Inactive", "moved away")
    distribution = _run(db, b.tenant, "service_distribution")
    assert [(r["kind"], r["status"], r["services"], r["mrr"]) for r in distribution.rows] == [
        ("internet", "Active", 1, D("1000.00"))]
    assert distribution.rows[0]["plan_code"] == b.plan.code
    statuses = _run(db, b.tenant, "customers_by_status")
    assert [(r["status"], r["customers"], r["share"]) for r in statuses.rows] == [
        ("Active", 1, D("50.00")), ("Inactive", 1, D("50.00"))]
    assert statuses.totals[0]["customers"] == 2
    (month,) = _run(db, b.tenant, "churn").rows
    assert (month["customers_at_start"], month["new"], month["churned"], month["churn_rate"]) == (0, 2, 1, None)


def test_filters_are_checked(app, db, billable):
    tenant = billable().tenant
    client = app.test_client()
    headers = finance_headers(app, db, tenant)
    assert client.get("/reseller/api/reports/revenue?method=cash", headers=headers).status_code == 422
    assert client.get("/reseller/api/reports/collections?method=cheque", headers=headers).status_code == 422
    assert client.get("/reseller/api/reports/nothing", headers=headers).status_code == 404
    bad = client.get("/reseller/api/reports/revenue?from=2026-05-01&to=2026-04-01", headers=headers)
    assert bad.status_code == 422 and bad.content_type == "application/problem+json"
    ok = client.get("/reseller/api/reports/revenue?from=2026-01-01&to=2026-12-31", headers=headers)
    assert ok.status_code == 200 and ok.get_json()["from"] == "2026-01-01"


def test_csv_and_xlsx_carry_exact_amounts_and_real_dates(app, db, billable):
    tenant = _busy_month(db, billable)
    client = app.test_client()
    headers = finance_headers(app, db, tenant)
    reply = client.get("/reseller/api/reports/revenue?format=csv", headers=headers)
    assert reply.status_code == 200 and reply.content_type.startswith("text/csv")
    assert "attachment" in reply.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(reply.get_data(as_text=True))))
    assert lines[0] == ["Reseller", "Month", "Currency", "Invoices", "Invoiced", "Credit notes", "Voided",
                        "Net revenue"]
    this_month = clock.now().strftime("%Y-%m")
    assert lines[1] == [tenant.code, this_month, "KES", "3", "3833.33", "500.00", "333.33", "3000.00"]
    assert lines[2] == [] and lines[3] == ["Total", "", "KES", "3", "3833.33", "500.00", "333.33", "3000.00"]

    reply = client.get("/reseller/api/reports/revenue?format=xlsx", headers=headers)
    assert reply.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(reply.get_data()))
    sheet = book["Report"]
    assert [c.value for c in sheet[1]] == lines[0]
    row = sheet[2]
    assert row[0].value == tenant.code
    assert isinstance(row[1].value, datetime) and row[1].value.date() == clock.today().replace(day=1) \
        and row[1].number_format == "yyyy-mm"
    assert row[3].value == 3
    assert [c.value for c in row[4:]] == [3833.33, 500, 333.33, 3000]  # numbers, shown with two decimals
    assert {c.number_format for c in row[4:]} == {"#,##0.00"}
    assert sheet.cell(4, 1).value == "Total" and sheet.cell(4, 8).value == 3000
    about = {r[0].value: r[1].value for r in book["About"].iter_rows()}
    assert about["Report"] == "Revenue" and about["Scope"] == tenant.code


def test_consolidated_reports_tag_each_row_with_its_reseller(app, db, staff, tree):
    add_customer(db, tree.grandchild.tenant, "Second")
    client = app.test_client()
    child = sign_in(client, tree.child.host, tree.child.admin)
    reply = client.get("/reseller/api/reports/customers_by_status?consolidated=true", headers=child).get_json()
    assert {(r["reseller"], r["status"], r["customers"]) for r in reply["rows"]} == {
        (tree.child.code, "New", 1), (tree.grandchild.code, "New", 2)}
    assert reply["totals"] == [{"customers": 3, "new_in_range": 3, "share": "100.00"}]
    own = client.get("/reseller/api/reports/customers_by_status", headers=child).get_json()
    assert {r["reseller"] for r in own["rows"]} == {tree.child.code}

    console = staff_headers(client, staff)
    every = client.get(f"/console/api/reports/customers_by_status?tenant={tree.root.code}", headers=console)
    assert {r["reseller"] for r in every.get_json()["rows"]} == {
        tree.root.code, tree.child.code, tree.grandchild.code, tree.sibling.code}
    csv_reply = client.get("/console/api/reports/customers_by_status?format=csv", headers=console)
    assert csv_reply.status_code == 200 and tree.sibling.code in csv_reply.get_data(as_text=True)


def test_text_is_never_a_formula():
    table = reports.Table(reports.REPORTS["service_distribution"], DateRange(date(2026, 1, 1), date(2026, 1, 31),
                                                                               UTC_ZONE), {}, "T")
    table.rows = [{"reseller": "T", "kind": "internet", "plan_code": "P1", "plan_name": '=HYPERLINK("x")',
                   "status": "Active", "currency": "KES", "services": 2, "mrr": D("1000.50")}]
    table.totals = reports.totals_of(table.report, table.rows)
    from app.services.reports import export

    lines = list(csv.reader(io.StringIO(export.to_csv(table).decode())))
    assert lines[1][3] == "'=HYPERLINK(\"x\")" and lines[1][7] == "1000.50"
    sheet = openpyxl.load_workbook(io.BytesIO(export.to_xlsx(table)))["Report"]
    assert sheet.cell(2, 4).value == '=HYPERLINK("x")' and sheet.cell(2, 4).data_type == "s"
    assert lines[3] == ["Total", "", "", "", "", "KES", "2", "1000.50"]


def test_the_dashboard_agrees_with_the_reports(db, billable):
    """Invoiced and collected this month are the revenue and collections reports' net totals; receivables
    worked back to the end of last month (before anything was invoiced) come to zero, voids and credit notes
    included."""
    from app.services.reports import dashboard

    tenant = _busy_month(db, billable)
    with db.session() as s:
        where = scope.of_tenant(s, tenant)
    board = dashboard.build(db, where, clock.now().date(), UTC_ZONE)["figures"]
    assert board["invoiced"]["value"] == {"KES": str(_run(db, tenant, "revenue").totals[0]["net"])}
    assert board["collected"]["value"] == {"KES": str(_run(db, tenant, "collections").totals[0]["net"])}
    with db.session() as s, tenant_context(tenant):
        open_ = s.execute(text("SELECT sum(total - amount_paid) FROM invoices WHERE kind = 'invoice' "
                               "AND status NOT IN ('Draft', 'Void')")).scalar_one()
    assert board["outstanding_receivables"]["value"] == {"KES": str(open_)}
    assert board["outstanding_receivables"]["series"][-2]["value"] == {"KES": "0.00"}
