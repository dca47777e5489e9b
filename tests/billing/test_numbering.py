"""Invoice numbers: the reseller's format, one gap-free series per kind of document and year, and no gap
and no duplicate under 200 concurrent issues of which some roll back after taking their number."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.db import Database
from app.models.billing import Invoice
from app.services.billing import invoices, numbering
from app.services.errors import Invalid
from app.services.settings import get_setting, put_setting
from tenants import tenant_context


def test_formats_render_year_month_and_a_zero_padded_counter():
    on = date(2026, 11, 5)
    assert numbering.render("INV-{YYYY}-{000000}", 42, on) == "INV-2026-000042"
    assert numbering.render("F{YY}{MM}/{0000}", 7, on) == "F2611/0007"
    assert numbering.render("N{000}", 12345, on) == "N12345"  # outgrows its digits, never truncated
    for bad in ("INV-{YYYY}", "INV-{000}-{000}", "INV-{DD}-{000}", "", "X" * 41):
        with pytest.raises(Invalid):
            numbering.validate_format(bad)


def test_a_yearly_format_restarts_each_year_and_a_plain_one_does_not():
    assert numbering.counter_name("invoice", "INV-{YYYY}-{000000}", date(2026, 1, 1)) == "number:invoice:2026"
    assert numbering.counter_name("invoice", "INV-{YY}{MM}-{0000}", date(2027, 1, 1)) == "number:invoice:2027"
    assert numbering.counter_name("credit_note", "CN{00000}", date(2027, 1, 1)) == "number:credit_note"


def _drafts(db, tenant, customer_id: int, count: int, kind: str = "invoice") -> list[int]:
    with db.session() as s, tenant_context(tenant):
        return [invoices.create_draft(s, customer_id, [{"description": "Fibre", "unit_price": "10.00"}],
                                      kind=kind).id for _ in range(count)]


def test_series_are_separate_and_only_issued_documents_are_numbered(db, billable):
    b = billable()
    ids = _drafts(db, b.tenant, b.customer_id, 3) + _drafts(db, b.tenant, b.customer_id, 2, kind="proforma")
    with db.session() as s, tenant_context(b.tenant):
        assert all(s.get(Invoice, i).number is None for i in ids)
        invoices.delete_draft(s, ids[1])  # a draft thrown away costs no number
        numbers = [invoices.issue(s, i, today=date(2026, 12, 31)).number for i in (ids[0], ids[2], ids[3])]
        numbers.append(invoices.issue(s, ids[4], today=date(2027, 1, 1)).number)
    assert numbers == ["INV-2026-000001", "INV-2026-000002", "PRO-2026-000001", "PRO-2027-000001"]


def test_the_tenants_format_is_used(db, billable):
    b = billable()
    [draft] = _drafts(db, b.tenant, b.customer_id, 1)
    with db.session() as s, tenant_context(b.tenant):
        put_setting(s, "billing", {**get_setting(s, "billing"), "invoice_format": "F{YY}{MM}/{0000}"})
    with db.session() as s, tenant_context(b.tenant):
        assert invoices.issue(s, draft, today=date(2026, 11, 5)).number == "F2611/0001"


class Refused(Exception):
    """Raised by a thread after it took its number: the transaction must give the number back."""


def test_200_concurrent_issues_with_rollbacks_leave_no_gap_and_no_duplicate(db, database_url, billable):
    b = billable(price="10.00")
    drafts = _drafts(db, b.tenant, b.customer_id, 200)
    workers = Database.from_url(database_url, pool_size=40, max_overflow=0, pool_timeout=120)
    start = threading.Barrier(len(drafts), timeout=120)
    outcome: dict[int, str] = {}
    errors: list[BaseException] = []

    def issue(n: int, invoice_id: int) -> None:
        try:
            start.wait()
            with tenant_context(b.tenant), workers.session() as s:
                invoice = invoices.issue(s, invoice_id, today=date(2026, 11, 22))
                assert invoice.number is not None
                if n % 7 == 3:  # about one in seven fails after numbering (and posting): all of it rolls back
                    raise Refused(invoice.number)
            outcome[invoice_id] = "issued"
        except Refused:
            outcome[invoice_id] = "rolled back"
        except BaseException as exc:  # noqa: BLE001 - reported below, with the thread's own traceback
            errors.append(exc)

    threads = [threading.Thread(target=issue, args=(n, i)) for n, i in enumerate(drafts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    workers.engine.dispose()
    assert errors == [] and len(outcome) == 200
    issued = sorted(i for i, what in outcome.items() if what == "issued")
    rolled_back = sorted(i for i, what in outcome.items() if what == "rolled back")
    assert len(rolled_back) == len([n for n in range(200) if n % 7 == 3])
    with db.session() as s, tenant_context(b.tenant):
        rows = s.execute(select(Invoice.id, Invoice.number, Invoice.status).where(Invoice.id.in_(drafts))).all()
        numbers = sorted(int(number.rsplit("-", 1)[1]) for _, number, _ in rows if number)
        assert numbers == list(range(1, len(issued) + 1))  # 1..N: no gap, no duplicate
        assert sorted(i for i, number, status in rows if number and status != "Draft") == issued
        assert all(number is None and status == "Draft" for i, number, status in rows if i in rolled_back)
        # and the next number continues the series
        [late] = _drafts(db, b.tenant, b.customer_id, 1)
    with db.session() as s, tenant_context(b.tenant):
        assert invoices.issue(s, late, today=date(2026, 11, 22)).number == f"INV-2026-{len(issued) + 1:06d}"
        assert invoices.billing_settings(s)["payment_terms_days"] == 14
        assert Decimal(sum(s.get(Invoice, i).total for i in issued)) == Decimal("10.00") * len(issued)
