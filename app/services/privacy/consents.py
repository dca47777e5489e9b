"""What a customer agrees to beyond the service itself: news and offers by e-mail, by SMS, and sharing their
details with third parties (000 §8.2 "Third-party data sharing, Marketing consent management").

Consent is off until the customer gives it (a marketing message needs an opt-in, never an opt-out), and it is
a record, not a flag: every change is a new `consent_events` row saying who made it, when, through which door
(the portal's pages or the customer's API, and by session or API key) and to which wording, so that the
reseller can show what a customer agreed to on any day. The table refuses to be edited (a trigger); the
current value of a purpose is its newest row. A row repeating the current value is not written: the history
says when something changed, not how often a form was saved.

The words a customer agrees to are versioned (`PURPOSES`): a new wording is a new version, and the record
names the version each choice was made to. The reseller reads a customer's consents (reseller API) and who
consents to a purpose (`consenting`), which is what a marketing send must ask before it goes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from app.models import Customer
from app.models.privacy import CONSENT_DOORS, CONSENT_PURPOSES, ConsentEvent
from app.services.auth.principal import Principal
from app.services.customers import get as get_customer
from app.services.errors import Invalid
from app.services.privacy import not_for_support


@dataclass(frozen=True)
class Purpose:
    key: str
    label: str  # msgids: the pages translate them; the API gives them as they are
    wording: str
    version: str


PURPOSES: dict[str, Purpose] = {p.key: p for p in (
    Purpose("marketing_email", "News and offers by e-mail",
            "Send me news about my services, new plans and offers by e-mail. I can stop this at any time.",
            "2026-12"),
    Purpose("marketing_sms", "News and offers by SMS",
            "Send me news about my services, new plans and offers by SMS. I can stop this at any time.",
            "2026-12"),
    Purpose("third_party_sharing", "Sharing with partners",
            "Share my name and contact details with partners my provider works with, so that they can offer "
            "me their products. Nothing is shared without this, except where the law requires it.",
            "2026-12"),
)}
assert tuple(PURPOSES) == CONSENT_PURPOSES  # the table's check constraint lists the same purposes


@dataclass(frozen=True)
class Consent:
    purpose: str
    label: str
    wording: str
    wording_version: str  # the wording shown now
    granted: bool
    changed_at: datetime | None  # None: never given nor withdrawn (off)
    door: str | None
    via: str | None
    actor: str | None
    agreed_version: str | None  # the wording the current choice was made to


def _latest(session: Session, customer_id: int) -> dict[str, ConsentEvent]:
    rows = session.execute(
        select(ConsentEvent).where(ConsentEvent.customer_id == customer_id)
        .ext(distinct_on(ConsentEvent.purpose)).order_by(ConsentEvent.purpose, ConsentEvent.id.desc())
    ).scalars()
    return {row.purpose: row for row in rows}


def current(session: Session, customer_id: int) -> list[Consent]:
    """Each purpose, in the order the page shows them, with its value and how it came to be."""
    latest = _latest(session, customer_id)
    out = []
    for purpose in PURPOSES.values():
        row = latest.get(purpose.key)
        out.append(Consent(purpose.key, purpose.label, purpose.wording, purpose.version,
                           granted=bool(row and row.granted), changed_at=row.at if row else None,
                           door=row.door if row else None, via=row.via if row else None,
                           actor=row.actor if row else None, agreed_version=row.wording_version if row else None))
    return out


def history(session: Session, customer_id: int, limit: int = 500) -> list[ConsentEvent]:
    """Every change, newest first."""
    return list(session.execute(
        select(ConsentEvent).where(ConsentEvent.customer_id == customer_id)
        .order_by(ConsentEvent.id.desc()).limit(limit)).scalars())


def change(session: Session, customer_id: int, choices: dict, *, actor: Principal, door: str) -> list[Consent]:
    """Give or withdraw consents (`{purpose: true | false}`, any of them); unknown purposes and values that are
    not true or false are refused by name and nothing changes. Only the customer decides (not support staff
    signed in as them)."""
    not_for_support(actor, "consent")
    if door not in CONSENT_DOORS:
        raise ValueError(f"unknown door {door!r}")
    errors = {key: ["unknown purpose"] for key in choices if key not in PURPOSES}
    errors.update({key: ["true or false"] for key, value in choices.items()
                   if key in PURPOSES and not isinstance(value, bool)})
    if errors:
        raise Invalid(f"consents: {', '.join(sorted(errors))}", field=sorted(errors)[0], errors=errors)
    get_customer(session, customer_id, for_update=True)  # one change at a time: the newest row is the truth
    latest = _latest(session, customer_id)
    for key in PURPOSES:
        if key not in choices:
            continue
        before = latest.get(key)
        if bool(before and before.granted) == choices[key]:
            continue  # as it is already (off by default): nothing to record
        session.add(ConsentEvent(customer_id=customer_id, purpose=key, granted=choices[key], actor=actor.actor,
                                 door=door, via=actor.via, wording_version=PURPOSES[key].version))
    session.flush()
    return current(session, customer_id)


def consenting(purpose: str) -> Select:
    """The ids of customers whose newest choice for `purpose` is to agree: what a marketing send is limited
    to (a select, to join or page as the caller needs)."""
    if purpose not in PURPOSES:
        raise Invalid(f"unknown purpose {purpose!r}", field="purpose")
    newest = (select(ConsentEvent.customer_id, ConsentEvent.granted)
              .where(ConsentEvent.purpose == purpose)
              .ext(distinct_on(ConsentEvent.customer_id))
              .order_by(ConsentEvent.customer_id, ConsentEvent.id.desc())).subquery()
    return (select(newest.c.customer_id).join(Customer, Customer.id == newest.c.customer_id)
            .where(newest.c.granted.is_(True)))
