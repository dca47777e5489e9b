"""Stored payment methods: a card processor's token (never a card number: the card was entered on the
processor's own form, and we keep only its token, brand, last four digits and expiry), or an M-PESA number
to send STK pushes to.

The token is encrypted at rest (`app.services.auth.crypto`): with it and the processor's key, anyone could
charge the customer, so a database dump alone must not be enough. One method per customer is the default
(a partial unique index makes two impossible); the first one added becomes it, and removing the default
promotes the newest remaining one, so automatic retries always have something to charge while any method
is left.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import clock
from app.models import Customer
from app.models.billing import PaymentMethod
from app.services.auth import crypto
from app.services.errors import Invalid, NotFound

KINDS = ("card", "mpesa")
_MPESA = re.compile(r"^254[17]\d{8}$")


def normalise_msisdn(value: str) -> str:
    """07XXXXXXXX, +2547XXXXXXXX, 2547XXXXXXXX (and 01…) → 2547XXXXXXXX; anything else is refused."""
    digits = re.sub(r"[\s\-()+]", "", str(value or ""))
    if digits.startswith("0") and len(digits) == 10:
        digits = "254" + digits[1:]
    if not _MPESA.match(digits):
        raise Invalid("not a Kenyan mobile number (2547XXXXXXXX or 2541XXXXXXXX)", field="token")
    return digits


def _customer(session: Session, customer_id: int) -> None:
    if session.get(Customer, customer_id) is None:
        raise NotFound("no such customer")


def list_methods(session: Session, customer_id: int) -> list[PaymentMethod]:
    _customer(session, customer_id)
    return list(session.execute(select(PaymentMethod).where(PaymentMethod.customer_id == customer_id)
                                .order_by(PaymentMethod.is_default.desc(), PaymentMethod.id)).scalars())


def get(session: Session, customer_id: int, method_id: int) -> PaymentMethod:
    row = session.get(PaymentMethod, method_id) if 0 < method_id < 2**31 else None
    if row is None or row.customer_id != customer_id:
        raise NotFound("no such payment method")
    return row


def default_for(session: Session, customer_id: int) -> PaymentMethod | None:
    return session.execute(select(PaymentMethod).where(PaymentMethod.customer_id == customer_id,
                                                       PaymentMethod.is_default)).scalar_one_or_none()


def token_of(method: PaymentMethod) -> str:
    return crypto.decrypt(method.token_encrypted)


def is_expired(method: PaymentMethod, today: date) -> bool:
    """A card is good through the last day of its expiry month."""
    if method.kind != "card" or not method.expiry_year or not method.expiry_month:
        return False
    return (today.year, today.month) > (method.expiry_year, method.expiry_month)


def add(session: Session, customer_id: int, *, kind: str, token: str, brand: str | None = None,
        last4: str | None = None, expiry_month: int | None = None, expiry_year: int | None = None,
        is_default: bool = False, today: date | None = None) -> PaymentMethod:
    """Store a method. For a card, `token` is the processor's payment-method id; for M-PESA, the number."""
    _customer(session, customer_id)
    session.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update())
    if kind not in KINDS:
        raise Invalid(f"kind: one of {', '.join(KINDS)}", field="kind")
    token = (token or "").strip()
    if not token or len(token) > 500:
        raise Invalid("token: the processor's token (1 to 500 characters)", field="token")
    if kind == "mpesa":
        token = normalise_msisdn(token)
        last4, brand, expiry_month, expiry_year = token[-4:], "M-PESA", None, None
    else:
        if not (last4 and re.fullmatch(r"\d{4}", last4)):
            raise Invalid("last4: the card's last four digits", field="last4")
        if expiry_month is None or expiry_year is None or not 1 <= expiry_month <= 12 \
                or not 2000 <= expiry_year <= 2100:
            raise Invalid("expiry_month and expiry_year: the card's expiry (1–12, four-digit year)",
                          field="expiry_month")
        probe = PaymentMethod(kind=kind, expiry_month=expiry_month, expiry_year=expiry_year)
        if is_expired(probe, today or clock.today()):
            raise Invalid("the card has expired", field="expiry_year")
    first = default_for(session, customer_id) is None
    if is_default and not first:
        _clear_default(session, customer_id)
    row = PaymentMethod(customer_id=customer_id, kind=kind, token_encrypted=crypto.encrypt(token),
                        brand=(brand or None) and brand[:20], last4=last4, expiry_month=expiry_month,
                        expiry_year=expiry_year, is_default=is_default or first)
    session.add(row)
    session.flush()
    return row


def _clear_default(session: Session, customer_id: int) -> None:
    session.execute(update(PaymentMethod).where(PaymentMethod.customer_id == customer_id, PaymentMethod.is_default)
                    .values(is_default=False))
    session.flush()


def make_default(session: Session, customer_id: int, method_id: int) -> PaymentMethod:
    row = get(session, customer_id, method_id)
    if not row.is_default:
        _clear_default(session, customer_id)
        session.refresh(row)
        row.is_default = True
        session.flush()
    return row


def remove(session: Session, customer_id: int, method_id: int) -> None:
    """Delete a method; if it was the default, the newest remaining one takes its place."""
    row = get(session, customer_id, method_id)
    was_default = row.is_default
    session.delete(row)
    session.flush()
    if was_default:
        newest = session.execute(select(PaymentMethod).where(PaymentMethod.customer_id == customer_id)
                                 .order_by(PaymentMethod.id.desc()).limit(1)).scalar_one_or_none()
        if newest is not None:
            newest.is_default = True
            session.flush()
