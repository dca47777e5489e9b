"""A reseller team member's notification centre: what happened that needs someone, gathered from the rows the
platform already keeps, newest first. Nothing is stored for it: each kind is read from its own table, so the
centre can never disagree with the page the notice points to.

Kinds, each shown to whoever holds the permission its data needs (the same one the API's routes ask):
- `credit` (finance.view): a credit threshold of the account with the master ISP crossed (credit_alerts),
  and, when it is over, cleared.
- `pool` (services.view): an IP pool that could not hand out an address (ip_pool_alerts: the last exhaustion
  alert of each pool).
- `pool_low` (services.view): a pool at least 90 % full now; a standing state, so it has no time of its own
  and is never "new".
- `billing_run` (finance.view): a billing run that finished (done or failed).
- `unmatched_payment` (finance.view): money a gateway reported for an account we could not find.
- `service_request` (services.view): a change request waiting for approval (only the customers one may see).

Read or unread: no table records who read what, and the centre adds none. Instead the moment a person last
marked the centre read is kept in Redis, per tenant and user (`seen_key`), and what happened after it is
"new". Without Redis, everything simply shows as not new.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import redis as redis_lib
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.billing import BillingRun, GatewayEvent
from app.models.provisioning import IpPool, IpPoolAlert
from app.services import ip_pools, request_queue
from app.services.auth.principal import Principal
from app.services.reseller_accounts import accounts, credit
from tenants.storage import redis_key

log = logging.getLogger(__name__)
LIMIT = 100  # of each kind: a centre, not an archive
KINDS: dict[str, str] = {
    "credit": "finance.view",
    "pool": "services.view",
    "pool_low": "services.view",
    "billing_run": "finance.view",
    "unmatched_payment": "finance.view",
    "service_request": "services.view",
}
EARLIEST = datetime.min.replace(tzinfo=UTC)
SEEN_FOR = 60 * 60 * 24 * 400  # a mark outlives a long holiday, not an abandoned account


def kinds_for(principal: Principal) -> list[str]:
    return [kind for kind, permission in KINDS.items() if principal.can(permission)]


def _credit(session: Session, tenant_id: int) -> list[dict]:
    account = accounts.find(session, tenant_id)
    if account is None:
        return []
    out = []
    for alert in credit.recent_alerts(session, account.id, limit=LIMIT):
        out.append({"kind": "credit", "key": f"credit-{alert.id}", "at": alert.crossed_at, "level": alert.level,
                    "threshold": alert.threshold, "utilisation": alert.utilisation, "cleared": False})
        if alert.cleared_at is not None:
            out.append({"kind": "credit", "key": f"credit-{alert.id}-cleared", "at": alert.cleared_at,
                        "level": alert.level, "threshold": alert.threshold, "utilisation": alert.utilisation,
                        "cleared": True})
    return out


def _pools(session: Session) -> list[dict]:
    rows = session.execute(select(IpPoolAlert, IpPool).join(IpPool, IpPool.id == IpPoolAlert.pool_id)
                           .order_by(IpPoolAlert.alerted_at.desc()).limit(LIMIT)).all()
    return [{"kind": "pool", "key": f"pool-{pool.id}", "at": alert.alerted_at, "pool_id": pool.id, "name": pool.name,
             "cidr": str(pool.cidr), **ip_pools.usage(session, pool)} for alert, pool in rows]


def _pools_low(session: Session) -> list[dict]:
    return [{"kind": "pool_low", "key": f"pool-low-{p['id']}", "at": None, "pool_id": p["id"], "name": p["name"],
             "cidr": str(p["cidr"]), "size": p["size"], "used": p["used"], "percent": p["percent"]}
            for p in ip_pools.running_low(session)]


def _runs(session: Session) -> list[dict]:
    rows = session.execute(select(BillingRun).where(BillingRun.finished_at.is_not(None))
                           .order_by(BillingRun.finished_at.desc()).limit(LIMIT)).scalars()
    return [{"kind": "billing_run", "key": f"run-{r.id}", "at": r.finished_at, "run_id": r.id, "period": r.period,
             "status": r.status, "invoices": r.invoices_created, "errors": len(r.errors or ())} for r in rows]


def _unmatched(session: Session) -> list[dict]:
    rows = session.execute(select(GatewayEvent).where(GatewayEvent.outcome == "unmatched")
                           .order_by(GatewayEvent.received_at.desc()).limit(LIMIT)).scalars()
    return [{"kind": "unmatched_payment", "key": f"unmatched-{e.id}", "at": e.received_at, "event_id": e.id,
             "provider": e.provider, "reference": e.object_ref} for e in rows]


def _requests(session: Session, principal: Principal) -> list[dict]:
    found = request_queue.pending(session, principal.allowed_customer_ids, limit=LIMIT)
    return [{"kind": "service_request", "key": f"request-{w.id}", "at": w.requested_at, "request_id": w.id,
             "request_kind": w.kind, "customer": w.customer, "portal_id": w.portal_id, "service_id": w.service_id}
            for w in found]


def collect(session: Session, principal: Principal, tenant_id: int, kinds: list[str] | None = None,
            seen: datetime | None = None) -> list[dict]:
    """The notices `principal` may see (of `kinds`, None: every kind it may see), newest first, the standing
    ones (no time) before all; each says whether it is `new` (after `seen`)."""
    allowed = kinds_for(principal)
    wanted = [k for k in (kinds or allowed) if k in allowed]
    readers = {"credit": lambda: _credit(session, tenant_id), "pool": lambda: _pools(session),
               "pool_low": lambda: _pools_low(session), "billing_run": lambda: _runs(session),
               "unmatched_payment": lambda: _unmatched(session),
               "service_request": lambda: _requests(session, principal)}
    items = [item for kind in wanted for item in readers[kind]()]
    for item in items:
        item["new"] = item["at"] is not None and (seen is None or _aware(item["at"]) > seen)
    return sorted(items, key=lambda i: (i["at"] is None, _aware(i["at"]) if i["at"] else EARLIEST), reverse=True)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- "new since you last looked" ----------------------------------------------------------------------------

def seen_key(schema: str, user_id: int) -> str:
    return redis_key(schema, "notifications-seen", user_id)


def last_seen(redis: redis_lib.Redis, schema: str, user_id: int) -> datetime | None:
    """When this person last marked the centre read (None: never, or Redis is out of reach)."""
    try:
        stored = redis.get(seen_key(schema, user_id))
    except redis_lib.RedisError:
        log.warning("notification centre: Redis is out of reach; nothing shows as new")
        return None
    if not stored:
        return None
    try:
        return datetime.fromisoformat(stored.decode() if isinstance(stored, bytes) else stored)
    except ValueError:
        return None


def mark_seen(redis: redis_lib.Redis, schema: str, user_id: int, at: datetime) -> bool:
    """Everything up to `at` is read for this person; False when Redis could not keep it."""
    try:
        redis.set(seen_key(schema, user_id), _aware(at).isoformat(), ex=SEEN_FOR)
    except redis_lib.RedisError:
        log.warning("notification centre: Redis is out of reach; the read mark was not kept")
        return False
    return True
