"""Taxes: the reseller's tax rates, and how an invoice's lines are priced with them.

Rates are percentages kept per tenant (VAT 16 %, excise duty 15 %…). A rate may be limited to some
service kinds (`service_kinds`, NULL: every line); lines that are not a service's (a manual charge) get
only the rates without such a limit. A **compound** rate is charged on the line's amount plus its simple
taxes (Kenyan VAT on top of excise duty); compound rates do not compound on each other.

Prices are either tax-exclusive (the tax is added) or tax-inclusive (the price is what the customer pays
and the tax is the part of it that goes to the authority); the `billing.prices_include_tax` setting says
which, and each invoice remembers it (`tax_inclusive`).

Rounding, per line, half-up to the cent (the invoice's tax is the sum of its lines' taxes, so every line
printed adds up to the total printed):

- exclusive: line amount A (quantity × unit price, rounded, less the line discount);
  each simple tax s = round(A × rate); each compound tax c = round((A + Σ s) × rate);
  the line costs A + Σ s + Σ c.
- inclusive: line amount G is the price paid; the exact net is N = G / ((1 + Σ simple rates) ×
  (1 + Σ compound rates)); each simple tax s = round(N × rate), each compound tax
  c = round(N × (1 + Σ simple rates) × rate); the line costs G, exactly, and its net is G − Σ s − Σ c.

Everything is Decimal; the one division (inclusive) is carried at 28 significant digits before the
rounding to the cent, which decides every half-cent exactly.

Totals: `subtotal` is the sum of quantity × unit price (rounded per line), `discount_total` the sum of
line discounts; exclusive `total = subtotal − discount_total + tax_total`, inclusive
`total = subtotal − discount_total` (the tax is included in it and shown as such).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.billing import TaxRate
from app.services.errors import Invalid, NotFound
from app.services.ids import valid_id
from app.services.money import money, round_money, to_decimal

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
SERVICE_KINDS = ("internet", "voice", "recurring", "bundle")
RATE_PLACES = Decimal("0.0001")
QUANTITY_PLACES = Decimal("0.0001")
PRICE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Rate:
    """A tax as it applies to lines (a TaxRate row, or a rate copied from an issued invoice)."""

    name: str
    rate: Decimal  # percent
    compound: bool = False
    service_kinds: tuple[str, ...] | None = None
    id: int | None = None
    position: int = 0

    def applies_to(self, service_kind: str | None) -> bool:
        if self.service_kinds is None:
            return True
        return service_kind is not None and service_kind in self.service_kinds

    @classmethod
    def of(cls, row: TaxRate) -> Rate:
        return cls(name=row.name, rate=Decimal(row.rate), compound=row.compound,
                   service_kinds=tuple(row.service_kinds) if row.service_kinds is not None else None, id=row.id,
                   position=row.position)


# -- the reseller's rates ------------------------------------------------------------------------------

def _rate_value(value) -> Decimal:
    rate = to_decimal(value, "rate")
    if rate < 0 or rate > HUNDRED:
        raise Invalid("rate: a percentage from 0 to 100", field="rate")
    if rate != rate.quantize(RATE_PLACES):
        raise Invalid("rate: at most four decimal places", field="rate")
    return rate.quantize(RATE_PLACES)


def _name(value) -> str:
    name = str(value or "").strip()
    if not name or len(name) > 60:
        raise Invalid("name: 1 to 60 characters", field="name")
    return name


def _kinds(value) -> list[str] | None:
    if value is None:
        return None
    kinds = sorted(set(value))
    unknown = [k for k in kinds if k not in SERVICE_KINDS]
    if unknown or not kinds:
        raise Invalid(f"service_kinds: a non-empty list of {', '.join(SERVICE_KINDS)} (or null for every line)",
                      field="service_kinds")
    return kinds


def list_rates(session: Session, *, active_only: bool = False) -> list[TaxRate]:
    query = select(TaxRate).order_by(TaxRate.position, TaxRate.id)
    if active_only:
        query = query.where(TaxRate.active)
    return list(session.execute(query).scalars())


def active_rates(session: Session) -> list[Rate]:
    return [Rate.of(row) for row in list_rates(session, active_only=True)]


def get_rate(session: Session, rate_id: int) -> TaxRate:
    row = session.get(TaxRate, rate_id) if valid_id(rate_id) else None
    if row is None:
        raise NotFound("no such tax rate")
    return row


def create_rate(session: Session, *, name: str, rate, compound: bool = False, service_kinds=None,
                active: bool = True, position: int = 0) -> TaxRate:
    row = TaxRate(name=_name(name), rate=_rate_value(rate), compound=bool(compound),
                  service_kinds=_kinds(service_kinds), active=bool(active), position=int(position))
    session.add(row)
    session.flush()
    return row


def update_rate(session: Session, rate_id: int, changes: dict) -> TaxRate:
    """Change a rate. Issued invoices keep the rates they were issued with (their `invoice_taxes` are a
    copy), so a change only affects invoices drafted from now on."""
    row = get_rate(session, rate_id)
    cleaners = {"name": _name, "rate": _rate_value, "compound": bool, "service_kinds": _kinds, "active": bool,
                "position": int}
    for key, value in changes.items():
        if key not in cleaners:
            raise Invalid(f"unknown field {key!r}", field=key)
        setattr(row, key, cleaners[key](value))
    session.flush()
    return row


def delete_rate(session: Session, rate_id: int) -> None:
    """Delete a rate; invoices that used it keep its name and percentage."""
    session.delete(get_rate(session, rate_id))
    session.flush()


# -- pricing lines -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LineSpec:
    """A line as asked for: before rounding and tax."""

    description: str
    unit_price: Decimal
    quantity: Decimal = Decimal(1)
    discount: Decimal = ZERO
    service_id: int | None = None
    service_kind: str | None = None
    kind: str = "manual"
    taxable: bool = True
    period_start: date | None = None
    period_end: date | None = None


@dataclass(frozen=True)
class LineTax:
    rate: Rate
    base: Decimal
    amount: Decimal


@dataclass(frozen=True)
class PricedLine:
    spec: LineSpec
    gross: Decimal  # quantity × unit price, rounded to the cent
    amount: Decimal  # gross − discount: what the invoice line shows (net when exclusive, tax-inclusive when not)
    taxes: tuple[LineTax, ...]
    tax: Decimal
    net: Decimal  # the amount without tax
    total: Decimal  # what the line costs the customer, tax included


@dataclass(frozen=True)
class TaxSummary:
    rate: Rate
    base: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Priced:
    lines: tuple[PricedLine, ...]
    taxes: tuple[TaxSummary, ...]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    tax_inclusive: bool = False


def clean_line(values: dict) -> LineSpec:
    """A LineSpec from what a caller sent (API, draft editing); Invalid names the field."""
    description = str(values.get("description") or "").strip()
    if not description or len(description) > 500:
        raise Invalid("description: 1 to 500 characters", field="description")
    quantity = to_decimal(values.get("quantity", 1), "quantity")
    if quantity <= 0 or quantity != quantity.quantize(QUANTITY_PLACES) or quantity >= Decimal(10) ** 8:
        raise Invalid("quantity: more than 0, at most four decimal places", field="quantity")
    unit_price = to_decimal(values.get("unit_price"), "unit_price") if values.get("unit_price") is not None else None
    if unit_price is None:
        raise Invalid("unit_price is required", field="unit_price")
    if unit_price != unit_price.quantize(PRICE_PLACES) or abs(unit_price) >= Decimal(10) ** 10:
        raise Invalid("unit_price: at most four decimal places", field="unit_price")
    discount = money(values.get("discount") or "0", "discount")
    gross = round_money(quantity * unit_price)
    if discount < 0 or (discount > 0 and discount > gross):
        raise Invalid("discount: from 0 up to the line's quantity × unit price (give promotions as a negative "
                      "line instead)", field="discount")
    return LineSpec(description=description, unit_price=unit_price, quantity=quantity, discount=discount,
                    service_id=values.get("service_id"), service_kind=values.get("service_kind"),
                    kind=str(values.get("kind") or "manual")[:20], taxable=bool(values.get("taxable", True)),
                    period_start=values.get("period_start"), period_end=values.get("period_end"))


def tax_line(amount: Decimal, rates: Sequence[Rate], *, inclusive: bool) -> tuple[tuple[LineTax, ...], Decimal]:
    """The taxes of one line of `amount` (see the module docstring for the rule): (taxes, net)."""
    if not rates:
        return (), amount
    simple = [r for r in rates if not r.compound]
    compound = [r for r in rates if r.compound]
    if not inclusive:
        simple_taxes = [LineTax(r, amount, round_money(amount * r.rate / HUNDRED)) for r in simple]
        if not compound:
            return tuple(simple_taxes), amount
        compound_base = amount + sum((t.amount for t in simple_taxes), ZERO)
        compound_taxes = [LineTax(r, compound_base, round_money(compound_base * r.rate / HUNDRED)) for r in compound]
        return tuple(simple_taxes + compound_taxes), amount
    simple_sum = sum((r.rate for r in simple), Decimal(0)) / HUNDRED
    compound_sum = sum((r.rate for r in compound), Decimal(0)) / HUNDRED
    exact_net = amount / ((1 + simple_sum) * (1 + compound_sum))
    simple_amounts = [round_money(exact_net * r.rate / HUNDRED) for r in simple]
    compound_amounts = [round_money(exact_net * (1 + simple_sum) * r.rate / HUNDRED) for r in compound]
    simple_total = sum(simple_amounts, ZERO)
    net = amount - simple_total - sum(compound_amounts, ZERO)
    return (tuple(LineTax(r, net, a) for r, a in zip(simple, simple_amounts, strict=True))
            + tuple(LineTax(r, net + simple_total, a) for r, a in zip(compound, compound_amounts, strict=True))), net


def price_lines(specs: Iterable[LineSpec], rates: Sequence[Rate], *, inclusive: bool) -> Priced:
    """Round, discount and tax every line, and total them (see the module docstring)."""
    ordered = sorted(rates, key=lambda r: (r.compound, r.position, r.id or 0, r.name))
    by_kind: dict[str | None, list[Rate]] = {}
    lines: list[PricedLine] = []
    summary: dict[Rate, list] = {}
    subtotal = discount_total = tax_total = ZERO
    for spec in specs:
        gross = round_money(spec.quantity * spec.unit_price)
        amount = gross - spec.discount
        if spec.taxable:
            applicable = by_kind.get(spec.service_kind)
            if applicable is None:
                applicable = by_kind[spec.service_kind] = [r for r in ordered if r.applies_to(spec.service_kind)]
        else:
            applicable = ()
        taxes, net = tax_line(amount, applicable, inclusive=inclusive)
        tax = ZERO
        for t in taxes:
            tax += t.amount
            entry = summary.get(t.rate)
            if entry is None:
                summary[t.rate] = [t.base, t.amount]
            else:
                entry[0] += t.base
                entry[1] += t.amount
        lines.append(PricedLine(spec, gross, amount, taxes, tax, net, amount if inclusive else amount + tax))
        subtotal += gross
        discount_total += spec.discount
        tax_total += tax
    total = subtotal - discount_total + (ZERO if inclusive else tax_total)
    taxes = tuple(TaxSummary(rate, base, amount) for rate, (base, amount) in summary.items())
    return Priced(tuple(lines), taxes, subtotal, discount_total, tax_total, total, inclusive)
