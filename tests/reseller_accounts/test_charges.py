"""The wholesale accrual: one charge per service and period of an issued customer invoice, at the
service's wholesale price prorated as the customer's line was, due after the payment terms; idempotent;
reversed when the customer invoice is voided."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from app.models.billing import Invoice
from app.models.provisioning import Service
from app.models.reseller_accounts import AccountEntry
from app.services.billing import invoices, runs
from app.services.reseller_accounts import accounts as account_svc
from app.services.reseller_accounts import charges, credit
from tenants import tenant_context
from worker.actors.reseller_accounts import run_daily

D = Decimal
NOV_1 = datetime(2026, 11, 1, 6, tzinfo=UTC)


def _billed(db, billable, *, wholesale: str = "600.00", activated: datetime = datetime(2026, 10, 20, 9, tzinfo=UTC)):
    """A customer billed by the November run: 20–31 Oct (12 of 31 days) and November, retail 1000.00."""
    b = billable(price="1000.00")
    with db.session() as s, tenant_context(b.tenant):
        service = s.get(Service, b.service_id)
        service.wholesale_price, service.activated_at = D(wholesale), activated
    with db.session() as s, tenant_context(b.tenant):
        run_id = runs.start(s, "2026-11", requested_by="test", enqueue=False).id
    with tenant_context(b.tenant):
        assert runs.run(db, run_id, now=NOV_1).status == "done"
    return b


def _charges(db, tenant_id) -> list[tuple]:
    with db.session() as s:
        account = account_svc.get(s, tenant_id)
        return [(e.kind, e.service_id, e.period_start, e.period_end, e.amount, e.due_on, e.source_key)
                for e in s.execute(select(AccountEntry).where(AccountEntry.account_id == account.id)
                                   .order_by(AccountEntry.id)).scalars()]


def _accrue(db, tenant):
    with db.session() as s, tenant_context(tenant):
        return charges.accrue(s)


def test_one_charge_per_service_period_prorated_and_idempotent(db, billable):
    b = _billed(db, billable)
    first = _accrue(db, b.tenant)
    assert (first.charged, first.amount) == (2, D("832.26"))
    key = f"wholesale:{b.tenant.id}:{b.service_id}"
    assert _charges(db, b.tenant.id) == [
        ("charge", b.service_id, date(2026, 10, 20), date(2026, 10, 31), D("232.26"), date(2026, 12, 1),
         f"{key}:2026-10-20"),  # 600 × 12/31, half-up
        ("charge", b.service_id, date(2026, 11, 1), date(2026, 11, 30), D("600.00"), date(2026, 12, 1),
         f"{key}:2026-11-01"),  # Net 30 from the invoice's date
    ]
    assert _accrue(db, b.tenant).charged == 0  # run twice: still one charge per service and period
    run_daily(db)
    assert len(_charges(db, b.tenant.id)) == 2
    with db.session() as s:
        assert credit.balance(s, b.tenant.id) == D("832.26")
        account = account_svc.get(s, b.tenant.id)
        assert (account.currency, account.credit_limit) == ("KES", None)  # made by the accrual: no limit


def test_due_dates_follow_the_payment_terms(db, billable, make_tenant):
    b = billable(price="1000.00")
    with db.session() as s:
        account_svc.configure(s, b.tenant.id, {"currency": "KES", "payment_terms_days": 15}, actor="test")
    with db.session() as s, tenant_context(b.tenant):
        service = s.get(Service, b.service_id)
        service.wholesale_price, service.activated_at = D("600.00"), NOV_1
        run_id = runs.start(s, "2026-11", requested_by="test", enqueue=False).id
    with tenant_context(b.tenant):
        runs.run(db, run_id, now=NOV_1)
    _accrue(db, b.tenant)
    assert [(c[4], c[5]) for c in _charges(db, b.tenant.id)] == [(D("600.00"), date(2026, 11, 16))]  # Net 15


def test_a_voided_invoice_reverses_its_charges(db, billable):
    b = _billed(db, billable)
    _accrue(db, b.tenant)
    with db.session() as s, tenant_context(b.tenant):
        invoice = s.execute(select(Invoice).where(Invoice.customer_id == b.customer_id)).scalar_one()
        invoices.void(s, invoice.id, reason="billed in error")
    done = _accrue(db, b.tenant)
    assert (done.charged, done.reversed) == (0, 2)
    assert [c[0] for c in _charges(db, b.tenant.id)] == ["charge", "charge", "reversal", "reversal"]
    assert _accrue(db, b.tenant).reversed == 0  # once
    with db.session() as s:
        assert credit.balance(s, b.tenant.id) == D("0.00")


def test_the_accrual_crossing_the_limit_raises_the_alerts(db, billable):
    b = billable(price="1000.00")
    with db.session() as s:
        account_svc.configure(s, b.tenant.id, {"currency": "KES", "credit_limit": "650.00"}, actor="test")
    with db.session() as s, tenant_context(b.tenant):
        service = s.get(Service, b.service_id)
        service.wholesale_price, service.activated_at = D("600.00"), NOV_1
        run_id = runs.start(s, "2026-11", requested_by="test", enqueue=False).id
    with tenant_context(b.tenant):
        runs.run(db, run_id, now=NOV_1)
    _accrue(db, b.tenant)
    with db.session() as s:
        assert credit.utilisation(s, b.tenant.id) == D("92.31")
        account = account_svc.get(s, b.tenant.id)
        assert [a.level for a in credit.open_alerts(s, account.id)] == ["warning", "restriction"]
