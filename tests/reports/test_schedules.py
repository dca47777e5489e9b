"""Scheduled reports: the schedule API, and a due report e-mailed with its file through a real SMTP server
(aiosmtpd) by a real Dramatiq worker, once per schedule and day however often the daily job runs."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import openpyxl
from sqlalchemy import func, select

from app import clock
from app.models import Outbox
from app.models.reports import ReportMonth, ReportRun, ReportSchedule
from app.services.billing import invoices, payments
from app.services.reports import schedules
from tenants import tenant_context
from tests.billing.test_payments import finance_headers
from tests.notifications.conftest import wait_for


def test_period_and_cadence():
    assert schedules.period_for("daily", date(2026, 3, 1)) == (date(2026, 2, 28), date(2026, 2, 28))
    assert schedules.period_for("weekly", date(2026, 3, 9)) == (date(2026, 3, 2), date(2026, 3, 8))
    assert schedules.period_for("monthly", date(2026, 1, 5)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert schedules.following("daily", date(2026, 3, 1), date(2026, 3, 1)) == date(2026, 3, 2)
    assert schedules.following("weekly", date(2026, 3, 1), date(2026, 3, 20)) == date(2026, 3, 22)
    # a missed month is not sent twice: the next run is the first one after the day it ran
    assert schedules.following("monthly", date(2026, 1, 28), date(2026, 3, 1)) == date(2026, 3, 28)


def test_the_schedule_api(app, db, billable):
    tenant = billable().tenant
    client = app.test_client()
    headers = finance_headers(app, db, tenant)
    body = {"name": "Monthly revenue", "report": "revenue", "format": "xlsx", "frequency": "monthly",
            "recipients": ["boss@reseller.example", "Boss@Reseller.example"], "filters": {"currency": "kes"},
            "next_run_on": (clock.today() + timedelta(days=40)).replace(day=1).isoformat()}
    created = client.post("/reseller/api/reports/schedules", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    row = created.get_json()
    assert row["recipients"] == ["boss@reseller.example"] and row["filters"] == {"currency": "KES"}
    assert row["last_sent_on"] is None and row["created_by"]

    listed = client.get("/reseller/api/reports/schedules", headers=headers).get_json()
    assert [r["id"] for r in listed] == [row["id"]]
    paused = client.patch(f"/reseller/api/reports/schedules/{row['id']}", json={"active": False}, headers=headers)
    assert paused.status_code == 200 and paused.get_json()["active"] is False
    assert paused.get_json()["format"] == "xlsx"

    for bad in ({**body, "next_run_on": "2099-01-30"},  # monthly: day 1 to 28
                {**body, "filters": {"method": "cash"}},  # revenue takes no method
                {**body, "report": "gossip"},
                {**body, "recipients": []}):
        reply = client.post("/reseller/api/reports/schedules", json=bad, headers=headers)
        assert reply.status_code == 422, (bad, reply.get_json())
    assert client.delete(f"/reseller/api/reports/schedules/{row['id']}", headers=headers).status_code == 204
    assert client.get(f"/reseller/api/reports/schedules/{row['id']}", headers=headers).status_code == 404


def test_a_due_report_is_emailed_once_with_its_file(app, db, billable, mail_broker, mail_worker, smtp_server):
    from worker.actors import reports as report_actors

    b = billable("1000.00")
    with db.session() as s, tenant_context(b.tenant):
        invoices.issue(s, invoices.create_draft(s, b.customer_id, [{"description": "Fibre",
                                                                    "unit_price": "1000.00"}]).id)
        payments.record(s, customer_id=b.customer_id, amount="400.00", method="cash")
    client = app.test_client()
    headers = finance_headers(app, db, b.tenant)
    today = clock.now().date()
    tomorrow = today + timedelta(days=1)
    for name, report, fmt in (("Daily collections", "collections", "csv"), ("Daily revenue", "revenue", "xlsx")):
        reply = client.post("/reseller/api/reports/schedules", headers=headers, json={
            "name": name, "report": report, "format": fmt, "frequency": "daily",
            "recipients": ["finance@reseller.example"], "next_run_on": tomorrow.isoformat()})
        assert reply.status_code == 201, reply.get_json()

    with tenant_context(b.tenant):
        assert report_actors.reports_daily.fn(today.isoformat()) == []  # not due yet
        first = report_actors.reports_daily.fn(tomorrow.isoformat())
        again = report_actors.reports_daily.fn(tomorrow.isoformat())  # the same day twice: nothing more
    assert len(first) == 2 and again == []
    mail_worker.drain()
    messages = wait_for(lambda: len(smtp_server.inbox.to("finance@reseller.example")) == 2
                        and smtp_server.inbox.to("finance@reseller.example"), what="two report e-mails")
    by_subject = {m["Subject"]: m for m in messages}
    assert len(by_subject) == 2

    collections = next(m for s, m in by_subject.items() if s.startswith("Collections"))
    (attachment,) = list(collections.iter_attachments())
    assert attachment.get_filename() == f"collections_{today.isoformat()}_{today.isoformat()}.csv"
    assert attachment.get_content_type() == "text/csv"
    lines = list(csv.reader(io.StringIO(attachment.get_payload(decode=True).decode("utf-8"))))
    assert lines[1][1:] == [today.strftime("%Y-%m"), "cash", "KES", "1", "400.00", "0.00", "0.00", "400.00"]

    revenue = next(m for s, m in by_subject.items() if s.startswith("Revenue"))
    (attachment,) = list(revenue.iter_attachments())
    book = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))
    assert book["Report"].cell(2, 5).value == 1000 and book["Report"].cell(2, 5).number_format == "#,##0.00"

    with db.session() as s, tenant_context(b.tenant):
        assert s.execute(select(func.count()).select_from(ReportRun)).scalar_one() == 2
        assert s.execute(select(func.count()).select_from(Outbox).where(
            Outbox.template == "reports/scheduled")).scalar_one() == 2
        rows = s.execute(select(ReportSchedule)).scalars().all()
        assert {(r.last_sent_on, r.next_run_on) for r in rows} == {(tomorrow, tomorrow + timedelta(days=1))}
        # the daily job also kept the dashboard's closed months
        assert s.execute(select(func.count()).select_from(ReportMonth)).scalar_one() >= 10
