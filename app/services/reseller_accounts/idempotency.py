"""`Idempotency-Key` for the master ISP's POSTs that move money on a reseller's account.

The same rules as the tenants' keys (app/services/billing/idempotency.py: same request → the stored
answer, another request → 422, 24 hours, claimed by an insert in the request's own transaction so that a
concurrent retry waits and then replays), kept in `public.account_idempotency_keys` because the console
has no tenant schema to keep them in.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app import clock
from app.models.reseller_accounts import AccountIdempotencyKey
from app.services.billing.idempotency import TTL, KeyReused, Stored, request_hash, valid_key

__all__ = ["begin", "finish", "request_hash"]


def begin(session: Session, scope: str, key: str, digest: str) -> Stored | None:
    key = valid_key(key)
    session.execute(delete(AccountIdempotencyKey).where(AccountIdempotencyKey.scope == scope,
                                                        AccountIdempotencyKey.key == key,
                                                        AccountIdempotencyKey.created_at < clock.now() - TTL))
    claimed = session.execute(
        insert(AccountIdempotencyKey).values(scope=scope, key=key, request_hash=digest)
        .on_conflict_do_nothing(index_elements=[AccountIdempotencyKey.scope, AccountIdempotencyKey.key])
        .returning(AccountIdempotencyKey.key)).scalar_one_or_none()
    if claimed is not None:
        return None
    row = session.execute(select(AccountIdempotencyKey).where(AccountIdempotencyKey.scope == scope,
                                                              AccountIdempotencyKey.key == key)
                          .execution_options(populate_existing=True)).scalar_one()
    if row.request_hash != digest:
        raise KeyReused("this Idempotency-Key was used for a different request; use a new key")
    return Stored(row.status_code, row.response)


def finish(session: Session, scope: str, key: str, status_code: int, response) -> None:
    session.execute(AccountIdempotencyKey.__table__.update()
                    .where(AccountIdempotencyKey.scope == scope, AccountIdempotencyKey.key == valid_key(key))
                    .values(status_code=status_code, response=response))


def purge_expired(session: Session) -> int:
    result = session.execute(delete(AccountIdempotencyKey).where(AccountIdempotencyKey.created_at < clock.now() - TTL))
    return result.rowcount or 0
