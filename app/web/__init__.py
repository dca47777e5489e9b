"""The web door: tenant resolution per request, error pages, server-rendered pages."""

from flask import current_app
from sqlalchemy.orm import Session

from app.state import State


def state() -> State:
    return current_app.extensions["backhaul"]


def db_session() -> Session:
    """The request's session: committed after a successful response, rolled back otherwise."""
    from flask import g

    session = g.get("_db")
    if session is None:
        session = g._db = state().db.sessionmaker()
    return session
