"""Which tenant a request, job or packet belongs to.

This package knows nothing of the Flask app: the web, the worker, the RADIUS server and the CLI all
enter a tenant through `tenant_context` (or the request hook built on the same context variable), and
every database transaction then runs with that tenant's schema first on its `search_path`.
"""

from tenants.context import (
    Tenant,
    TenantError,
    UnknownTenant,
    current_tenant,
    require_tenant,
    tenant_context,
)
from tenants.schema import InvalidTenantCode, schema_for_code, validate_code, validate_schema

__all__ = [
    "InvalidTenantCode",
    "Tenant",
    "TenantError",
    "UnknownTenant",
    "current_tenant",
    "require_tenant",
    "schema_for_code",
    "tenant_context",
    "validate_code",
    "validate_schema",
]
