"""Saved filters of the customer list: a team member names the list's current filters and reopens them later;
they may share one with the team, who can open it but not change or delete it.

A filter is kept as the list's query string (the API's names: `status` a list, `created_from`/`created_to`
dates, the rest text), checked here for its shape only — which keys, how long — so that what is stored is
small and harmless; its values are checked where every filter is, when the list reads it. The team sees
each other's shared filters only within the tenant: the table lives in the tenant's schema.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.models.saved_filters import SavedFilter
from app.services.errors import Conflict, Invalid, NotFound

KEYS = ("portal_id", "q", "name", "status", "county", "sub_county", "city", "category", "created_from",
        "created_to", "service_type", "payment_status", "sort")
NAME_MAX = 100
VALUE_MAX = 200
PER_USER_MAX = 100  # a list to choose from, not a store


def _clean_filters(filters: dict) -> dict:
    """The filters as stored: known keys only, text values, `status` a list; empty values dropped."""
    if not isinstance(filters, dict):
        raise Invalid("filters must be an object", errors={"filters": ["not an object"]})
    unknown = sorted(set(filters) - set(KEYS))
    if unknown:
        raise Invalid(f"unknown filters: {', '.join(unknown)}", errors={"filters": [f"unknown: {', '.join(unknown)}"]})
    kept: dict = {}
    for key in KEYS:
        value = filters.get(key)
        values = value if isinstance(value, list | tuple) else [value]
        if key != "status" and len(values) > 1:
            raise Invalid(f"{key} takes one value", errors={key: ["one value"]})
        if any(v is not None and not isinstance(v, str) for v in values):
            raise Invalid(f"{key} must be text", errors={key: ["not text"]})
        texts = [v.strip() for v in values if v is not None and v.strip()]
        if any(len(v) > VALUE_MAX or "\x00" in v for v in texts):
            raise Invalid(f"{key} is too long", errors={key: [f"at most {VALUE_MAX} characters"]})
        if texts:
            kept[key] = list(dict.fromkeys(texts))[:10] if key == "status" else texts[0]
    return kept


def _clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise Invalid("a saved filter needs a name", errors={"name": ["required"]})
    if len(name) > NAME_MAX:
        raise Invalid("the name is too long", errors={"name": [f"at most {NAME_MAX} characters"]})
    return name


def visible_to(session: Session, user_id: int) -> list[SavedFilter]:
    """The member's own filters, then the team's shared ones, each by name."""
    rows = session.execute(select(SavedFilter).where(or_(SavedFilter.user_id == user_id, SavedFilter.shared))
                           .order_by(SavedFilter.user_id != user_id, func.lower(SavedFilter.name), SavedFilter.id))
    return list(rows.scalars())


def get(session: Session, user_id: int, filter_id: int) -> SavedFilter:
    """One filter the member may open (their own, or a shared one); any other is not found."""
    found = session.get(SavedFilter, filter_id) if 0 < filter_id < 2**63 else None
    if found is None or (found.user_id != user_id and not found.shared):
        raise NotFound("no such saved filter")
    return found


def save(session: Session, user_id: int, name: str, filters: dict, *, shared: bool = False) -> SavedFilter:
    """Save the filters under a name; the member's filter of the same name (whatever its case) is replaced."""
    name, filters = _clean_name(name), _clean_filters(filters)
    existing = session.execute(select(SavedFilter).where(SavedFilter.user_id == user_id,
                                                         func.lower(SavedFilter.name) == name.lower())
                               .with_for_update()).scalar_one_or_none()
    if existing is None:
        count = session.execute(select(func.count()).select_from(SavedFilter)
                                .where(SavedFilter.user_id == user_id)).scalar_one()
        if count >= PER_USER_MAX:
            raise Conflict(f"at most {PER_USER_MAX} saved filters each; delete one first")
        existing = SavedFilter(user_id=user_id, name=name)
        session.add(existing)
    existing.name, existing.filters, existing.shared = name, filters, bool(shared)
    session.flush()
    return existing


def delete(session: Session, user_id: int, filter_id: int) -> None:
    """Delete one of the member's own filters; a colleague's shared filter is theirs to delete."""
    found = get(session, user_id, filter_id)
    if found.user_id != user_id:
        raise Conflict("this filter was shared by a colleague: only they can delete it")
    session.delete(found)
    session.flush()
