"""Who may do what on the customer's own API (`/portal/api`), beyond `@requires`.

`@requires("self.view" | "self.edit", kinds=CUSTOMER)` lets in the signed-in customer, their personal API
keys (a read-only key holds `self.view` only, so it reads and never writes) and support staff signed in
as them (an impersonation session holds both). Two more limits, decided here once:

- `own_session_only`: what changes how the account is reached or secured (API keys, the e-mail address,
  revealing the network password) needs the customer's own signed-in session: not an API key, and not
  staff signed in as them.
- everything else a customer may do, an impersonating staff member may do too (read, make service
  requests, buy top-ups on the customer's behalf); each of their requests is in the activity log.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import g

from app.web.auth import Forbidden

CUSTOMER = ("customer",)


def me() -> int:
    """The signed-in customer's id: every service call of the customer's API is about this one customer."""
    return g.principal.id


def own_session_only(what: str) -> None:
    if g.principal.impersonator or g.principal.via != "session":
        raise Forbidden(f"{what} needs the customer's own signed-in session (not an API key, not staff "
                        f"signed in as the customer)")


def own_session(what: str) -> Callable[[Callable], Callable]:
    """`own_session_only` as a decorator, placed below `@requires` and above `@blp.arguments`: a key or
    an impersonation session is refused before its body is even read."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            own_session_only(what)
            return view(*args, **kwargs)

        return guarded

    return decorate
