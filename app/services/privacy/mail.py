"""The e-mails of the privacy pages (`themes/base/templates/email/privacy/`), written to the outbox in the
transaction of the step they tell of, in the reseller's brand and language, with links to the customer's own
pages on the reseller's primary host. A customer without an e-mail address is told on the page only."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import Customer, Outbox
from app.services.auth import links
from app.services.auth.realms import CUSTOMER
from app.services.notifications import queue_email

EXPORT_PAGE = "/portal/privacy/export"
DELETION_PAGE = "/portal/privacy/delete"


def page_url(session: Session, path: str) -> str | None:
    base = links.base_url(session, CUSTOMER)
    return f"{base.rstrip('/')}{path}" if base else None


def notify(session: Session, customer: Customer, template: str, **context) -> Outbox | None:
    if not customer.email:
        return None
    return queue_email(session, to=customer.email, template=f"privacy/{template}",
                       context={"name": customer.display_name, "portal_id": customer.portal_id, **context})
