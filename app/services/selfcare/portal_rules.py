"""What a reseller lets its customers do for themselves, and the top-up bundles it offers them.

Profile fields. The Account page of the self-care journey (003, "Editable Fields") lets a customer
change their phone numbers and how they want to be reached, and shows the rest read-only. A reseller may
let more through (its address fields, GPS, its M-PESA number) with the setting `portal.editable_fields`;
what identifies the customer or decides what they pay is never among the choices: names, ID number,
customer type, status, category, billing day, deposit, credit limit. The e-mail address is changed
through a verification link (`email_change`), never by an edit.

Contacts and sites. 003 lists "Sites (addresses)" and "Linked contacts" as view-only, so contacts are
read-only unless the reseller sets `portal.contacts_editable`; sites are the addresses services are
installed at, and move only by a relocation request.

Top-up bundles. A reseller prices a top-up when it sells one (`billing.topups.buy` takes a price), so a
customer, who must not name their own price, buys from the reseller's list of bundles instead: the
setting `topups.bundles`, each with a code, what it gives (kind, amount, validity) and its price. The
list is empty until the reseller offers something; nothing is sold that the reseller did not price.
"""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy.orm import Session

from app.services import audit
from app.services.billing import buckets
from app.services.errors import Invalid, NotFound
from app.services.money import money
from app.services.settings import get_setting, put_setting
from tenants import require_tenant

EDITABLE_CHOICES = ("phone", "alternate_phone", "address", "city", "county", "sub_county", "postal_code",
                    "latitude", "longitude", "mpesa_number", "communication")
DEFAULT_EDITABLE = ("phone", "alternate_phone", "address", "city", "county", "sub_county", "postal_code",
                    "communication")
BUNDLE_SOURCES = ("topup", "addon")
MAX_BUNDLES = 100
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
ZERO = Decimal("0")


def rules(session: Session) -> dict:
    """The reseller's self-service rules, every key present (defaults for what it has not set)."""
    portal = get_setting(session, "portal") or {}
    stored = portal.get("editable_fields")
    editable = [f for f in stored if f in EDITABLE_CHOICES] if isinstance(stored, list) else list(DEFAULT_EDITABLE)
    return {"editable_fields": editable, "contacts_editable": bool(portal.get("contacts_editable", False))}


def set_rules(session: Session, *, editable_fields: list[str] | None = None, contacts_editable: bool | None = None,
              actor: str) -> dict:
    """Change the rules (what is left out stays as it is); kept inside the `portal` setting beside the
    portal's title and support contacts, which are not touched."""
    if editable_fields is not None:
        unknown = sorted(set(editable_fields) - set(EDITABLE_CHOICES))
        if unknown:
            raise Invalid(f"editable_fields: customers may be let to change {', '.join(EDITABLE_CHOICES)}; "
                          f"not {', '.join(unknown)}", field="editable_fields")
    portal = dict(get_setting(session, "portal") or {})
    if editable_fields is not None:
        portal["editable_fields"] = [f for f in EDITABLE_CHOICES if f in set(editable_fields)]
    if contacts_editable is not None:
        portal["contacts_editable"] = bool(contacts_editable)
    put_setting(session, "portal", portal)
    found = rules(session)
    audit.record(session, actor, "portal.selfcare_rules", require_tenant().id, **found)
    return found


# -- the top-up bundles ------------------------------------------------------------------------------------

def _bundle(item, index: int, seen: set[str]) -> dict:
    where = f"bundles[{index}]"
    if not isinstance(item, dict):
        raise Invalid(f"{where}: an object", field="bundles")
    code = str(item.get("code") or "").strip()
    if not _CODE.match(code):
        raise Invalid(f"{where}.code: 1 to 40 letters, digits, '.', '_' or '-'", field="bundles")
    if code.upper() in seen:
        raise Invalid(f"{where}.code: {code!r} is listed twice", field="bundles")
    seen.add(code.upper())
    name = " ".join(str(item.get("name") or "").split())
    if not name or len(name) > 200:
        raise Invalid(f"{where}.name: 1 to 200 characters", field="bundles")
    kind = item.get("kind")
    if kind not in buckets.KINDS:
        raise Invalid(f"{where}.kind: one of {', '.join(buckets.KINDS)}", field="bundles")
    amount = buckets.quantity(item.get("amount"), kind, f"{where}.amount")
    price = money(item.get("price"), f"{where}.price")
    if price <= ZERO:
        raise Invalid(f"{where}.price: more than 0 (a free bonus is given by the reseller, not bought)",
                      field="bundles")
    days = item.get("validity_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650):
        raise Invalid(f"{where}.validity_days: whole days from 1 to 3650, or null for no expiry", field="bundles")
    source = item.get("source") or "topup"
    if source not in BUNDLE_SOURCES:
        raise Invalid(f"{where}.source: one of {', '.join(BUNDLE_SOURCES)}", field="bundles")
    description = item.get("description")
    if description is not None:
        description = " ".join(str(description).split())[:500] or None
    return {"code": code, "name": name, "kind": kind, "amount": str(amount), "price": str(price),
            "validity_days": days, "source": source, "description": description}


def bundles(session: Session) -> list[dict]:
    """The bundles the reseller offers, in its order; amounts and prices as Decimals."""
    stored = (get_setting(session, "topups") or {}).get("bundles") or []
    return [{**b, "amount": Decimal(b["amount"]), "price": Decimal(b["price"])} for b in stored]


def bundle(session: Session, code: str) -> dict:
    """One bundle by its code (any case): the reseller's, or not found."""
    wanted = str(code or "").strip().upper()
    for item in bundles(session):
        if item["code"].upper() == wanted:
            return item
    raise NotFound("no such bundle: the reseller does not offer it", field="bundle")


def set_bundles(session: Session, items: list, *, actor: str) -> list[dict]:
    """Replace the reseller's list of bundles (all checked first: one bad bundle refuses the list). The
    emergency-credit rules kept in the same setting are not touched."""
    if not isinstance(items, list) or len(items) > MAX_BUNDLES:
        raise Invalid(f"bundles: a list of at most {MAX_BUNDLES}", field="bundles")
    seen: set[str] = set()
    cleaned = [_bundle(item, i, seen) for i, item in enumerate(items)]
    stored = dict(get_setting(session, "topups") or {})
    stored["bundles"] = cleaned
    put_setting(session, "topups", stored)
    audit.record(session, actor, "portal.topup_bundles", require_tenant().id, codes=[b["code"] for b in cleaned])
    return bundles(session)
