"""The authenticated caller of a request, whatever the way in (session, OAuth token, API key)."""

from __future__ import annotations

from dataclasses import dataclass, field

STAFF, USER, CUSTOMER, CLIENT = "staff", "user", "customer", "client"


@dataclass(frozen=True)
class Principal:
    kind: str                      # staff | user | customer | client (an OAuth client acting for itself)
    id: int                        # staff, user or customer id; the OAuth client's row id for `client`
    name: str                      # for logs and the activity log
    tenant_id: int | None          # None for master ISP staff
    permissions: frozenset[str] = field(default_factory=frozenset)
    allowed_customer_ids: frozenset[int] | None = None  # None: every customer of the tenant
    via: str = "session"           # session | oauth | api_key
    session_id: str | None = None
    impersonator: str | None = None  # "staff 3 (ops@isp.example)" while impersonating a customer
    can_impersonate: bool = False
    read_only: bool = False  # staff "view as reseller": only safe methods pass `requires` (auth/view_as.py)

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def may_see_customer(self, customer_id: int) -> bool:
        if self.kind == CUSTOMER:
            return customer_id == self.id
        return self.allowed_customer_ids is None or customer_id in self.allowed_customer_ids

    @property
    def actor(self) -> str:
        """How this principal is named in audit and activity logs."""
        own = f"{self.kind} {self.id} ({self.name})"
        return f"{self.impersonator} as {own}" if self.impersonator else own
