"""Staff members of these tests' own (never the demo's), and signing one in to the console API."""

from __future__ import annotations

import itertools

import pytest

from app.services.auth import users
from tests.auth.conftest import PASSWORD, accounts, bearer  # noqa: F401  (accounts: a fixture used here)
from tests.conftest import RUN_ID

CONSOLE = "console.test.example"
_n = itertools.count(1)


def new_staff(db, name: str = "Wambui Njoroge", **kwargs) -> tuple[int, str]:
    email = f"staff-api-{RUN_ID}-{next(_n)}@isp.example"
    with db.session() as s:
        member = users.create_staff(s, email=email, name=name, password=PASSWORD, **kwargs)
        return member.id, email


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post("/console/auth/login", json={"email": email, "password": password},
                       headers={"Host": CONSOLE})


def headers_of(client, email: str) -> dict:
    reply = sign_in(client, email)
    assert reply.status_code == 200, reply.get_json()
    return bearer(reply.get_json()["token"], CONSOLE)


@pytest.fixture
def admin(app, db):
    """A staff member signed in to the console API: (id, e-mail, headers)."""
    staff_id, email = new_staff(db, "Console Admin")
    return staff_id, email, headers_of(app.test_client(), email)
