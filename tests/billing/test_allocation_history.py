"""A customer's credit, and the settling that spends it, over a long history: what is left of each payment and
credit note (refunds, pending and failed payments, notes part-spent) adds up to the credit, and it is read in
the same few queries for a customer with 60 payments as for one with 2. The customer's dashboard reads the
credit on every visit (bench/portal.py: 200 payments had made it 200 queries), and every payment and invoice
settles the account.

The ledger audit of tests/billing/conftest.py runs after every test here.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from app.services.billing import allocation, invoices, payments
from tenants import tenant_context
from tests.billing.test_payments import TODAY, issue_invoice

pytestmark = pytest.mark.clock(TODAY)


@contextlib.contextmanager
def statements(session):
    """The SQL statements the session sends inside the block."""
    sent: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        sent.append(statement)

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(connection, "before_cursor_execute", count)


def _paid_history(s, customer_id: int, count: int) -> None:
    """`count` invoices, each paid in full by a payment of its own."""
    for n in range(count):
        issue_invoice(s, customer_id, "100.00", due_on=TODAY + timedelta(days=n % 20))
        payments.record(s, customer_id=customer_id, amount="100.00", method="mpesa", provider="mpesa",
                        provider_ref=f"HIST{customer_id}X{n}", today=TODAY)


def test_credit_is_what_is_left_of_each_payment_and_credit_note(db, billable):
    b = billable()
    with db.session() as s, tenant_context(b.tenant):
        bill = issue_invoice(s, b.customer_id, "1000.00")
        payments.record(s, customer_id=b.customer_id, amount="1200.00", method="cash", today=TODAY)  # 200 left
        refunded = payments.record(s, customer_id=b.customer_id, amount="500.00", method="mpesa", provider="mpesa",
                                   provider_ref="REFUNDED1", today=TODAY)
        payments.refund(s, refunded.id, amount="150.00", reason="asked for part back")  # 350 left
        payments.record(s, customer_id=b.customer_id, amount="999.00", method="mpesa", provider="mpesa",
                        provider_ref="WAITING1", status="pending", today=TODAY)  # not money yet
        failed = payments.record(s, customer_id=b.customer_id, amount="777.00", method="mpesa", provider="mpesa",
                                 provider_ref="FAILED1", status="pending", today=TODAY)
        payments.fail(s, failed.id, reason="cancelled by the customer")
        note = invoices.credit_note(s, bill.id, reason="a day without service",
                                    lines=[{"line_id": invoices.lines_of(s, bill.id)[0].id, "amount": "40.00"}])
        assert allocation.unallocated_credit_note(s, note) == note.total  # the invoice was paid: nothing took it
        assert allocation.credit(s, b.customer_id) == Decimal("550.00") + note.total

        later = issue_invoice(s, b.customer_id, "300.00")  # settling spends the oldest money first
        assert (later.status, later.amount_paid) == ("Paid", Decimal("300.00"))
        assert allocation.credit(s, b.customer_id) == Decimal("250.00") + note.total


def test_credit_and_settling_take_as_many_queries_for_60_payments_as_for_2(db, billable):
    few, many = billable(), billable()
    sent = {}
    for who, count in ((few, 2), (many, 60)):
        with db.session() as s, tenant_context(who.tenant):
            _paid_history(s, who.customer_id, count)
            payments.record(s, customer_id=who.customer_id, amount="30.00", method="cash", today=TODAY)
            with statements(s) as credit_sql:
                assert allocation.credit(s, who.customer_id) == Decimal("30.00")
            left_open = issue_invoice(s, who.customer_id, "100.00")  # the 30.00 pays part of it
            with statements(s) as settle_sql:  # nothing more to spend, but every payment is looked at
                assert allocation.settle(s, who.customer_id, today=TODAY) == []
            assert (left_open.status, left_open.amount_paid) == ("Partially Paid", Decimal("30.00"))
            sent[count] = (len(credit_sql), len(settle_sql))
    assert sent[60] == sent[2]
