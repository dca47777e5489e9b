"""Download my data: every tenant table that refers to a customer is exported or left out with a reason (read
from the models, so a table added later must be one or the other); no exported column holds a secret; a real
worker builds the ZIP, which holds each subject of the customer and nothing of another customer, no password,
key or token, and the PDFs of their invoices and receipts; the customer is e-mailed a link to the page that
downloads it; one export at a time, a new one retiring the old; building twice changes nothing; a build that
keeps failing is marked Failed; an export is offered for 7 days and then removed; support staff signed in as the
customer can neither ask for one nor take it; a lost job is sent again by the daily sweep."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app import clock
from app.models import Outbox, PortalAccount
from app.models.privacy import DataExport
from app.models.usage import RadiusSession
from app.services import contacts
from app.services.auth.crypto import digest
from app.services.billing import payment_methods
from app.services.privacy import exports, housekeeping, subjects
from tenants import tenant_context
from tests.portals.customers import add_usage
from tests.privacy.conftest import api_key, impersonate, invoice, pay, unzip
from tests.web.test_email_links import _check as check_links

EXPORT = "/portal/api/privacy/export"
REFERS = ("customer_id", "principal_id", "service_id", "invoice_id", "payment_id")


# -- what is exported ---------------------------------------------------------------------------------------

def _refers_to_a_customer(table) -> bool:
    named = {c.name for c in table.columns}
    linked = {fk.column.table.name for fk in table.foreign_keys}
    return bool(named & set(REFERS)) or bool(linked & {"customers", "services", "invoices", "payments"})


def test_every_table_that_refers_to_a_customer_is_exported_or_left_out_with_a_reason():
    from app.models import TenantBase

    tables = {t.name for t in TenantBase.metadata.tables.values() if _refers_to_a_customer(t)}
    missing = sorted(tables - subjects.EXPORTED - set(subjects.NOT_EXPORTED))
    assert missing == [], f"export these in app/services/privacy/subjects.py, or say why not: {missing}"
    assert not subjects.EXPORTED & set(subjects.NOT_EXPORTED)
    assert all(len(why) > 30 for why in subjects.NOT_EXPORTED.values())
    assert set(subjects.NOT_EXPORTED) <= set(TenantBase.metadata.tables)  # no reason for a table that is gone


def test_no_exported_column_holds_a_secret_and_every_omission_names_a_column():
    for subject in subjects.SUBJECTS:
        for part in subject.parts:
            table = subjects.table(part.table)
            assert set(part.omit) | set(part.only) <= {c.name for c in table.columns}, part.table
            exported = [c.name for c in subjects.columns(part)]
            assert not [n for n in exported if subjects.SECRET_COLUMN.search(n)], part.table
    assert "password_hash" not in [c.name for c in subjects.columns(subjects.SUBJECTS[0].parts[1])]


# -- building it --------------------------------------------------------------------------------------------

def _seed(db, p, customer_id: int, service_id: int, mark: str) -> None:
    """Rows in most of the tables an export reads, each carrying `mark` where it can."""
    with db.session() as s, tenant_context(p.tenant):
        contacts.create(s, customer_id, {"name": f"Contact {mark}", "email": f"{mark.lower()}@contacts.example"})
        add_usage(s, service_id, 700)
        s.add(RadiusSession(session_key=uuid.uuid4(), nas_id=1, acct_session_id=f"acct-{mark}",
                            username=f"user-{mark}", customer_id=customer_id, service_id=service_id,
                            calling_station_id=f"AA-{mark}"))
        payment_methods.add(s, customer_id, kind="card", token=f"pm_{mark}_secret_token", brand="visa", last4="4242",
                            expiry_month=12, expiry_year=2030)
    issued = invoice(db, p, "1500.00", customer_id=customer_id)
    pay(db, p, "1500.00", customer_id=customer_id)
    assert issued


def _export(client, db, p, worker, headers=None) -> dict:
    asked = client.post(EXPORT, headers=headers or p.headers)
    assert asked.status_code == 202, asked.get_json()
    assert asked.get_json()["status"] == "Queued" and asked.get_json()["download_url"] is None
    worker.drain()
    return client.get(EXPORT, headers=headers or p.headers).get_json()


def _rows(files: dict[str, bytes]):
    for name, data in files.items():
        if name.endswith(".json") and name != "manifest.json":
            for table, rows in json.loads(data).items():
                if isinstance(rows, list):
                    for row in rows:
                        yield name, table, row


def test_a_worker_builds_every_subject_of_the_customer_and_nothing_of_anyone_else(app, client, db, portal,
                                                                                  export_worker):
    p = portal()
    neighbour = portal("PRIVN")  # another reseller: its rows are in another schema altogether
    _seed(db, p, p.customer_id, p.service_id, "MINE")
    _seed(db, p, p.other_customer_id, p.other_service_id, "THEIRS")
    _seed(db, neighbour, neighbour.customer_id, neighbour.service_id, "NEIGHBOUR")
    client.put("/portal/api/privacy/consents", json={"marketing_email": True}, headers=p.headers)
    key = api_key(client, p, "read")
    client.post(f"/portal/api/services/{p.service_id}/requests", headers=p.headers,
                json={"kind": "cancellation", "effective": "next_cycle", "payload": {"reason": "moving"}})

    status = _export(client, db, p, export_worker)
    assert status["status"] == "Ready" and status["ready"] is True
    assert status["download_url"] == f"{EXPORT}/download"
    assert clock.now() + timedelta(days=6) < datetime.fromisoformat(status["expires_at"]) and status["size"] > 0
    downloaded = client.get(f"{EXPORT}/download", headers=p.headers)
    assert downloaded.status_code == 200 and downloaded.mimetype == "application/zip"
    assert downloaded.headers["Content-Disposition"].startswith(f"attachment; filename=my-data-{p.portal_id}-")
    assert "no-store" in downloaded.headers["Cache-Control"]
    files = unzip(downloaded.data)
    assert downloaded.data and len(downloaded.data) == status["size"]

    manifest = json.loads(files["manifest.json"])
    assert manifest["portal_id"] == p.portal_id
    assert {s["file"] for s in manifest["subjects"]} == {f"{s.name}.json" for s in subjects.SUBJECTS} <= set(files)
    counts = {table: n for s in manifest["subjects"] for table, n in s["rows"].items()}
    for table in ("customers", "portal_accounts", "customer_status_history", "contacts", "services",
                  "service_status_history", "service_requests", "invoices", "invoice_lines", "payments",
                  "payment_allocations", "payment_methods", "ledger_entries", "usage_daily", "radius_sessions",
                  "activity_log", "login_events", "sessions", "consent_events", "api_keys", "data_exports"):
        assert counts[table] >= 1, table
    assert manifest["documents"] == {"invoices": 1, "receipts": 1} and manifest["missing_documents"] == []
    assert [n for n in files if n.startswith("documents/")] and all(
        files[n].startswith(b"%PDF") for n in files if n.startswith("documents/"))
    profile = json.loads(files["profile.json"])
    assert profile["customers"][0]["email"] == p.email and profile["two_factor"] == {"enabled": False,
                                                                                        "backup_codes_left": 0}
    assert json.loads(files["consents.json"])["current"][0]["granted"] is True
    assert Decimal(json.loads(files["invoices.json"])["invoices"][0]["total"]) == Decimal("1500.00")

    with db.session() as s, tenant_context(p.tenant):
        ids = {"customer_id": {p.customer_id}, "principal_id": {p.customer_id},
               "service_id": {p.service_id}, "invoice_id": set(subjects.scope_of(
                   s, p.customer_id, p.email, clock.today()).invoice_ids)}
        password_hash = s.get(PortalAccount, p.customer_id).password_hash
    for name, table, row in _rows(files):
        for column, allowed in ids.items():
            if row.get(column) is not None:
                assert row[column] in allowed, (name, table, column, row)
    everything = b"\n".join(files.values())
    for theirs in ("THEIRS", "NEIGHBOUR", f"wanjiru{p.other_customer_id}", neighbour.portal_id):
        assert theirs.encode() not in everything, theirs
    for secret in (password_hash, key["Authorization"].removeprefix("Bearer "), digest(p.token), p.token,
                   p.network_password, "pm_MINE_secret_token"):
        assert secret.encode() not in everything, secret[:12]

    with db.session() as s, tenant_context(p.tenant):
        [mail] = s.execute(select(Outbox).where(Outbox.template == "privacy/export_ready")).scalars().all()
    assert mail.to_address == p.email
    check_links(client, [mail], "Download your data", p.host)  # the link opens the page that downloads it


def test_one_export_at_a_time_and_a_new_one_retires_the_old(client, db, portal, export_worker):
    p = portal()
    first = client.post(EXPORT, headers=p.headers).get_json()
    again = client.post(EXPORT, headers=p.headers).get_json()
    assert again["id"] == first["id"] and again["status"] == "Queued"
    export_worker.drain()
    with db.session() as s, tenant_context(p.tenant):
        old_file = exports.folder() / s.get(DataExport, first["id"]).stored_name
    assert old_file.is_file()
    second = _export(client, db, p, export_worker)
    assert second["id"] != first["id"] and second["status"] == "Ready"
    with db.session() as s, tenant_context(p.tenant):
        assert s.get(DataExport, first["id"]).status == "Expired"
        assert s.execute(select(DataExport).where(DataExport.customer_id == p.customer_id,
                                                  DataExport.status == "Ready")).scalars().all()[0].id == second["id"]
    assert not old_file.exists()
    with tenant_context(p.tenant):
        assert [f.name for f in exports.folder().glob("export-*.zip")] == [f"{_stored(db, p, second['id'])}"]


def _stored(db, p, export_id: int) -> str:
    with db.session() as s, tenant_context(p.tenant):
        return s.get(DataExport, export_id).stored_name


def test_building_twice_changes_nothing(client, db, portal, export_worker):
    p = portal()
    made = _export(client, db, p, export_worker)
    with tenant_context(p.tenant):
        assert exports.build(db, made["id"]) == "skipped"
        assert len(list(exports.folder().glob("export-*.zip"))) == 1
    with db.session() as s, tenant_context(p.tenant):
        assert s.get(DataExport, made["id"]).attempts == 1
        assert len(s.execute(select(Outbox).where(Outbox.template == "privacy/export_ready")).scalars().all()) == 1


def test_a_build_that_keeps_failing_is_retried_then_marked_failed(client, db, portal, privacy_broker):
    p = portal()
    made = client.post(EXPORT, headers=p.headers).get_json()
    with tenant_context(p.tenant):
        folder = exports.folder()
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.write_text("a file where the export folder should be")  # the disk refuses: a real failure
        try:
            with pytest.raises(OSError):
                exports.build(db, made["id"], max_attempts=2)
            assert client.get(EXPORT, headers=p.headers).get_json()["status"] == "Queued"  # to be retried
            assert exports.build(db, made["id"], max_attempts=2) == "failed"
        finally:
            folder.unlink()
    shown = client.get(EXPORT, headers=p.headers).get_json()
    assert shown["status"] == "Failed" and shown["download_url"] is None
    assert client.get(f"{EXPORT}/download", headers=p.headers).status_code == 404
    assert client.post(EXPORT, headers=p.headers).get_json()["status"] == "Queued"  # the customer may ask again


def test_an_export_is_offered_for_seven_days_then_removed(client, db, portal, export_worker):
    p = portal()
    made = _export(client, db, p, export_worker)
    key = api_key(client, p, "read")  # a session would not last the week; a key does
    with tenant_context(p.tenant):
        path = exports.folder() / _stored(db, p, made["id"])
    with clock.travel(clock.now() + timedelta(days=6, hours=23)):
        assert client.get(f"{EXPORT}/download", headers=key).status_code == 200
    with clock.travel(clock.now() + timedelta(days=7, minutes=1)):
        gone = client.get(f"{EXPORT}/download", headers=key)
        assert gone.status_code == 410 and gone.get_json()["type"] == "/problems/export-expired"
        assert client.get(EXPORT, headers=key).get_json()["status"] == "Expired"
        with db.session() as s, tenant_context(p.tenant):
            assert housekeeping.sweep(s)["expired"] == 1
        with db.session() as s, tenant_context(p.tenant):
            assert housekeeping.sweep(s)["expired"] == 0  # the same day again: nothing more
    assert not path.exists()


def test_support_staff_can_neither_ask_for_nor_take_a_customers_export(app, client, db, portal, staff,
                                                                       export_worker):
    p = portal()
    support = impersonate(app, client, p, staff)
    host = {"Host": p.host}
    refused = support.post(EXPORT, headers=host)
    assert refused.status_code == 403 and refused.get_json()["type"] == "/problems/customer-only"
    _export(client, db, p, export_worker)
    assert support.get(EXPORT, headers=host).get_json()["status"] == "Ready"  # they may see that it exists
    assert support.get(f"{EXPORT}/download", headers=host).status_code == 403


def test_another_customers_export_is_never_reached(client, db, portal, export_worker):
    p = portal()
    other = client.post("/portal/auth/login", json={"portal_id": _portal_id(db, p), "password": "Str0ng#Pass"},
                        headers={"Host": p.host}).get_json()["token"]
    theirs = {"Authorization": f"Bearer {other}", "Host": p.host}
    _export(client, db, p, export_worker, headers=theirs)
    assert client.get(EXPORT, headers=p.headers).status_code == 404
    assert client.get(f"{EXPORT}/download", headers=p.headers).status_code == 404


def _portal_id(db, p) -> str:
    from app.services import customers

    with db.session() as s, tenant_context(p.tenant):
        return customers.get(s, p.other_customer_id).portal_id


def test_a_lost_job_is_sent_again_by_the_daily_sweep(client, db, portal, privacy_broker, export_worker):
    p = portal()
    with db.session() as s, tenant_context(p.tenant):  # asked for while the queue was away: no job went out
        row = DataExport(customer_id=p.customer_id, status="Queued", requested_by="test",
                         requested_at=clock.now() - timedelta(hours=2))
        s.add(row)
        s.flush()
        lost = row.id
    with db.session() as s, tenant_context(p.tenant):
        assert housekeeping.sweep(s)["resent"] == 1
    export_worker.drain()
    assert _status(db, p, lost) == "Ready"
    assert client.get(EXPORT, headers=p.headers).get_json()["id"] == lost


def _status(db, p, export_id: int) -> str:
    with db.session() as s, tenant_context(p.tenant):
        return s.get(DataExport, export_id).status
