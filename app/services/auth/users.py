"""Managing the people who sign in: master ISP staff, reseller users and roles, customers' portal access."""

from __future__ import annotations

import ipaddress
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import models as m
from app.services.auth import passwords, permissions, sessions
from app.services.auth.realms import CUSTOMER, USER
from app.services.errors import Conflict, Invalid, NotFound


def _email(value: str | None, field: str = "email") -> str:
    value = (value or "").strip().lower()
    if "@" not in value or len(value) > 254 or value.startswith("@") or value.endswith("@"):
        raise Invalid("a valid e-mail address is needed", field=field)
    return value


def _password(password: str | None) -> str | None:
    if password is None:
        return None
    passwords.check_policy(password)
    return passwords.hash_password(password)


def _cidrs(values) -> list[str]:
    out = []
    for value in values or ():
        try:
            out.append(str(ipaddress.ip_network(str(value).strip(), strict=False)))
        except ValueError:
            raise Invalid(f"{value!r} is not an IP address or CIDR range", field="ip_whitelist") from None
    return out


# -- staff --------------------------------------------------------------------------------------------
def create_staff(session: Session, *, email: str, name: str, password: str, can_impersonate: bool = False):
    email = _email(email)
    if session.execute(select(m.StaffUser.id).where(func.lower(m.StaffUser.email) == email)).first():
        raise Conflict(f"a staff member with e-mail {email} already exists")
    staff = m.StaffUser(email=email, name=name.strip() or email, password_hash=_password(password),
                        can_impersonate=can_impersonate)
    session.add(staff)
    session.flush()
    return staff


# -- roles --------------------------------------------------------------------------------------------
def role_by_name(session: Session, name: str) -> m.Role:
    role = session.execute(select(m.Role).where(func.lower(m.Role.name) == (name or "").strip().lower())).scalar()
    if role is None:
        raise Invalid(f"no role named {name!r}", field="role")
    return role


def create_role(session: Session, *, name: str, permissions_: list[str], description: str | None = None) -> m.Role:
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise Invalid("a role needs a name of at most 60 characters", field="name")
    if session.execute(select(m.Role.id).where(func.lower(m.Role.name) == name.lower())).first():
        raise Conflict(f"a role named {name} already exists")
    try:
        perms = permissions.validate(permissions_)
    except permissions.UnknownPermission as exc:
        raise Invalid(str(exc), field="permissions") from None
    role = m.Role(name=name, permissions=perms, description=description, builtin=False)
    session.add(role)
    session.flush()
    return role


def update_role(session: Session, role_id: int, *, permissions_: list[str] | None = None,
                description: str | None = None) -> m.Role:
    role = session.get(m.Role, role_id)
    if role is None:
        raise NotFound("no such role")
    if role.builtin and permissions_ is not None:
        raise Conflict("built-in roles cannot be changed; create a custom role instead")
    if permissions_ is not None:
        try:
            role.permissions = permissions.validate(permissions_)
        except permissions.UnknownPermission as exc:
            raise Invalid(str(exc), field="permissions") from None
    if description is not None:
        role.description = description
    session.flush()
    return role


def delete_role(session: Session, role_id: int) -> None:
    role = session.get(m.Role, role_id)
    if role is None:
        raise NotFound("no such role")
    if role.builtin:
        raise Conflict("built-in roles cannot be deleted")
    if session.execute(select(m.User.id).where(m.User.role_id == role.id).limit(1)).first():
        raise Conflict("the role is still assigned to users")
    session.delete(role)


# -- reseller users -----------------------------------------------------------------------------------
def create_user(session: Session, *, username: str, email: str, role: str, password: str | None = None,
                first_name: str | None = None, last_name: str | None = None, permissions_: list[str] = (),
                allowed_customer_ids: list[int] = (), ip_whitelist: list[str] = (), department: str | None = None,
                max_sessions: int | None = None) -> tuple[m.User, str | None]:
    """Create a team member; without a password one is generated and returned (shown once)."""
    username = (username or "").strip().lower()
    if not username or len(username) > 254:
        raise Invalid("a username is needed", field="username")
    if session.execute(select(m.User.id).where(func.lower(m.User.username) == username)).first():
        raise Conflict(f"the username {username} is taken")
    generated = None
    if password is None:
        generated = password = generated_password()
    try:
        extra = permissions.validate(permissions_)
    except permissions.UnknownPermission as exc:
        raise Invalid(str(exc), field="permissions") from None
    if max_sessions is not None and max_sessions < 1:
        raise Invalid("max_sessions must be at least 1", field="max_sessions")
    user = m.User(username=username, email=_email(email), role_id=role_by_name(session, role).id,
                  password_hash=_password(password), first_name=first_name, last_name=last_name,
                  extra_permissions=extra, allowed_customer_ids=sorted(set(allowed_customer_ids or ())),
                  ip_allowlist=_cidrs(ip_whitelist), department=department, max_sessions=max_sessions)
    session.add(user)
    session.flush()
    return user, generated


def update_user(session: Session, user_id: int, **changes) -> m.User:
    user = session.get(m.User, user_id)
    if user is None:
        raise NotFound("no such user")
    if "email" in changes:
        user.email = _email(changes.pop("email"))
    if "role" in changes:
        user.role_id = role_by_name(session, changes.pop("role")).id
    if "permissions" in changes:
        try:
            user.extra_permissions = permissions.validate(changes.pop("permissions"))
        except permissions.UnknownPermission as exc:
            raise Invalid(str(exc), field="permissions") from None
    if "ip_whitelist" in changes:
        user.ip_allowlist = _cidrs(changes.pop("ip_whitelist"))
    if "allowed_customer_ids" in changes:
        user.allowed_customer_ids = sorted(set(changes.pop("allowed_customer_ids") or ()))
    if "is_active" in changes:
        set_active(session, user, changes.pop("is_active"))
    for key in ("first_name", "last_name", "department", "max_sessions"):
        if key in changes:
            setattr(user, key, changes.pop(key))
    if changes:
        raise Invalid(f"cannot change {', '.join(sorted(changes))}")
    session.flush()
    return user


def set_active(session: Session, user: m.User, active: bool) -> None:
    """Disabling a user ends all their sessions at once."""
    user.is_active = active
    if not active:
        sessions.revoke_all(session, USER, user.id, "user disabled")


def generated_password() -> str:
    # four groups from an unambiguous alphabet, plus the classes the policy asks for
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4)) + "#7aA"


# -- customers' portal access ---------------------------------------------------------------------------
def set_portal_password(session: Session, customer_id: int, password: str) -> m.PortalAccount:
    """Create or reset a customer's portal password (never their network credentials)."""
    if session.get(m.Customer, customer_id) is None:
        raise NotFound("no such customer")
    account = session.get(m.PortalAccount, customer_id)
    hashed = _password(password)
    if account is None:
        account = m.PortalAccount(customer_id=customer_id, password_hash=hashed)
        session.add(account)
    else:
        account.password_hash = hashed
        sessions.revoke_all(session, CUSTOMER, customer_id, "password set by staff")
    session.flush()
    return account


