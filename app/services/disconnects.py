"""An operator's Disconnect of a service's live sessions, as the API (`POST /services/<id>/disconnect`) and the
reseller portal's customer page both send it: the requests queued for the worker (app/services/usage/views.py
`disconnect`, the same rows and retries as any CoA) and one entry in the customer's activity log, saying who sent
it and why. In one place so that neither door can send one without the other."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models.provisioning import Service
from app.models.usage import CoaRequest
from app.services import activity
from app.services.auth.principal import Principal
from app.services.usage import views


def disconnect(session: Session, service: Service, principal: Principal, reason: str | None) -> list[CoaRequest]:
    """A Disconnect-Request for each live session (Conflict when there is none), logged as the principal's."""
    rows = views.disconnect(session, service.id, actor=principal.actor, reason=reason)
    activity.record(session, principal, service.customer_id, "service.disconnect", service_id=service.id,
                    requests=[r.id for r in rows], reason=reason)
    return rows
