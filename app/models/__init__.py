"""Models: `public` (platform-wide) and tenant (one copy per reseller schema)."""

from app.models.base import PublicBase, TenantBase
from app.models.public import AuditEvent, Domain, PortalId, Tenant
from app.models.tenant import Counter, Customer, Setting

__all__ = ["AuditEvent", "Counter", "Customer", "Domain", "PortalId", "PublicBase", "Setting", "Tenant",
           "TenantBase"]
