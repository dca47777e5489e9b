"""Customers' contacts and the contact types a reseller configures ("Flexible Contact Management", 001).

A customer has any number of contacts, none mandatory; each may have a type from the reseller's own
list (or none), its own channels (`[{"kind": "sms", "address": "254712345678"}, ...]`) and its own
notification routing (`{"billing": ["email"], "outages": ["sms", "whatsapp"]}`): a topic goes only to
channels the contact has (its e-mail and phone count as the `email`, and `sms`/`voice` channels).
At most one contact per customer is primary; marking another primary moves the mark.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from app.models.customers import Contact, ContactType
from app.services import activity
from app.services import customers as customer_service
from app.services.auth.principal import Principal
from app.services.customers import normalise_msisdn, valid_id
from app.services.errors import Conflict, Invalid, NotFound

CHANNEL_KINDS = ("email", "sms", "voice", "whatsapp", "telegram")
TOPICS = ("billing", "payments", "service", "outages", "support", "marketing", "security")
MAX_CHANNELS = 20
FIELDS = ("type_id", "name", "email", "phone", "channels", "notifications", "is_primary")


# -- contact types ------------------------------------------------------------------------------------
def _type_name(name) -> str:
    name = " ".join(str(name or "").split())
    if not name or len(name) > 60:
        raise Invalid("a contact type needs a name of 1 to 60 characters", errors={"name": ["1 to 60 characters"]})
    return name


def _unique_type_name(session: Session, name: str, except_id: int | None = None) -> None:
    query = select(ContactType.id).where(func.lower(ContactType.name) == name.lower())
    if except_id is not None:
        query = query.where(ContactType.id != except_id)
    if session.execute(query).first():
        raise Conflict(f"a contact type named {name!r} exists already")


def list_types(session: Session) -> list[ContactType]:
    return list(session.execute(select(ContactType).order_by(ContactType.name, ContactType.id)).scalars())


def get_type(session: Session, type_id: int) -> ContactType:
    row = session.get(ContactType, type_id) if valid_id(type_id) else None
    if row is None:
        raise NotFound("no such contact type")
    return row


def create_type(session: Session, *, name: str, description: str | None = None,
                actor: Principal | None = None) -> ContactType:
    name = _type_name(name)
    _unique_type_name(session, name)
    row = ContactType(name=name, description=(description or "").strip() or None)
    session.add(row)
    session.flush()
    activity.record(session, actor, None, "contact_type.created", contact_type_id=row.id, name=row.name)
    return row


def update_type(session: Session, type_id: int, changes: dict, *, actor: Principal | None = None) -> ContactType:
    row = get_type(session, type_id)
    if "name" in changes:
        name = _type_name(changes["name"])
        _unique_type_name(session, name, except_id=row.id)
        row.name = name
    if "description" in changes:
        row.description = (changes["description"] or "").strip() or None
    session.flush()
    activity.record(session, actor, None, "contact_type.updated", contact_type_id=row.id, fields=sorted(changes))
    return row


def delete_type(session: Session, type_id: int, *, actor: Principal | None = None) -> None:
    """A type still given to contacts stays (its contacts would silently lose their type)."""
    row = get_type(session, type_id)
    used = session.execute(select(func.count()).select_from(Contact).where(Contact.type_id == type_id)).scalar_one()
    if used:
        raise Conflict(f"the contact type {row.name!r} is given to {used} contact(s); change theirs first",
                       contacts=used)
    session.delete(row)
    session.flush()
    activity.record(session, actor, None, "contact_type.deleted", contact_type_id=type_id, name=row.name)


# -- validation ---------------------------------------------------------------------------------------
def _channel(item, index: int, errors: dict) -> dict | None:
    if not isinstance(item, dict) or set(item) - {"kind", "address"}:
        errors.setdefault("channels", []).append(f"#{index}: an object with 'kind' and 'address'")
        return None
    kind, address = item.get("kind"), " ".join(str(item.get("address") or "").split())
    if kind not in CHANNEL_KINDS:
        errors.setdefault("channels", []).append(f"#{index}: kind must be one of {', '.join(CHANNEL_KINDS)}")
        return None
    if not address or len(address) > 254:
        errors.setdefault("channels", []).append(f"#{index}: an address of 1 to 254 characters")
        return None
    try:
        if kind == "email":
            address = customer_service.clean_email(address)
        elif kind in ("sms", "voice", "whatsapp"):
            address = _number(address)
    except ValueError as exc:
        errors.setdefault("channels", []).append(f"#{index}: {exc}")
        return None
    return {"kind": kind, "address": address}


def _number(value: str) -> str:
    """A Kenyan mobile number in its M-PESA form, any other as digits (with a leading + kept)."""
    try:
        return normalise_msisdn(value)
    except ValueError:
        return customer_service.clean_phone(value)


def _clean(values: dict, current: dict) -> dict:
    errors: dict[str, list[str]] = {}
    cleaned = {}
    for name, value in values.items():
        if name not in FIELDS:
            errors.setdefault(name, []).append("unknown field")
        elif name == "name":
            value = " ".join(str(value or "").split())
            if not value or len(value) > 200:
                errors.setdefault(name, []).append("1 to 200 characters")
            cleaned[name] = value
        elif name == "email":
            try:
                cleaned[name] = customer_service.clean_email(value)
            except ValueError as exc:
                errors.setdefault(name, []).append(str(exc))
        elif name == "phone":
            try:
                cleaned[name] = _number(value) if value else None
            except ValueError as exc:
                errors.setdefault(name, []).append(str(exc))
        elif name == "channels":
            items = value or []
            if not isinstance(items, list) or len(items) > MAX_CHANNELS:
                errors.setdefault(name, []).append(f"a list of at most {MAX_CHANNELS} channels")
            else:
                channels = [_channel(item, i, errors) for i, item in enumerate(items)]
                cleaned[name] = list({(c["kind"], c["address"]): c for c in channels if c}.values())
        elif name == "notifications":
            cleaned[name] = value or {}
        else:
            cleaned[name] = value
    merged = {**current, **cleaned}
    notifications = merged.get("notifications") or {}
    if not isinstance(notifications, dict):
        errors.setdefault("notifications", []).append("an object: topic → list of channel kinds")
    else:
        available = {c["kind"] for c in merged.get("channels") or ()}
        available |= {"email"} if merged.get("email") else set()
        available |= {"sms", "voice"} if merged.get("phone") else set()
        for topic, kinds in notifications.items():
            if topic not in TOPICS:
                errors.setdefault("notifications", []).append(f"{topic!r}: topics are {', '.join(TOPICS)}")
            elif not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
                errors.setdefault("notifications", []).append(f"{topic}: a list of channel kinds")
            elif missing := sorted(set(kinds) - available):
                errors.setdefault("notifications", []).append(
                    f"{topic}: the contact has no {', '.join(missing)} channel")
    if errors:
        summary = "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(errors.items()))
        raise Invalid(f"the contact is not valid: {summary}", errors=errors)
    if "notifications" in cleaned:
        cleaned["notifications"] = {t: sorted(set(k)) for t, k in cleaned["notifications"].items()}
    return cleaned


# -- contacts -----------------------------------------------------------------------------------------
def list_for_customer(session: Session, customer_id: int, visible: frozenset[int] | None = None) -> list[Contact]:
    customer_service.get(session, customer_id, visible)
    return list(session.execute(
        select(Contact).where(Contact.customer_id == customer_id).order_by(Contact.is_primary.desc(), Contact.id)
    ).scalars())


def get(session: Session, contact_id: int, visible: frozenset[int] | None = None) -> Contact:
    contact = session.get(Contact, contact_id) if valid_id(contact_id) else None
    if contact is None or (visible is not None and contact.customer_id not in visible):
        raise NotFound("no such contact")
    return contact


def _check_type(session: Session, type_id: int | None) -> None:
    if type_id is not None and (not valid_id(type_id) or session.get(ContactType, type_id) is None):
        raise Invalid("no such contact type", errors={"type_id": ["no such contact type"]})


def _take_primary(session: Session, customer_id: int, contact_id: int | None) -> None:
    query = sql_update(Contact).where(Contact.customer_id == customer_id, Contact.is_primary)
    if contact_id is not None:
        query = query.where(Contact.id != contact_id)
    session.execute(query.values(is_primary=False).execution_options(synchronize_session="fetch"))


def create(session: Session, customer_id: int, values: dict, *, actor: Principal | None = None,
           visible: frozenset[int] | None = None) -> Contact:
    # the customer's row is locked: contacts of one customer are changed one transaction at a time,
    # so the primary mark cannot end up on two of them
    customer_service.get(session, customer_id, visible, for_update=True)
    if "name" not in values:
        raise Invalid("a contact needs a name", errors={"name": ["required"]})
    cleaned = _clean(values, {})
    _check_type(session, cleaned.get("type_id"))
    if cleaned.get("is_primary"):
        _take_primary(session, customer_id, None)
    contact = Contact(customer_id=customer_id, **cleaned)
    session.add(contact)
    session.flush()
    activity.record(session, actor, customer_id, "contact.created", contact_id=contact.id)
    return contact


def update(session: Session, contact_id: int, changes: dict, *, actor: Principal | None = None,
           visible: frozenset[int] | None = None) -> Contact:
    contact = get(session, contact_id, visible)
    customer_service.get(session, contact.customer_id, for_update=True)
    cleaned = _clean(changes, {name: getattr(contact, name) for name in FIELDS})
    if "type_id" in cleaned:
        _check_type(session, cleaned["type_id"])
    if cleaned.get("is_primary"):
        _take_primary(session, contact.customer_id, contact.id)
    changed = sorted(name for name, value in cleaned.items() if getattr(contact, name) != value)
    for name in changed:
        setattr(contact, name, cleaned[name])
    session.flush()
    if changed:
        activity.record(session, actor, contact.customer_id, "contact.updated", contact_id=contact.id, fields=changed)
    return contact


def delete(session: Session, contact_id: int, *, actor: Principal | None = None,
           visible: frozenset[int] | None = None) -> None:
    contact = get(session, contact_id, visible)
    customer_id = contact.customer_id
    session.delete(contact)
    session.flush()
    activity.record(session, actor, customer_id, "contact.deleted", contact_id=contact_id)
