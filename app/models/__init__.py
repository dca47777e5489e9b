"""Models: `public` (platform-wide) and tenant (one copy per reseller schema)."""

from app.models import (  # noqa: F401  (their tables join the metadata)
    arrangements,
    billing,
    catalogue,
    commissions,
    customers,
    nas,
    payouts,
    privacy,
    provisioning,
    reports,
    reseller_accounts,
    saved_filters,
    usage,
)
from app.models.base import PublicBase, TenantBase
from app.models.identity import (
    ActivityEvent,
    ApiKey,
    AuthSession,
    BackupCode,
    KnownDevice,
    LoginEvent,
    Outbox,
    PortalAccount,
    ResetToken,
    Role,
    User,
)
from app.models.oauth import OAuthClient, OAuthCode, OAuthToken
from app.models.public import (
    AuditEvent,
    Branding,
    Domain,
    PlatformOutbox,
    PortalId,
    StaffBackupCode,
    StaffKnownDevice,
    StaffLoginEvent,
    StaffResetToken,
    StaffSession,
    StaffUser,
    Tenant,
)
from app.models.tenant import Counter, Customer, Setting

__all__ = [
    "ActivityEvent", "ApiKey", "AuditEvent", "Branding", "AuthSession", "BackupCode", "Counter", "Customer", "Domain",
    "KnownDevice", "LoginEvent", "OAuthClient", "OAuthCode", "OAuthToken", "Outbox", "PlatformOutbox",
    "PortalAccount", "PortalId", "PublicBase",
    "ResetToken", "Role", "Setting", "StaffBackupCode", "StaffKnownDevice", "StaffLoginEvent", "StaffResetToken",
    "StaffSession", "StaffUser", "Tenant", "TenantBase", "User",
]
