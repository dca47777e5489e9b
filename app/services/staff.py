"""The master ISP's staff accounts, as the console's Staff pages and its staff API manage them: finding a member,
adding one, changing their name and whether they may impersonate, deactivating and reactivating them, and
resetting their two-step verification when they have lost their device.

A new member gets no password anyone else knows if it can be helped: by default they are sent the staff realm's
password e-mail (`reset.request_reset`, the "Forgot your password?" path, whose link works once, for an hour) and
choose their own; the caller may instead ask for a generated password, handed back this once and kept nowhere but
as its hash. Either way the account cannot sign in before it has a password.

The console must never lock itself out: a member cannot deactivate themself (nor reset their own second factor
from here, where no code is asked: their own security settings do that), and the last active account cannot be
deactivated by anyone. Every change is written to the platform audit log, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app import models as m
from app.services import audit
from app.services.auth import links, reset, sessions, totp, users
from app.services.auth.realms import STAFF
from app.services.errors import Conflict, Invalid, NotFound

MAX_NAME = 200
MAX_REASON = 1000
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Created:
    member: m.StaffUser
    password: str | None  # generated, when no invitation was sent: shown once by the caller, never kept
    invited: bool


def search(session: Session, q: str | None = None, *, offset: int = 0,
           limit: int = 50) -> tuple[list[m.StaffUser], int]:
    """Members whose name or e-mail contains `q` (any case), by name; and how many match in all."""
    query = select(m.StaffUser)
    wanted = (q or "").strip()
    if wanted:
        query = query.where(or_(m.StaffUser.name.icontains(wanted, autoescape=True),
                                m.StaffUser.email.icontains(wanted, autoescape=True)))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(func.lower(m.StaffUser.name), m.StaffUser.id)
                           .offset(max(offset, 0)).limit(limit)).scalars().all()
    return list(rows), total


def get(session: Session, staff_id: int) -> m.StaffUser:
    member = session.get(m.StaffUser, staff_id) if 0 < staff_id <= MAX_ID else None
    if member is None:
        raise NotFound("no such staff member")
    return member


def two_step(session: Session, member: m.StaffUser) -> dict:
    """Whether their second factor is on (or enrolment begun) and how many backup codes they have left."""
    return totp.status(session, STAFF, member)


def live_sessions(session: Session, member: m.StaffUser) -> int:
    return len(sessions.active(session, STAFF, member.id))


def _name(value: str | None) -> str:
    name = (value or "").strip()
    if not name:
        raise Invalid("a name is needed", field="name")
    if len(name) > MAX_NAME:
        raise Invalid(f"a name has at most {MAX_NAME} characters", field="name")
    return name


def _reason(value: str | None) -> str | None:
    reason = (value or "").strip() or None
    if reason and len(reason) > MAX_REASON:
        raise Invalid(f"a reason has at most {MAX_REASON} characters", field="reason")
    return reason


def _email_taken(session: Session, email: str) -> bool:
    return session.execute(select(m.StaffUser.id).where(func.lower(m.StaffUser.email) == email)).first() is not None


def create(session: Session, *, name: str, email: str, can_impersonate: bool = False, invite: bool = True,
           actor: str) -> Created:
    """Add a member: invited by e-mail to choose a password, or (`invite=False`) with a generated one."""
    name = _name(name)
    email = users._email(email)
    if _email_taken(session, email):
        raise Conflict("a staff member with this e-mail address already exists", field="email")
    password = None if invite else users.generated_password()
    member = users.create_staff(session, email=email, name=name, password=password,
                                can_impersonate=bool(can_impersonate))
    if invite:
        _send_link(session, member)
    audit.record(session, actor, "staff.create", None, staff_id=member.id, email=email, name=name,
                 can_impersonate=member.can_impersonate, invited=invite)
    return Created(member, password, invite)


def _send_link(session: Session, member: m.StaffUser) -> None:
    reset.request_reset(session, STAFF, member.email, links.page_url(session, STAFF, "password/reset"))


def send_password_link(session: Session, staff_id: int, *, actor: str) -> m.StaffUser:
    """E-mail them a new link to choose their password (an invitation that has expired, a forgotten password)."""
    member = get(session, staff_id)
    if not member.is_active:
        raise Conflict("they are deactivated: reactivate them first")
    _send_link(session, member)
    audit.record(session, actor, "staff.password_link", None, staff_id=member.id, email=member.email)
    return member


def update(session: Session, staff_id: int, *, actor: str, name: str | None = None,
           can_impersonate: bool | None = None) -> m.StaffUser:
    """Change their name and whether they may impersonate; only what differs is changed and audited."""
    member = get(session, staff_id)
    before, after = {}, {}
    if name is not None and _name(name) != member.name:
        before["name"], after["name"] = member.name, _name(name)
        member.name = after["name"]
    if can_impersonate is not None and bool(can_impersonate) != member.can_impersonate:
        before["can_impersonate"], after["can_impersonate"] = member.can_impersonate, bool(can_impersonate)
        member.can_impersonate = bool(can_impersonate)
    if after:
        session.flush()
        audit.record(session, actor, "staff.update", None, staff_id=member.id, email=member.email, before=before,
                     after=after)
    return member


def deactivate(session: Session, staff_id: int, *, actor: str, actor_id: int | None,
               reason: str | None = None) -> m.StaffUser:
    """They can no longer sign in, and every session of theirs ends at once. `actor_id`: the staff member
    asking (None for the command line), who may not be the one deactivated."""
    reason = _reason(reason)
    member = get(session, staff_id)
    if member.id == actor_id:
        raise Conflict("you cannot deactivate your own account; ask another staff member")
    if not member.is_active:
        raise Conflict("they are deactivated already")
    others = session.execute(select(m.StaffUser.id).where(m.StaffUser.is_active, m.StaffUser.id != member.id)
                             .with_for_update()).all()  # locked: two of the last two cannot remove each other
    if not others:
        raise Conflict("this is the last active staff account: the console would have nobody left to sign in")
    member.is_active = False
    ended = sessions.revoke_all(session, STAFF, member.id, "deactivated by staff")
    audit.record(session, actor, "staff.deactivate", None, staff_id=member.id, email=member.email, reason=reason,
                 sessions_ended=ended)
    return member


def reactivate(session: Session, staff_id: int, *, actor: str, reason: str | None = None) -> m.StaffUser:
    reason = _reason(reason)
    member = get(session, staff_id)
    if member.is_active:
        raise Conflict("they are active already")
    member.is_active = True
    audit.record(session, actor, "staff.reactivate", None, staff_id=member.id, email=member.email, reason=reason)
    return member


def reset_two_step(session: Session, staff_id: int, *, actor: str, actor_id: int | None,
                   reason: str | None = None) -> m.StaffUser:
    """Clear their authenticator secret and backup codes: they sign in with their password alone and set two-step
    verification up again."""
    reason = _reason(reason)
    member = get(session, staff_id)
    if member.id == actor_id:
        raise Conflict("turn your own two-step verification off in your account's security settings")
    if not member.totp_secret and not member.totp_enabled_at:
        raise Conflict("two-step verification is not on for them")
    totp.disable(session, STAFF, member)
    audit.record(session, actor, "staff.two_step_reset", None, staff_id=member.id, email=member.email,
                 reason=reason)
    return member
