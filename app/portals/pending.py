"""A sign-in whose password was right, waiting for its second factor (the sign-in pages' 2FA step).

The service checks the password and the code in one call (`login.sign_in`, called as the JSON API calls
it), so the page that asks for the code has to send the password again. It is kept for five minutes in
Redis, encrypted (`crypto.encrypt`), under a random key named only by this browser's session cookie, in
the scope of the host's tenant: never sent to the browser, and of no use on another tenant's host or for
another kind of account. A finished or abandoned sign-in is dropped.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from flask import session as browser

from app.portals.doors import Door
from app.services.auth.crypto import decrypt, digest, encrypt
from app.services.auth.login import scope
from app.web import state
from tenants.storage import redis_key

TTL_SECONDS = 300


@dataclass(frozen=True)
class Waiting:
    identifier: str
    password: str
    next: str | None


def _cookie_key(door: Door) -> str:
    return f"sign_in_{door.name}"


def _redis_key(door: Door, handle: str) -> str:
    return redis_key(scope(), "portal-sign-in", door.name, digest(handle))


def begin(door: Door, identifier: str, password: str, next_: str | None) -> None:
    handle = secrets.token_urlsafe(24)
    value = json.dumps({"identifier": identifier, "password": encrypt(password), "next": next_})
    state().redis.set(_redis_key(door, handle), value, ex=TTL_SECONDS)
    browser[_cookie_key(door)] = handle


def load(door: Door) -> Waiting | None:
    handle = browser.get(_cookie_key(door))
    if not isinstance(handle, str):
        return None
    raw = state().redis.get(_redis_key(door, handle))
    if raw is None:
        browser.pop(_cookie_key(door), None)
        return None
    found = json.loads(raw)
    try:
        password = decrypt(found["password"])
    except ValueError:  # the secret key changed meanwhile
        drop(door)
        return None
    return Waiting(found["identifier"], password, found.get("next"))


def drop(door: Door) -> None:
    handle = browser.pop(_cookie_key(door), None)
    if isinstance(handle, str):
        state().redis.delete(_redis_key(door, handle))
