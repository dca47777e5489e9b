"""A page's form that moves money, done once however often it is sent: the form carries a token made when it
was drawn, and the token is an idempotency key (idempotency.py), so a double click or a reload of the answer
finds the first answer instead of recording a second payment or credit note.

The API's `Idempotency-Key` and a form's token share the key store and its rules (same caller, 24 hours, the
same request or a 422); a form's keys are prefixed, so they never meet a key an API client chose. The answer
stored is what the page needs to show the result again (the ids of what was made), not the page itself.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from app.services.auth.principal import Principal
from app.services.billing import idempotency

PREFIX = "team-form:"
DONE = 200


def scope_of(principal: Principal) -> str:
    """The caller as the API's `@idempotent` scopes keys: the same person's keys, from either door, meet."""
    return f"{principal.kind}:{principal.id}"


def once(session: Session, principal: Principal, token: str, what: str, asked: dict,
         do: Callable[[], dict]) -> tuple[dict, bool]:
    """`do()`'s answer and False, or the answer of the first time this token was sent and True.

    `what` names the action (`payment`, `credit-note:<invoice id>`…) and `asked` what the form said: the same
    token with something else asked raises `idempotency.KeyReused`. Everything happens in the caller's
    transaction: if it rolls back (the service refused the form), the token is free again for the form
    corrected."""
    scope = scope_of(principal)
    key = PREFIX + token
    digest = idempotency.request_hash("POST", what, asked)
    stored = idempotency.begin(session, scope, key, digest)
    if stored is not None:
        return dict(stored.response or {}), True
    answer = do()
    idempotency.finish(session, scope, key, DONE, answer)
    return answer, False
