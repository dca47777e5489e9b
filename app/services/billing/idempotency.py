"""`Idempotency-Key` for the POSTs that move money: a client that retries after a timeout gets the answer
of its first attempt instead of paying twice.

The rules (as Stripe and the IETF draft "The Idempotency-Key HTTP Header Field" have them):

- the same key with the same request (method, path and JSON body, compared as canonical JSON) replays the
  stored answer — the same status and the same JSON — and does nothing else;
- the same key with another request is a 422 `idempotency-key-reused`;
- keys are remembered for 24 hours, per caller (`scope`: who asked), so two users' keys never meet.

How concurrency is made safe. The key row is inserted with `INSERT … ON CONFLICT DO NOTHING` inside the
request's own transaction, before the view runs. A second request with the same key, arriving while the
first is still running, blocks on that insert (PostgreSQL waits for the first transaction to finish on the
unique key) and then either finds the first one's stored answer (it committed) or inserts the key itself
(it rolled back). One wins; nobody double-pays, and no "in progress" state is ever visible to others.

Only successful answers are stored: an error rolls the request's transaction back, the key with it, so the
client may fix the request and retry under the same key — that is the draft's behaviour for errors that
changed nothing, and all of ours are (a failed request leaves no trace in the database).

This module is the plain-Python half (no Flask, like every service); `app.api.payments.idempotent` is the
decorator views use.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app import clock
from app.models.billing import IdempotencyKey
from app.services.errors import Invalid

TTL = timedelta(hours=24)
MAX_KEY = 200


class KeyReused(Invalid):
    slug = "idempotency-key-reused"
    title = "Idempotency key reused"


def request_hash(method: str, path: str, body) -> str:
    """A digest of what was asked: canonical JSON (sorted keys, no spaces), so key order and whitespace in
    the client's body do not make the same request look different."""
    canonical = json.dumps({"method": method.upper(), "path": path, "body": body}, sort_keys=True,
                           separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def valid_key(key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise Invalid(f"Idempotency-Key: 1 to {MAX_KEY} printable characters", field="Idempotency-Key")
    return key


@dataclass
class Stored:
    status_code: int
    response: object


def begin(session: Session, scope: str, key: str, digest: str) -> Stored | None:
    """Claim `key` for this request, or return the answer stored under it.

    Returns None when the caller should go ahead (the key is now ours, in this transaction); a `Stored`
    answer to replay; raises `KeyReused` when the key was used for a different request."""
    key = valid_key(key)
    # an expired key is forgotten before it is claimed, so that a day-old key starts afresh
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key,
                                                 IdempotencyKey.created_at < clock.now() - TTL))
    claimed = session.execute(
        insert(IdempotencyKey).values(scope=scope, key=key, request_hash=digest)
        .on_conflict_do_nothing(index_elements=[IdempotencyKey.scope, IdempotencyKey.key])
        .returning(IdempotencyKey.key)
    ).scalar_one_or_none()
    if claimed is not None:
        return None
    row = session.execute(select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
                          .execution_options(populate_existing=True)).scalar_one()
    if row.request_hash != digest:
        raise KeyReused("this Idempotency-Key was used for a different request; use a new key")
    # a stored row without an answer is never visible to another transaction (see the module docstring)
    return Stored(row.status_code, row.response)


def finish(session: Session, scope: str, key: str, status_code: int, response) -> None:
    """Store the answer under the key claimed by `begin`, in the same transaction as the work."""
    session.execute(
        IdempotencyKey.__table__.update()
        .where(IdempotencyKey.scope == scope, IdempotencyKey.key == valid_key(key))
        .values(status_code=status_code, response=response)
    )


def purge_expired(session: Session) -> int:
    """Forget keys older than 24 hours (housekeeping; `begin` also forgets an expired key it meets)."""
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < clock.now() - TTL))
    return result.rowcount or 0

