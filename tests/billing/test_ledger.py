"""The ledger is append-only, reversals undo once, the balance is the sum, and the audit catches a ledger
that disagrees with the documents."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.services.billing import ledger
from app.services.errors import Conflict, Invalid
from tenants import tenant_context


def test_balance_is_the_sum_and_a_reversal_undoes_once(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        charge = ledger.post(s, customer_id=b.customer_id, kind="adjustment", amount=Decimal("150.50"),
                             currency="KES", description="cable")
        ledger.post(s, customer_id=b.customer_id, kind="adjustment", amount=Decimal("-50.25"), currency="KES",
                    description="goodwill")
        assert ledger.balance(s, b.customer_id) == Decimal("100.25")
        ledger.reverse(s, charge.id, reason="entered twice")
        assert ledger.balance(s, b.customer_id) == Decimal("-50.25")
        with pytest.raises(Conflict):
            ledger.reverse(s, charge.id, reason="again")
        with pytest.raises(Invalid):
            ledger.post(s, customer_id=b.customer_id, kind="adjustment", amount=0.1, currency="KES",  # type: ignore
                        description="a float")


@pytest.mark.parametrize("statement", ["UPDATE ledger_entries SET amount = 1", "DELETE FROM ledger_entries"])
def test_the_database_refuses_to_edit_the_ledger(db, billable, statement):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        ledger.post(s, customer_id=b.customer_id, kind="adjustment", amount=Decimal("10.00"), currency="KES",
                    description="x")
    with pytest.raises(DBAPIError, match="append-only"), db.session() as s, tenant_context(b.tenant):
        s.execute(text(statement))


def test_the_audit_finds_an_invoice_the_ledger_does_not_know(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        s.execute(text("INSERT INTO invoices (kind, series, status, customer_id, currency, total, number) "
                       "VALUES ('invoice', 'INV', 'Issued', :c, 'KES', 500, 'BAD-1')"), {"c": b.customer_id})
        problems = ledger.audit(s)
        assert any("add up to its total" in p for p in problems) and any("balance" in p for p in problems)
        s.rollback()
