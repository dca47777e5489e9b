"""The customer's profile as they see it, the fields they may change, their sites and their contacts.

A change goes through the same rules as the reseller's customer API (`customers.update`, which checks
every field with `customers.validation` and logs what changed), so a phone number the reseller's team
could not store cannot be stored from the portal either. Only the fields of the reseller's
`portal.editable_fields` are accepted (`portal_rules`); the others are refused by name, all in one answer.

Two of the editable fields are not columns of their own: the alternate phone and the communication
preferences ("Contact Preferences" in 000 §3.2: preferred contact method, language, marketing opt-in)
live in the customer's `extra`, under `alternate_phone` and `communication`, where the reseller's team
sees them too. Notification preferences (which messages go where) are not these: they come with the
notifications work, and are not kept here.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import Customer
from app.models.customers import Contact
from app.services import contacts, customers
from app.services.auth.principal import Principal
from app.services.branding.i18n import languages
from app.services.errors import Invalid, ServiceError
from app.services.selfcare import portal_rules
from app.services.services import list_for_customer

CHANNELS = ("email", "sms", "phone")
COMMUNICATION_KEYS = ("preferred_channel", "language", "marketing_opt_in")
COLUMNS = ("phone", "address", "city", "county", "sub_county", "postal_code", "latitude", "longitude",
           "mpesa_number")
IN_EXTRA = ("alternate_phone", "communication")


class NotAllowed(ServiceError):
    """The reseller does not let customers do this themselves."""

    status = 403
    slug = "not-allowed-by-provider"
    title = "Not allowed by your provider"


def communication_of(customer: Customer) -> dict:
    stored = (customer.extra or {}).get("communication")
    stored = stored if isinstance(stored, dict) else {}
    return {"preferred_channel": stored.get("preferred_channel"), "language": stored.get("language"),
            "marketing_opt_in": bool(stored.get("marketing_opt_in", False))}


def profile(session: Session, customer_id: int) -> dict:
    """Everything the Account page shows, with which fields the customer may change."""
    customer = customers.get(session, customer_id)
    rules = portal_rules.rules(session)
    extra = customer.extra or {}
    out = {name: getattr(customer, name) for name in (
        "id", "portal_id", "display_name", "status", "first_name", "last_name", "company_name", "national_id",
        "email", "created_at", *COLUMNS)}
    out.update(customer_type=customer.kind, alternate_phone=extra.get("alternate_phone"),
               communication=communication_of(customer), editable_fields=rules["editable_fields"],
               contacts_editable=rules["contacts_editable"])
    return out


def _communication(value, current: dict, errors: dict) -> dict | None:
    if not isinstance(value, dict):
        errors.setdefault("communication", []).append("an object")
        return None
    merged = dict(current)
    for key, item in value.items():
        if key not in COMMUNICATION_KEYS:
            errors.setdefault("communication", []).append(f"{key}: unknown; use {', '.join(COMMUNICATION_KEYS)}")
        elif key == "preferred_channel" and item is not None and item not in CHANNELS:
            errors.setdefault("communication", []).append(f"preferred_channel: one of {', '.join(CHANNELS)}")
        elif key == "language" and item is not None and item not in languages():
            errors.setdefault("communication", []).append(f"language: one of {', '.join(languages())}")
        elif key == "marketing_opt_in" and not isinstance(item, bool):
            errors.setdefault("communication", []).append("marketing_opt_in: true or false")
        else:
            merged[key] = item
    return merged


def update_profile(session: Session, customer_id: int, changes: dict, *, actor: Principal | None) -> dict:
    """Change the fields the reseller lets customers change; any other field, or a bad value, is refused
    with every problem named at once, and nothing is changed."""
    customer = customers.get(session, customer_id)
    editable = set(portal_rules.rules(session)["editable_fields"])
    errors: dict[str, list[str]] = {}
    for name in changes:
        if name not in editable:
            errors.setdefault(name, []).append("your provider does not let this be changed here; contact support")
    columns = {k: v for k, v in changes.items() if k in COLUMNS and k in editable}
    extra: dict = {}
    if "alternate_phone" in changes and "alternate_phone" in editable:
        try:
            extra["alternate_phone"] = customers.clean_phone(changes["alternate_phone"])
        except ValueError as exc:
            errors.setdefault("alternate_phone", []).append(str(exc))
    if "communication" in changes and "communication" in editable:
        merged = _communication(changes["communication"], communication_of(customer), errors)
        if merged is not None:
            extra["communication"] = merged
    try:
        current = {name: getattr(customer, name) for name in customers.PROFILE_FIELDS}
        customers.clean_profile(columns, current)
    except Invalid as exc:
        for name, problems in (exc.extra.get("errors") or {}).items():
            errors.setdefault(name, []).extend(problems)
    if errors:
        raise Invalid("your details were not changed: " + "; ".join(
            f"{k}: {', '.join(v)}" for k, v in sorted(errors.items())), errors=errors)
    if extra:
        columns["extra"] = extra
    if columns:
        customers.update(session, customer_id, columns, actor=actor)
    return profile(session, customer_id)


def sites(session: Session, customer_id: int) -> list[dict]:
    """The places the customer is served at: each installation address of their live services, with the
    services there. Read-only: a site moves by a relocation request."""
    customers.get(session, customer_id)
    found: dict[tuple, dict] = {}
    for service in list_for_customer(session, customer_id):
        if service.status == "Terminated" or not service.installation_address:
            continue
        key = (service.installation_address, service.region)
        site = found.setdefault(key, {"address": service.installation_address, "region": service.region,
                                      "service_ids": []})
        site["service_ids"].append(service.id)
    return list(found.values())


# -- contacts ----------------------------------------------------------------------------------------------

def list_contacts(session: Session, customer_id: int) -> list[Contact]:
    """The customer's contacts, the primary one first."""
    return contacts.list_for_customer(session, customer_id)


def contact_type_names(session: Session) -> dict[int, str]:
    return {t.id: t.name for t in contacts.list_types(session)}


def _editable(session: Session) -> None:
    if not portal_rules.rules(session)["contacts_editable"]:
        raise NotAllowed("your provider keeps your contacts: ask support to change them")


def own_contact(session: Session, customer_id: int, contact_id: int) -> Contact:
    """One of the customer's contacts; anyone else's is not found."""
    return contacts.get(session, contact_id, frozenset({customer_id}))


def add_contact(session: Session, customer_id: int, values: dict, *, actor: Principal | None) -> Contact:
    _editable(session)
    return contacts.create(session, customer_id, values, actor=actor, visible=frozenset({customer_id}))


def update_contact(session: Session, customer_id: int, contact_id: int, changes: dict, *,
                   actor: Principal | None) -> Contact:
    own_contact(session, customer_id, contact_id)  # someone else's contact is not found, whatever the rules
    _editable(session)
    return contacts.update(session, contact_id, changes, actor=actor, visible=frozenset({customer_id}))


def remove_contact(session: Session, customer_id: int, contact_id: int, *, actor: Principal | None) -> None:
    own_contact(session, customer_id, contact_id)
    _editable(session)
    contacts.delete(session, contact_id, actor=actor, visible=frozenset({customer_id}))
