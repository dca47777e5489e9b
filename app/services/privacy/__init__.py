"""A customer's privacy (000 §8.2 "Privacy Settings", §12.2 "Privacy Controls"): what they agree to, what
Backhaul keeps in their browser, a copy of everything held about them, and the end of their account.

- `consents`: marketing by e-mail and by SMS, sharing with third parties; off until given, each change a row
  of an append-only record (who, when, through which door, to which wording), read by the reseller too.
- `cookies`: the cookies Backhaul sets, all strictly necessary, with their purpose and lifetime.
- `subjects`: what a data export holds, subject by subject, and every table left out with the reason.
- `exports`: the export's life: asked for, built by the worker into a ZIP under the tenant's folder, offered
  for 7 days, one at a time, the customer told by e-mail when it is ready.
- `deletion`: the customer's request to delete the account, reviewed by the reseller; `erasure` is what an
  approval erases and what the law makes us keep.
- `housekeeping`: the daily sweep (expired exports removed, lost jobs sent again, the last e-mail of a
  deleted account scrubbed once delivered).

Who may act: the customer, in the portal or through their API. Support staff signed in as the customer may
read these pages but not consent, export or ask for deletion on the customer's behalf (`not_for_support`):
each is the customer's own choice, and an export is everything about them in one file.
"""

from __future__ import annotations

from app.services.auth.principal import Principal
from app.services.errors import ServiceError


class CustomerOnly(ServiceError):
    """A choice only the customer may make, asked by support staff signed in as them."""

    status = 403
    slug = "customer-only"
    title = "Only the customer may do this"


def not_for_support(actor: Principal | None, what: str) -> None:
    if actor is not None and actor.impersonator:
        raise CustomerOnly(f"{what} is the customer's own choice: support staff signed in as the customer cannot "
                         f"do it for them")
