"""Writing the platform audit log."""

from sqlalchemy.orm import Session

from app.models import AuditEvent


def record(session: Session, actor: str, action: str, tenant_id: int | None = None, **detail) -> None:
    session.add(AuditEvent(actor=actor, action=action, tenant_id=tenant_id, detail=detail))
