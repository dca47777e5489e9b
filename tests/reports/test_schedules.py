"""Scheduled reports: the schedule API, and a due report e-mailed with its file through a real SMTP server
(aiosmtpd) by a real Dramatiq worker, once per schedule and day however often the daily job runs."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from app import clock
from app.models import Outbox
from app.models.reports import ReportMonth, ReportRun, ReportSchedule
from app.services.auth import users
from app.services.auth.permissions import READ
from app.services.auth.principal import USER, Principal
from app.services.billing import invoices, payments
from app.services.errors import ServiceError
from app.services.reports import schedules
from tenants import tenant_context
from tests.auth.conftest import PASSWORD, bearer
from tests.billing.test_payments import finance_headers
from tests.conftest import host_of
from tests.notifications.conftest import wait_for
from tests.oauth.conftest import Reseller, register_app, user_tokens
from tests.resellers.conftest import sign_in, staff_headers


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


# -- who may schedule, and to whom ----------------------------------------------------------------------
SCHEDULES = "/reseller/api/reports/schedules"
_members = itertools.count(1)


def _member(db, tenant, role: str, *, active: bool = True) -> str:
    """A team member of `tenant`; returns their e-mail (which is also their username)."""
    email = f"team{next(_members)}@reseller.example"
    with db.session() as s, tenant_context(tenant):
        user, _ = users.create_user(s, username=email, email=email, role=role, password=PASSWORD)
        user.is_active = active
    return email


def _signed_in(app, db, tenant, role: str) -> tuple[dict, str]:
    email = _member(db, tenant, role)
    return sign_in(app.test_client(), host_of(tenant), email), email


def _schedule(recipients: list[str], **extra) -> dict:
    return {"name": "Weekly collections", "report": "collections", "format": "csv", "frequency": "weekly",
            "recipients": recipients, **extra}


def _refused(reply, slug: str) -> dict:
    assert reply.status_code == 403, reply.get_json()
    assert reply.content_type == "application/problem+json" and reply.get_json()["type"] == f"/problems/{slug}"
    return reply.get_json()


def test_readonly_reads_reports_but_cannot_manage_their_schedules(app, db, make_tenant):
    tenant = make_tenant("REPS")
    client = app.test_client()
    admin, admin_email = _signed_in(app, db, tenant, "Admin")
    viewer, viewer_email = _signed_in(app, db, tenant, "Readonly")
    made = client.post(SCHEDULES, json=_schedule([admin_email]), headers=admin)
    assert made.status_code == 201, made.get_json()
    schedule_id = made.get_json()["id"]

    assert client.get("/reseller/api/reports/collections", headers=viewer).status_code == 200
    assert client.get("/reseller/api/dashboard", headers=viewer).status_code == 200
    assert [r["id"] for r in client.get(SCHEDULES, headers=viewer).get_json()] == [schedule_id]
    assert client.get(f"{SCHEDULES}/{schedule_id}", headers=viewer).status_code == 200
    for method, path, body in (("POST", SCHEDULES, _schedule([viewer_email])),
                               ("PATCH", f"{SCHEDULES}/{schedule_id}", {"recipients": ["leak@rival.example"]}),
                               ("DELETE", f"{SCHEDULES}/{schedule_id}", None)):
        problem = _refused(client.open(path, method=method, json=body, headers=viewer), "forbidden")
        assert "finance.report_schedules" in problem["detail"], (method, problem)
    # nothing changed: the Admin's schedule is still there, still to the Admin only
    listed = client.get(SCHEDULES, headers=admin).get_json()
    assert [(r["id"], r["recipients"]) for r in listed] == [(schedule_id, [admin_email])]


def test_a_manager_schedules_reports_to_the_team_but_not_outside_it(app, db, make_tenant):
    tenant, elsewhere = make_tenant("REPS"), make_tenant("REPX")
    client = app.test_client()
    manager, manager_email = _signed_in(app, db, tenant, "Manager")
    colleague = _member(db, tenant, "User")
    departed = _member(db, tenant, "User", active=False)
    stranger = _member(db, elsewhere, "Admin")  # a team member, but of another reseller
    made = client.post(SCHEDULES, json=_schedule([manager_email, colleague.upper()]), headers=manager)
    assert made.status_code == 201, made.get_json()
    row = made.get_json()
    assert row["recipients"] == [manager_email, colleague]

    for outside in ("accountant@outside.example", departed, stranger):
        problem = _refused(client.post(SCHEDULES, json=_schedule([colleague, outside]), headers=manager),
                           "outside-recipients")
        assert problem["outside"] == [outside] and problem["permission"] == "users.admin"
        assert outside in problem["detail"] and "users.admin" in problem["detail"]
        problem = _refused(client.patch(f"{SCHEDULES}/{row['id']}", json={"recipients": [colleague, outside]},
                                        headers=manager), "outside-recipients")
        assert problem["outside"] == [outside]
    # the refusals kept nothing: one schedule, to the team as it was
    listed = client.get(SCHEDULES, headers=manager).get_json()
    assert [(r["id"], r["recipients"]) for r in listed] == [(row["id"], [manager_email, colleague])]
    # and a Manager may still change and delete what stays inside the team
    changed = client.patch(f"{SCHEDULES}/{row['id']}", json={"recipients": [colleague], "format": "xlsx"},
                           headers=manager)
    assert changed.status_code == 200 and changed.get_json()["recipients"] == [colleague]
    assert client.delete(f"{SCHEDULES}/{row['id']}", headers=manager).status_code == 204


def test_an_admin_sends_reports_outside_and_a_manager_may_then_only_pause_or_delete_it(app, db, make_tenant):
    tenant = make_tenant("REPS")
    client = app.test_client()
    admin, _ = _signed_in(app, db, tenant, "Admin")
    manager, _ = _signed_in(app, db, tenant, "Manager")
    made = client.post(SCHEDULES, json=_schedule(["accountant@outside.example"]), headers=admin)
    assert made.status_code == 201, made.get_json()
    path = f"{SCHEDULES}/{made.get_json()['id']}"

    # changing what goes out, or to whom, is the Admin's; stopping it is anyone's who manages schedules
    _refused(client.patch(path, json={"report": "revenue"}, headers=manager), "outside-recipients")
    paused = client.patch(path, json={"active": False}, headers=manager)
    assert paused.status_code == 200 and paused.get_json()["active"] is False
    _refused(client.patch(path, json={"active": True}, headers=manager), "outside-recipients")
    _refused(client.patch(path, json={"recipients": ["accountant@outside.example", "more@outside.example"]},
                          headers=manager), "outside-recipients")
    assert client.patch(path, json={"active": True}, headers=admin).status_code == 200
    assert client.delete(path, headers=manager).status_code == 204


def test_a_token_schedules_no_more_than_its_scope_and_its_user_allow(app, db, make_tenant):
    tenant = make_tenant("REPS")
    host = host_of(tenant)
    client = app.test_client()
    admin, admin_email = _signed_in(app, db, tenant, "Admin")
    owner = Reseller(tenant, host, 0, admin_email, admin["Authorization"].split()[1])
    metadata = client.get("/.well-known/oauth-authorization-server", headers={"Host": host}).get_json()
    assert "finance.report_schedules" in metadata["scopes_supported"]
    app_client = register_app(client, owner, scopes=["finance.reports", "finance.report_schedules", "users.admin"])

    # the Admin's token without users.admin: the team, yes; outside, no
    token = user_tokens(client, owner, app_client, scope="finance.reports finance.report_schedules")
    headers = bearer(token["access_token"], host)
    assert client.post(SCHEDULES, json=_schedule([admin_email]), headers=headers).status_code == 201
    _refused(client.post(SCHEDULES, json=_schedule(["x@outside.example"]), headers=headers), "outside-recipients")

    # a Readonly user's token asking for every scope still cannot schedule anything
    viewer, viewer_email = _signed_in(app, db, tenant, "Readonly")
    token = user_tokens(client, owner, app_client, session_token=viewer["Authorization"].split()[1],
                        scope="finance.reports finance.report_schedules users.admin")
    headers = bearer(token["access_token"], host)
    assert client.get(SCHEDULES, headers=headers).status_code == 200
    _refused(client.post(SCHEDULES, json=_schedule([viewer_email]), headers=headers), "forbidden")


def test_a_view_as_session_cannot_schedule_reports(app, db, make_tenant, staff):
    tenant = make_tenant("REPS")
    client = app.test_client()
    admin, admin_email = _signed_in(app, db, tenant, "Admin")
    schedule_id = client.post(SCHEDULES, json=_schedule([admin_email]), headers=admin).get_json()["id"]
    reply = client.post(f"/console/api/tenants/{tenant.code}/view-as", json={"reason": "ticket 4711"},
                        headers=staff_headers(client, staff))
    assert reply.status_code == 201, reply.get_json()
    viewing = bearer(reply.get_json()["token"], host_of(tenant))
    assert client.get(SCHEDULES, headers=viewing).status_code == 200
    _refused(client.post(SCHEDULES, json=_schedule([admin_email]), headers=viewing), "forbidden")
    _refused(client.patch(f"{SCHEDULES}/{schedule_id}", json={"active": False}, headers=viewing), "forbidden")
    _refused(client.delete(f"{SCHEDULES}/{schedule_id}", headers=viewing), "forbidden")


def test_the_service_itself_refuses_a_principal_without_the_permission(db, make_tenant):
    """Any door (API, portal, CLI) reaches the same rule: the view's check is not the only one."""
    tenant = make_tenant("REPS")
    admin_email = _member(db, tenant, "Admin")
    reader = Principal(kind=USER, id=1, name="reader", tenant_id=tenant.id, permissions=READ)
    with db.session() as s, tenant_context(tenant):
        with pytest.raises(ServiceError) as refused:
            schedules.create(s, _schedule([admin_email]), by=reader)
        assert refused.value.status == 403
        assert s.execute(select(func.count()).select_from(ReportSchedule)).scalar_one() == 0
