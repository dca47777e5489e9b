"""`@idempotent`: the `Idempotency-Key` header on a view that moves money (app/services/billing/idempotency.py
has the rules and why they are safe under concurrency).

Place it below `@requires` (the key is scoped to the signed-in caller) and above `@blp.arguments` and
`@blp.response`, so that it sees the request before anything is done and the finished response after:

    @blp.route("/payments", methods=["POST"])
    @requires("finance.payments", kinds=USER)
    @idempotent
    @blp.arguments(PaymentIn)
    @blp.response(201, PaymentOut)
    def record_payment(body): ...

Without the header the view runs as usual. A replayed answer carries `Idempotent-Replayed: true`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import g, jsonify, request

from app.services.billing import idempotency
from app.web import db_session

HEADER = "Idempotency-Key"
PARAMETER = {
    "in": "header", "name": HEADER, "required": False, "schema": {"type": "string", "maxLength": idempotency.MAX_KEY},
    "description": "A key of your choosing (a UUID): the same key with the same body within 24 hours returns the "
                   "first answer again and does nothing; with a different body, 422.",
}


def idempotent_with(store) -> Callable[[Callable], Callable]:
    """`@idempotent` over a key store with `request_hash`, `begin` and `finish` (the tenant's own, or the
    platform's for the console's reseller accounts)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            key = request.headers.get(HEADER)
            if key is None:
                return view(*args, **kwargs)
            principal = g.principal
            scope = f"{principal.kind}:{principal.id}"
            digest = store.request_hash(request.method, request.path, request.get_json(silent=True))
            session = db_session()
            stored = store.begin(session, scope, key, digest)
            if stored is not None:
                response = jsonify(stored.response)
                response.status_code = stored.status_code
                response.headers["Idempotent-Replayed"] = "true"
                return response
            response = view(*args, **kwargs)
            if response.status_code < 400 and response.is_json:
                store.finish(session, scope, key, response.status_code, response.get_json())
            # an error answer is not stored: the request's transaction, and the key with it, is rolled back
            return response

        return wrapper

    return decorate


idempotent = idempotent_with(idempotency)
