"""A customer onboarding wizard's state between its pages, and its result shown once.

Why on the server (Redis) rather than in signed hidden fields: what the wizard holds is a person's details (name,
ID number, phone, address) and, at the end, the customer's generated passwords. Hidden fields would send the
details back and forth with every page (and keep them in the browser's form history and in every cached page),
and signing them says only that they were not changed, not that they stay private; nor could a signed page be
"used up", which the one-time result needs. A draft here lives a few hours, is keyed by the tenant, the team member
and the wizard's own random id (two tabs make two customers, another member or another reseller never reads it),
and is deleted when the customer is created.

The result (the Portal ID, the portal password, each service's network password) is kept a few minutes for the
one page that shows it: reading it removes it (GETDEL), and leaves a note that it was shown, so that a reload
says so instead of showing the passwords again.
"""

from __future__ import annotations

import json
import re
import secrets

from app.services.auth import crypto
from tenants import Tenant
from tenants.storage import redis_key

DRAFT_SECONDS = 4 * 3600
RESULT_SECONDS = 10 * 60  # long enough to land on the result page, short for passwords at rest
SHOWN_SECONDS = 24 * 3600
_ID = re.compile(r"^[A-Za-z0-9_-]{16,40}$")


def _open(raw: bytes | str) -> str:
    """Drafts and results are encrypted at rest (SECRET_KEY's key): personal details and passwords."""
    return crypto.decrypt(raw.decode() if isinstance(raw, bytes) else raw)


def valid_id(wizard_id: str) -> bool:
    return bool(_ID.match(wizard_id or ""))


def _key(tenant: Tenant, user_id: int, wizard_id: str, what: str) -> str:
    return redis_key(tenant.schema, "onboarding", what, str(user_id), wizard_id)


def start(redis, tenant: Tenant, user_id: int, steps: dict) -> str:
    """A new wizard holding `steps` (step name → what its form gave); returns its id."""
    wizard_id = secrets.token_urlsafe(16)
    save(redis, tenant, user_id, wizard_id, steps)
    return wizard_id


def load(redis, tenant: Tenant, user_id: int, wizard_id: str) -> dict | None:
    """The wizard's steps so far; None for an unknown, expired or finished wizard (or someone else's)."""
    if not valid_id(wizard_id):
        return None
    raw = redis.get(_key(tenant, user_id, wizard_id, "draft"))
    return json.loads(_open(raw)) if raw is not None else None


def save(redis, tenant: Tenant, user_id: int, wizard_id: str, steps: dict) -> None:
    redis.set(_key(tenant, user_id, wizard_id, "draft"), crypto.encrypt(json.dumps(steps)), ex=DRAFT_SECONDS)


def finish(redis, tenant: Tenant, user_id: int, wizard_id: str, result: dict) -> None:
    """The customer exists: the draft goes, the result waits for its one showing."""
    redis.delete(_key(tenant, user_id, wizard_id, "draft"))
    redis.set(_key(tenant, user_id, wizard_id, "result"), crypto.encrypt(json.dumps(result)), ex=RESULT_SECONDS)


def take_result(redis, tenant: Tenant, user_id: int, wizard_id: str) -> tuple[dict | None, dict | None]:
    """(the result, None) the first time; (None, what was shown: the customer without the passwords) after."""
    if not valid_id(wizard_id):
        return None, None
    raw = redis.getdel(_key(tenant, user_id, wizard_id, "result"))
    shown_key = _key(tenant, user_id, wizard_id, "shown")
    if raw is None:
        shown = redis.get(shown_key)
        return None, json.loads(shown) if shown is not None else None
    result = json.loads(_open(raw))
    redis.set(shown_key, json.dumps(result["customer"]), ex=SHOWN_SECONDS)
    return result, None
