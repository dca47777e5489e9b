"""E-mails to the reseller's Admins about its payouts: the statement issued (with the dispute deadline) and
the payout paid (the payment confirmation), each with the statement PDF attached.

Queued in the outbox in the transaction that builds or pays the payout (app/services/notifications): a
payout rolled back sends nothing, and a daily job run twice builds, and so mails, a payout once.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Role, User
from app.models.payouts import Payout
from app.services import documents
from app.services.branding.rendering import locale_of
from app.services.branding.resolve import brand_of
from app.services.notifications import queue_email
from tenants import require_tenant


def admins(session: Session) -> list[str]:
    """The current tenant's active Admin users' addresses."""
    return sorted(set(session.execute(
        select(User.email).join(Role, Role.id == User.role_id)
        .where(Role.name == "Admin", Role.builtin.is_(True), User.is_active.is_(True), User.email.is_not(None))
    ).scalars()))


def _context(payout: Payout) -> dict:
    return {"number": payout.number, "status": payout.status, "period_start": payout.period_start,
            "period_end": payout.period_end, "currency": payout.currency, "gross": str(payout.gross),
            "adjustments": str(payout.adjustments), "carried_in": str(payout.carried_in), "amount": str(payout.amount),
            "minimum": str(payout.minimum_threshold), "dispute_until": payout.dispute_window_ends_at,
            "payout_currency": payout.payout_currency, "fx_rate": None if payout.fx_rate is None else
            str(payout.fx_rate.normalize()), "converted_amount": None if payout.converted_amount is None else
            str(payout.converted_amount), "method": payout.method, "reference": payout.reference,
            "paid_at": payout.paid_at}


def _send(session: Session, payout: Payout, template: str) -> int:
    from app.services.commissions import statement

    addresses = admins(session)
    if not addresses:
        return 0
    pdf = documents.render_pdf(session, "commission_statement", statement.document(session, payout),
                               brand=brand_of(session, require_tenant().id), locale=locale_of(session))
    attachment = (statement.download_name(payout), "application/pdf", pdf)
    for to in addresses:
        queue_email(session, to=to, template=template, context=_context(payout), attachments=[attachment])
    return len(addresses)


def statement_issued(session: Session, payout: Payout) -> int:
    return _send(session, payout, "reseller/commission_statement")


def payout_paid(session: Session, payout: Payout) -> int:
    return _send(session, payout, "reseller/commission_paid")
