"""Who may see a reseller's commission payouts, shared by the API (app/api/payouts/routes.py) and the reseller
portal's pages: commissions are the reseller's own money, with lines on every customer, so a user limited to some
customers does not see them."""

from __future__ import annotations

from flask import g
from sqlalchemy.orm import Session

from app.web import db_session
from app.web.auth import Forbidden


def mine() -> Session:
    """The request's session, for a user who sees the whole reseller."""
    if g.principal.allowed_customer_ids is not None:
        raise Forbidden("commission payouts are for users who see every customer")
    return db_session()
