"""A status change over many customers, done by the worker a chunk at a time, with its progress and each customer's
outcome kept for the page that follows it.

Why a job: a change over a whole filtered list (up to BULK_MAX customers) locks, updates and writes history for
each one; a few thousand take longer than a request should, and a person who started it may leave and come back.
A selection of up to INLINE_MAX customers is changed at once in the request, as before (the result page shows
at once); a larger one is kept here and changed by `worker/actors/customers.py` in transactions of CHUNK
customers, each committed before its outcomes are written beside the job, so the page never tells of a change a
rollback undid.

The job lives in Redis under the tenant's key space and the member's id (another member, or another reseller,
never reads it) for JOB_SECONDS. It is idempotent: a chunk already counted is never done again, and one done
twice (a worker that died between its commit and its note) finds its customers in the target status already and
says "unchanged"; a lock lets one worker at a time carry a job on.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict

from app.db import Database
from app.services.auth.principal import Principal
from app.services.customers.status import change_statuses
from tenants import Tenant, tenant_context
from tenants.storage import redis_key

INLINE_MAX = 200
CHUNK = 250
JOB_SECONDS = 24 * 3600
LOCK_SECONDS = 600


def _key(tenant: Tenant, user_id: int, job_id: str, *rest: str) -> str:
    return redis_key(tenant.schema, "bulk-status", str(user_id), job_id, *rest)


def outcome(result) -> dict:
    return {"id": result.id, "portal_id": result.portal_id, "outcome": result.outcome, "from": result.from_status,
            "to": result.to_status}


def _principal(data: dict) -> Principal:
    allowed = data.get("allowed_customer_ids")
    return Principal(**{**data, "permissions": frozenset(data["permissions"]),
                        "allowed_customer_ids": None if allowed is None else frozenset(allowed)})


def create(redis, tenant: Tenant, member: Principal, ids: list[int], status: str, reason: str, back: str) -> str:
    """Keep a job of `ids` to move to `status`; returns its id (the caller sends it to the worker)."""
    job_id = secrets.token_urlsafe(16)
    who = asdict(member)
    who["permissions"] = sorted(member.permissions)
    who["allowed_customer_ids"] = None if member.allowed_customer_ids is None else sorted(member.allowed_customer_ids)
    job = {"status": status, "reason": reason.strip(), "back": back, "ids": ids, "total": len(ids), "done": 0,
           "state": "queued", "results": [], "member": who}
    redis.set(_key(tenant, member.id, job_id), json.dumps(job), ex=JOB_SECONDS)
    return job_id


def queue(tenant: Tenant, user_id: int, job_id: str) -> None:
    """Send the job to a worker, in its tenant (the actor is imported here, as the other services' are: the
    worker's modules build a broker when imported, which only the processes that send need)."""
    from worker.actors import customers as actors

    with tenant_context(tenant):
        actors.bulk_status.send(user_id, job_id)


def keep_done(redis, tenant: Tenant, member: Principal, results, status: str, reason: str, back: str) -> str:
    """A change already made in the request, kept as a finished job so the same page shows it."""
    job_id = secrets.token_urlsafe(16)
    done = [outcome(r) for r in results]
    job = {"status": status, "reason": reason.strip(), "back": back, "ids": [], "total": len(done),
           "done": len(done), "state": "done", "results": done, "member": None}
    redis.set(_key(tenant, member.id, job_id), json.dumps(job), ex=JOB_SECONDS)
    return job_id


def read(redis, tenant: Tenant, user_id: int, job_id: str) -> dict | None:
    """The job as the page shows it (without its list of ids), or None: unknown, expired or someone else's."""
    if not job_id or len(job_id) > 64:
        return None
    raw = redis.get(_key(tenant, user_id, job_id))
    if raw is None:
        return None
    job = json.loads(raw)
    job.pop("ids", None)
    job.pop("member", None)
    return job


def run(db: Database, redis, tenant: Tenant, user_id: int, job_id: str) -> str:
    """Carry the job on to its end (the current tenant is `tenant`); returns what it found or did."""
    key = _key(tenant, user_id, job_id)
    lock = redis.lock(_key(tenant, user_id, job_id, "lock"), timeout=LOCK_SECONDS, blocking=False)
    if not lock.acquire():
        return "busy"  # its twin is on it
    try:
        raw = redis.get(key)
        if raw is None:
            return "gone"
        job = json.loads(raw)
        member = _principal(job["member"])
        while job["done"] < job["total"]:
            chunk = job["ids"][job["done"]:job["done"] + CHUNK]
            with db.session() as session:
                results = change_statuses(session, chunk, job["status"], job["reason"], actor=member,
                                          visible=member.allowed_customer_ids)
                session.commit()
            job["results"] += [outcome(r) for r in results]
            job["done"] += len(chunk)
            job["state"] = "running" if job["done"] < job["total"] else "done"
            redis.set(key, json.dumps(job), ex=JOB_SECONDS)
            lock.reacquire()
        if job["state"] != "done":
            job["state"] = "done"
            redis.set(key, json.dumps(job), ex=JOB_SECONDS)
        return "done"
    finally:
        lock.release()
