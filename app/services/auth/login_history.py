"""An account's sign-in attempts, newest first, as its owner reads them ("is that me?").

Read by the API's `login-history` (the latest 50) and by the portal's Security pages (a page at a time,
with the total for the pager), so both show the same rows in the same order.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.services.auth.realms import Realm


def attempts(session: Session, realm: Realm, principal_id: int, *, limit: int, offset: int = 0) -> list:
    model = realm.login_event
    return list(session.execute(
        select(model).where(model.principal_kind == realm.kind, model.principal_id == principal_id)
        .order_by(model.at.desc(), model.id.desc()).limit(limit).offset(offset)
    ).scalars())


def count(session: Session, realm: Realm, principal_id: int) -> int:
    model = realm.login_event
    return session.execute(select(func.count()).select_from(model).where(
        model.principal_kind == realm.kind, model.principal_id == principal_id)).scalar_one()
