"""`@idempotent` for the console's POSTs on a reseller's account: app/api/payments/idempotent.py's rules,
with the keys kept in `public` (app/services/reseller_accounts/idempotency.py), since the console has no
tenant schema to keep them in."""

from __future__ import annotations

from app.api.payments.idempotent import PARAMETER, idempotent_with
from app.services.reseller_accounts import idempotency

__all__ = ["PARAMETER", "idempotent"]

idempotent = idempotent_with(idempotency)
