"""Which customers the caller may see, for every API that reaches a customer's records.

A user can be limited to some customers (`allowed_customer_ids`); what belongs to a customer they may
not see answers exactly as if it did not exist (404), so ids cannot be probed.
"""

from __future__ import annotations

from flask import g

from app.services.auth.principal import Principal
from app.services.errors import NotFound


def principal() -> Principal:
    return g.principal


def visible_customer(customer_id: int) -> int:
    """The id, or a 404 for a customer the caller may not see, before anything is looked up."""
    if not principal().may_see_customer(customer_id):
        raise NotFound("no such customer")
    return customer_id


def visible(record, what: str):
    """`record` (anything with a `customer_id`) if the caller may see its customer; a 404 naming `what`."""
    if not principal().may_see_customer(record.customer_id):
        raise NotFound(f"no such {what}")
    return record
