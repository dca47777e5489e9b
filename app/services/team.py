"""A reseller's team seen as a whole, for who administers it: the members' live sessions (and ending one), and
the customers a member is limited to named by their Portal IDs, the way a person knows them, rather than by
the ids `users.create_user` and `users.update_user` store.

The members themselves, their roles and permissions are `app.services.auth.users`' (what the users API
calls); sessions are `app.services.auth.sessions`' rows, read and ended here across the team, where the
sessions API (`/reseller/auth/sessions`) shows each member only their own.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import models as m
from app.services.auth import sessions
from app.services.auth.realms import USER
from app.services.errors import Invalid, NotFound

MAX_SESSION_ID = 64


def members(session: Session) -> list[m.User]:
    return list(session.execute(select(m.User).order_by(m.User.id)).scalars())


def member(session: Session, user_id: int) -> m.User:
    """A member of this reseller's team (a member of another reseller lives in another schema: not found)."""
    user = session.get(m.User, user_id) if 0 < user_id < 2**63 else None
    if user is None:
        raise NotFound("no such team member")
    return user


def roles(session: Session) -> list[m.Role]:
    """The built-in roles and the reseller's own, as the roles API lists them."""
    return list(session.execute(select(m.Role).order_by(m.Role.id)).scalars())


def role(session: Session, role_id: int) -> m.Role:
    found = session.get(m.Role, role_id) if 0 < role_id < 2**31 else None
    if found is None:
        raise NotFound("no such role")
    return found


def live_sessions(session: Session) -> list[tuple[m.User, object]]:
    """Every member's live sessions, newest first within each member."""
    return [(user, row) for user in members(session) for row in sessions.active(session, USER, user.id)]


def end_session(session: Session, user_id: int, session_id: str) -> None:
    """End one live session of a member (they are signed out of that device at once)."""
    if len(session_id) > MAX_SESSION_ID or not sessions.revoke(session, USER, user_id, session_id,
                                                               "ended by an administrator"):
        raise NotFound("no such session: it has ended already")


def customer_ids(session: Session, portal_ids) -> list[int]:
    """The customers named by their Portal IDs (separated by commas or spaces); one this reseller does not
    have is refused by name."""
    if isinstance(portal_ids, str):
        portal_ids = re.split(r"[,\s]+", portal_ids)
    wanted = [p.strip().upper() for p in portal_ids or () if p and p.strip()]
    if not wanted:
        return []
    found = dict(session.execute(select(m.Customer.portal_id, m.Customer.id)
                                 .where(m.Customer.portal_id.in_(wanted))).all())
    missing = [p for p in wanted if p not in found]
    if missing:
        raise Invalid(f"no customer with the Portal ID {', '.join(missing)}", field="allowed_customer_ids")
    return sorted({found[p] for p in wanted})


def portal_ids(session: Session, ids) -> list[str]:
    if not ids:
        return []
    return list(session.execute(select(m.Customer.portal_id).where(m.Customer.id.in_(list(ids)))
                                .order_by(m.Customer.portal_id)).scalars())
