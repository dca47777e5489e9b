"""Realistic sample documents: what the branding preview shows a reseller, and what the tests draw.

The figures are computed here the way billing will compute them (Decimal, half-up to the cent), so a
preview never shows a total that does not add up: a reseller checking its new brand on a sample invoice
should be looking at the brand, not at arithmetic that looks wrong.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from app import clock

CENT = Decimal("0.01")
VAT = Decimal("16")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _month(today: date | None) -> tuple[date, date]:
    today = today or clock.today()
    start = today.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return start, end


def _customer() -> dict:
    return {
        "name": "Amina Wanjiru",
        "portal_id": "BHL004217",
        "address": "Plot 12, Ngong Road\nKilimani, Nairobi",
        "email": "amina.wanjiru@example.com",
        "tax_number": None,
    }


def _line(description: str, quantity: str, unit_price: str, discount: str = "0.00",
          tax_rate: Decimal | None = VAT) -> dict:
    quantity_, price, discount_ = Decimal(quantity), Decimal(unit_price), Decimal(discount)
    return {"description": description, "quantity": quantity_, "unit_price": price, "discount": discount_,
            "tax_rate": tax_rate, "amount": _cents(quantity_ * price - discount_)}


def _totals(lines: list[dict]) -> dict:
    subtotal = _cents(sum((line["quantity"] * line["unit_price"] for line in lines), Decimal(0)))
    discount = _cents(sum((line["discount"] for line in lines), Decimal(0)))
    taxed = sum((line["amount"] for line in lines if line["tax_rate"]), Decimal(0))
    tax = _cents(taxed * VAT / 100)
    return {"subtotal": subtotal, "discount_total": discount,
            "taxes": [{"name": "VAT", "rate": VAT, "amount": tax}],
            "total": subtotal - discount + tax}


def sample_invoice(currency: str = "KES", *, today: date | None = None) -> dict:
    """A month of home fibre with a static IP and a discounted installation, part paid."""
    start, end = _month(today)
    lines = [
        _line(f"Home Fibre 20 Mbps ({start:%d %b} - {end:%d %b %Y})", "1", "3000.00"),
        _line("Static public IP address", "1", "500.00"),
        _line("Router installation (promotion)", "1", "2500.00", discount="500.00"),
        _line("Extra data bundle, 2.5 GB", "2.5", "99.99"),
    ]
    totals = _totals(lines)
    paid = Decimal("1000.00")
    return {
        "number": f"INV-{start:%Y}-000042",
        "kind": "invoice",
        "status": "Issued",
        "issued_on": start,
        "due_on": start + timedelta(days=14),
        "period_start": start,
        "period_end": end,
        "currency": currency,
        "customer": _customer(),
        "lines": lines,
        **{k: totals[k] for k in ("subtotal", "discount_total", "taxes", "total")},
        "amount_paid": paid,
        "balance_due": totals["total"] - paid,
        "notes": "Pay by M-Pesa: Paybill 400200, account number BHL004217.",
    }


def sample_credit_note(currency: str = "KES", *, today: date | None = None) -> dict:
    """The installation promotion, credited back after a failed installation."""
    start, _ = _month(today)
    lines = [_line("Router installation not completed", "1", "2000.00")]
    totals = _totals(lines)
    return {
        "number": f"CN-{start:%Y}-000007",
        "invoice_number": f"INV-{start:%Y}-000042",
        "issued_on": start + timedelta(days=9),
        "reason": "Installation could not be completed at the premises.",
        "currency": currency,
        "customer": _customer(),
        "lines": lines,
        "subtotal": totals["subtotal"],
        "taxes": totals["taxes"],
        "total": totals["total"],
    }


def sample_receipt(currency: str = "KES", *, today: date | None = None) -> dict:
    """An M-Pesa payment that settles the sample invoice's balance and leaves a little credit."""
    start, _ = _month(today)
    return {
        "number": f"RCT-{start:%Y}-000311",
        "paid_on": datetime.combine(start + timedelta(days=3), time(9, 41), tzinfo=UTC),
        "method": "M-Pesa",
        "reference": "SGK7Q2X9PL",
        "currency": currency,
        "customer": _customer(),
        "amount": Decimal("5700.00"),
        "allocations": [{"invoice_number": f"INV-{start:%Y}-000042", "amount": Decimal("5669.98")}],
        "credit_left": Decimal("30.02"),
    }


def sample_statement(currency: str = "KES", *, today: date | None = None) -> dict:
    """A month of a customer's account: an invoice, two payments, a credit note, running balance."""
    start, end = _month(today)
    opening = Decimal("0.00")
    moves = [
        (start, "Invoice", f"INV-{start:%Y}-000042", Decimal("6669.98"), None),
        (start + timedelta(days=1), "Payment, cash", "CASH-0193", None, Decimal("1000.00")),
        (start + timedelta(days=3), "Payment, M-Pesa", "SGK7Q2X9PL", None, Decimal("5700.00")),
        (start + timedelta(days=9), "Credit note", f"CN-{start:%Y}-000007", None, Decimal("2320.00")),
    ]
    entries, balance = [], opening
    for day, description, reference, debit, credit in moves:
        balance = balance + (debit or 0) - (credit or 0)
        entries.append({"date": day, "description": description, "reference": reference, "debit": debit,
                        "credit": credit, "balance": balance})
    return {
        "period_start": start,
        "period_end": end,
        "currency": currency,
        "customer": _customer(),
        "opening_balance": opening,
        "entries": entries,
        "closing_balance": balance,
    }
