"""A reseller's payments to the master ISP: applied to the oldest charges first, left-over money paying
the next charges, references unique, the account append-only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.services.errors import Conflict, Invalid, NotFound
from app.services.reseller_accounts import accounts as account_svc
from app.services.reseller_accounts import charges, credit, payments
from tests.reseller_accounts.conftest import add_charge

D = Decimal


def _owed(db, account_id) -> list[tuple[int, Decimal]]:
    with db.session() as s:
        return [(charge.id, owed) for charge, owed in payments.open_charges(s, account_id)]


def test_a_payment_pays_the_oldest_charges_first(db, charged):
    acct = charged("5000.00")
    tenant_id = acct.tenant.id
    late = add_charge(db, tenant_id, "300.00", date(2026, 11, 20))
    oldest = add_charge(db, tenant_id, "100.00", date(2026, 11, 5))
    middle = add_charge(db, tenant_id, "200.00", date(2026, 11, 10))
    with db.session() as s:
        done = payments.record(s, tenant_id, amount="250.00", method="bank_transfer", reference="FT2611",
                               actor="ops@isp")
        assert [(a.charge_id, a.amount) for a in done.allocations] == [(oldest, D("100.00")), (middle, D("150.00"))]
    assert _owed(db, acct.account_id) == [(middle, D("50.00")), (late, D("300.00"))]
    with db.session() as s:
        done = payments.record(s, tenant_id, amount="400.00", method="mpesa", actor="ops@isp")
        assert [(a.charge_id, a.amount) for a in done.allocations] == [(middle, D("50.00")), (late, D("300.00"))]
    assert _owed(db, acct.account_id) == []
    # 50.00 is left on the payment: the next charge takes it as soon as it is posted and allocated
    newest = add_charge(db, tenant_id, "80.00", date(2026, 12, 5))
    with db.session() as s:
        payments.allocate(s, account_svc.get(s, tenant_id, lock=True))
    assert _owed(db, acct.account_id) == [(newest, D("30.00"))]
    with db.session() as s:
        assert credit.balance(s, tenant_id) == D("30.00")
        assert payments.overdue(s, acct.account_id, date(2026, 12, 6)) == D("30.00")
        assert payments.overdue(s, acct.account_id, date(2026, 12, 5)) == D("0.00")


def test_a_reversed_charge_gives_its_payment_back_to_the_next_charge(db, charged):
    acct = charged("5000.00")
    first = add_charge(db, acct.tenant.id, "100.00", date(2026, 11, 1))
    second = add_charge(db, acct.tenant.id, "100.00", date(2026, 11, 2))
    with db.session() as s:
        payments.record(s, acct.tenant.id, amount="100.00", method="cash", actor="ops@isp")
    assert _owed(db, acct.account_id) == [(second, D("100.00"))]
    with db.session() as s:
        charges.reverse(s, s.get(charges.AccountEntry, first), reason="invoice voided")
        payments.allocate(s, account_svc.get(s, acct.tenant.id, lock=True))
    assert _owed(db, acct.account_id) == []
    with db.session() as s:
        assert credit.balance(s, acct.tenant.id) == D("0.00")


def test_payments_are_checked_and_a_reference_is_recorded_once(db, charged, make_tenant):
    acct = charged("1000.00", "100.00")
    for values in ({"amount": "0"}, {"amount": "-5"}, {"amount": 5.5}, {"amount": "1.001"},
                   {"amount": "5", "method": "barter"}, {"amount": "5", "reference": "x" * 121}):
        with pytest.raises(Invalid), db.session() as s:
            payments.record(s, acct.tenant.id, **{"method": "cash", **values}, actor="ops@isp")
    with db.session() as s:
        payments.record(s, acct.tenant.id, amount="10.00", method="bank_transfer", reference="REF-1", actor="ops@isp")
    with pytest.raises(Conflict, match="REF-1"), db.session() as s:
        payments.record(s, acct.tenant.id, amount="10.00", method="bank_transfer", reference="REF-1", actor="ops@isp")
    with pytest.raises(NotFound), db.session() as s:  # no account, nothing to pay into
        payments.record(s, make_tenant("NOACC").id, amount="10.00", method="cash", actor="ops@isp")


def test_the_account_is_append_only(db, charged):
    acct = charged("1000.00", "100.00")
    for statement in ("UPDATE public.account_entries SET amount = 1 WHERE account_id = :a",
                      "DELETE FROM public.account_entries WHERE account_id = :a"):
        with pytest.raises(DBAPIError, match="append-only"), db.session() as s:
            s.execute(text(statement), {"a": acct.account_id})


def test_a_reseller_with_account_entries_is_not_deleted(db, charged):
    from app.services import tenants

    owing = charged("1000.00", "100.00")
    with pytest.raises(Conflict, match="account with the master ISP"), db.session() as s:
        tenants.delete(s, owing.tenant.code)
    empty = charged("1000.00")  # an account without entries goes with its reseller (ON DELETE CASCADE)
    with db.session() as s:
        account_svc.check_deletable(s, empty.tenant.id, empty.tenant.code)


def test_the_kept_balance_is_the_sum_of_the_entries(db, charged):
    acct = charged("1000.00", "100.00", "250.50")
    first = add_charge(db, acct.tenant.id, "49.50")
    with db.session() as s:
        payments.record(s, acct.tenant.id, amount="120.00", method="cash", actor="ops@isp")
        charges.reverse(s, s.get(charges.AccountEntry, first), reason="test")
    with db.session() as s:
        summed = s.execute(text("SELECT sum(amount) FROM public.account_entries WHERE account_id = :a"),
                           {"a": acct.account_id}).scalar_one()
        assert credit.balance(s, acct.tenant.id) == summed == D("230.50")


def test_adjustments_are_new_entries_paid_and_paying_in_turn(db, charged):
    acct = charged("5000.00")
    tenant_id = acct.tenant.id
    charge = add_charge(db, tenant_id, "300.00", date(2026, 11, 10))
    with db.session() as s:
        debit = payments.adjust(s, tenant_id, amount="50.00", reason="router shipped", actor="ops@isp",
                                today=date(2026, 11, 1))
        assert (debit.payment.kind, debit.payment.due_on) == ("adjustment", date(2026, 12, 1))  # Net 30
        credit_note = payments.adjust(s, tenant_id, amount="-320.00", reason="outage credit", actor="ops@isp")
        assert [(a.charge_id, a.amount) for a in credit_note.allocations] == [
            (charge, D("300.00")), (debit.payment.id, D("20.00"))]  # the oldest due first
    assert _owed(db, acct.account_id) == [(debit.payment.id, D("30.00"))]
    with db.session() as s:
        assert credit.balance(s, tenant_id) == D("30.00")
    for values in ({"amount": "0", "reason": "x"}, {"amount": "5", "reason": " "}, {"amount": 1.5, "reason": "x"}):
        with pytest.raises(Invalid), db.session() as s:
            payments.adjust(s, tenant_id, **values, actor="ops@isp")
