"""`@idempotent` for the console's POSTs on a reseller's account: app/api/payments/idempotent.py's rules,
with the keys kept in `public` (app/services/reseller_accounts/idempotency.py)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import g, jsonify, request

from app.api.payments.idempotent import HEADER, PARAMETER
from app.services.reseller_accounts import idempotency
from app.web import db_session

__all__ = ["PARAMETER", "idempotent"]


def idempotent(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        scope = f"{g.principal.kind}:{g.principal.id}"
        digest = idempotency.request_hash(request.method, request.path, request.get_json(silent=True))
        session = db_session()
        stored = idempotency.begin(session, scope, key, digest)
        if stored is not None:
            response = jsonify(stored.response)
            response.status_code = stored.status_code
            response.headers["Idempotent-Replayed"] = "true"
            return response
        response = view(*args, **kwargs)
        if response.status_code < 400 and response.is_json:
            idempotency.finish(session, scope, key, response.status_code, response.get_json())
        return response

    return wrapper
