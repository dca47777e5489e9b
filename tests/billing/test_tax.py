"""Taxes: exclusive, inclusive and compound, rounded per line half-up to the cent, to exact Decimals; the
reseller's rates (kept per tenant, limited to service kinds) as invoices apply them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.services.billing import invoices, tax
from app.services.billing.tax import LineSpec, Rate, price_lines
from app.services.errors import Invalid, NotFound
from app.services.settings import get_setting, put_setting
from tenants import tenant_context

D = Decimal
VAT = Rate("VAT", D("16"), id=1)
EXCISE = Rate("Excise duty", D("15"), id=2)
VAT_ON_EXCISE = Rate("VAT", D("16"), compound=True, id=3)


def line(price: str, quantity: str = "1", discount: str = "0.00", kind: str | None = None) -> LineSpec:
    return LineSpec("x", D(price), D(quantity), D(discount), service_kind=kind)


@pytest.mark.parametrize(("price", "quantity", "tax_", "total"), [
    ("1000.00", "1", "160.00", "1160.00"),
    ("999.99", "1", "160.00", "1159.99"),  # 159.9984 → 160.00
    ("0.03", "1", "0.00", "0.03"),  # 0.0048 → 0.00
    ("0.04", "1", "0.01", "0.05"),  # 0.0064 → 0.01
    ("33.3333", "3", "16.00", "116.00"),  # 99.9999 → 100.00 first, then 16 %
    ("12.5", "2.5", "5.00", "36.25"),  # 31.25 → 5.00
])
def test_exclusive_tax_is_added_and_rounded_per_line(price, quantity, tax_, total):
    priced = price_lines([line(price, quantity)], [VAT], inclusive=False)
    assert priced.tax_total == D(tax_) and priced.total == D(total)
    assert priced.total == priced.subtotal - priced.discount_total + priced.tax_total


@pytest.mark.parametrize(("price", "net", "tax_"), [
    ("1000.00", "862.07", "137.93"),  # 1000 / 1.16 = 862.0689…, tax 137.9310… → 137.93
    ("1160.00", "1000.00", "160.00"),
    ("0.05", "0.04", "0.01"),  # tax 0.0068… → 0.01
    ("2499.99", "2155.16", "344.83"),  # tax 344.8262… → 344.83
])
def test_inclusive_price_is_what_is_paid_and_the_tax_is_the_part_of_it_owed(price, net, tax_):
    priced = price_lines([line(price)], [VAT], inclusive=True)
    [priced_line] = priced.lines
    assert priced.total == D(price)  # the customer pays the price, to the cent
    assert (priced_line.net, priced.tax_total) == (D(net), D(tax_))
    assert priced_line.net + priced.tax_total == D(price)
    assert [(t.base, t.amount) for t in priced.taxes] == [(D(net), D(tax_))]


def test_compound_tax_is_charged_on_the_price_plus_the_simple_taxes():
    priced = price_lines([line("1000.00")], [VAT_ON_EXCISE, EXCISE], inclusive=False)
    assert [(t.rate.name, t.base, t.amount) for t in priced.taxes] == [
        ("Excise duty", D("1000.00"), D("150.00")), ("VAT", D("1150.00"), D("184.00"))]
    assert priced.total == D("1334.00")
    rounded = price_lines([line("999.99")], [EXCISE, VAT_ON_EXCISE], inclusive=False)
    # excise 149.9985 → 150.00; VAT on 1149.99 = 183.9984 → 184.00
    assert [t.amount for t in rounded.taxes] == [D("150.00"), D("184.00")] and rounded.total == D("1333.99")


def test_compound_tax_inclusive_takes_both_out_of_the_price():
    priced = price_lines([line("1334.00")], [EXCISE, VAT_ON_EXCISE], inclusive=True)
    assert [(t.base, t.amount) for t in priced.taxes] == [(D("1000.00"), D("150.00")), (D("1150.00"), D("184.00"))]
    assert priced.total == D("1334.00")
    odd = price_lines([line("100.00")], [EXCISE, VAT_ON_EXCISE], inclusive=True)
    # net 100 / (1.15 × 1.16) = 74.9625…; excise 11.2443… → 11.24; VAT (74.9625… × 1.15) × 16 % = 13.7931… → 13.79
    assert [t.amount for t in odd.taxes] == [D("11.24"), D("13.79")]
    assert odd.lines[0].net == D("74.97") and odd.total == D("100.00")


def test_tax_is_rounded_per_line_so_the_lines_add_up_to_the_total():
    three = [line("0.03"), line("0.03"), line("0.03")]  # 0.0048 each → 0.00; on 0.09 it would be 0.01
    priced = price_lines(three, [VAT], inclusive=False)
    assert priced.tax_total == D("0.00") and priced.total == D("0.09")
    assert priced.taxes[0].base == D("0.09") and priced.taxes[0].amount == D("0.00")


def test_discounts_come_off_before_tax_and_promotions_are_negative_lines():
    priced = price_lines([line("2500.00", discount="500.00"), line("-100.00")], [VAT], inclusive=False)
    assert (priced.subtotal, priced.discount_total, priced.tax_total, priced.total) == (
        D("2400.00"), D("500.00"), D("304.00"), D("2204.00"))  # tax 320.00 − 16.00


def test_a_rate_limited_to_some_service_kinds_applies_to_those_lines_only():
    internet_only = Rate("Excise duty", D("15"), service_kinds=("internet",))
    priced = price_lines([line("100.00", kind="internet"), line("100.00", kind="voice"), line("100.00")],
                         [internet_only, VAT], inclusive=False)
    assert [pl.tax for pl in priced.lines] == [D("31.00"), D("16.00"), D("16.00")]


def test_untaxed_lines_carry_no_tax():
    priced = price_lines([LineSpec("deposit", D("500.00"), taxable=False)], [VAT], inclusive=False)
    assert priced.tax_total == D("0.00") and priced.taxes == ()


# -- the reseller's rates --------------------------------------------------------------------------------

def test_rates_are_kept_per_tenant_and_checked(db, make_tenant):
    a, b = make_tenant("TAXA"), make_tenant("TAXB")
    with db.session() as s, tenant_context(a):
        vat = tax.create_rate(s, name="VAT", rate="16")
        excise = tax.create_rate(s, name="Excise", rate="15.5", service_kinds=["internet"], position=1)
        for bad in ({"rate": "101"}, {"rate": "-1"}, {"rate": "16.00001"}, {"rate": 16.0}, {"name": ""},
                    {"service_kinds": ["cable"]}, {"service_kinds": []}):
            with pytest.raises(Invalid):
                tax.create_rate(s, **{"name": "X", "rate": "1", **bad})
        tax.update_rate(s, excise.id, {"compound": True, "rate": "15"})
        assert [(r.name, r.rate, r.compound) for r in tax.list_rates(s)] == [
            ("VAT", D("16.0000"), False), ("Excise", D("15.0000"), True)]
        vat_id = vat.id
    with db.session() as s, tenant_context(b):
        assert tax.list_rates(s) == []
        with pytest.raises(NotFound):
            tax.get_rate(s, vat_id)
    with db.session() as s, tenant_context(a):
        tax.update_rate(s, vat_id, {"active": False})
        assert [r.name for r in tax.active_rates(s)] == ["Excise"]
        tax.delete_rate(s, vat_id)
        assert [r.name for r in tax.list_rates(s)] == ["Excise"]


def test_an_invoice_is_priced_with_the_tenants_rates_inclusive_or_exclusive(db, billable):
    b = billable(price="1000.00")
    with db.session() as s, tenant_context(b.tenant):
        tax.create_rate(s, name="Excise", rate="15", service_kinds=["internet"])
        tax.create_rate(s, name="VAT", rate="16", compound=True)
        exclusive = invoices.create_draft(s, b.customer_id, [
            {"description": "Fibre", "unit_price": "1000.00", "service_id": b.service_id},
            {"description": "Cable", "unit_price": "100.00"}])
        assert (exclusive.tax_total, exclusive.total) == (D("350.00"), D("1450.00"))  # 150 + 184 + 16
        billing = get_setting(s, "billing")
        put_setting(s, "billing", {**billing, "prices_include_tax": True})
        inclusive = invoices.create_draft(s, b.customer_id, [
            {"description": "Fibre", "unit_price": "1334.00", "service_id": b.service_id}])
        assert inclusive.tax_inclusive and (inclusive.tax_total, inclusive.total) == (D("334.00"), D("1334.00"))
        taxes = [(t.name, t.base, t.amount) for t in invoices.taxes_of(s, inclusive.id)]
        assert taxes == [("Excise", D("1000.00"), D("150.00")), ("VAT", D("1150.00"), D("184.00"))]
        shown = invoices.document(s, inclusive)
        assert [t["name"] for t in shown["taxes"]] == ["Excise (included)", "VAT (included)"]
