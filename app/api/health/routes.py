"""Liveness and readiness, answered on every host."""

from __future__ import annotations

import time

from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import text

from app.web import state
from app.web.auth import requires
from tenants import tenant_context

blp = Blueprint("health", __name__, description="Liveness and readiness probes")


class Health(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})


class Ready(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})
    checks = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


@blp.route("/healthz")
@requires(public=True)
@blp.response(200, Health)
def healthz():
    """The process is up (nothing else is checked)."""
    return {"status": "ok"}


def _check_database() -> str:
    with tenant_context(None), state().db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return "ok"


def _check_redis() -> str:
    state().redis.ping()
    return "ok"


@blp.route("/readyz")
@requires(public=True)
@blp.response(200, Ready)
@blp.alt_response(503, schema=Ready, description="a dependency is unreachable")
def readyz():
    """The database and Redis answer."""
    checks: dict[str, str] = {}
    for name, check in (("database", _check_database), ("redis", _check_redis)):
        started = time.monotonic()
        try:
            check()
            checks[name] = f"ok ({(time.monotonic() - started) * 1000:.1f} ms)"
        except Exception as exc:
            checks[name] = f"unreachable: {type(exc).__name__}"
    ok = all(v.startswith("ok") for v in checks.values())
    return {"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503
