"""Granular permissions, the built-in reseller roles, and the OAuth scopes that map onto them.

A permission is `<area>.<action>`. Every API operation declares the one it needs; a principal holds a
set. The built-in roles follow "User Roles & Permissions" in the reseller journey; custom roles are any
subset. OAuth scopes are the permission names themselves, so a token can never carry more than its
user (or client) holds.
"""

from __future__ import annotations

PERMISSIONS: dict[str, str] = {
    "customers.view": "See customers, their contacts and activity",
    "customers.create": "Create customers",
    "customers.edit": "Change customers' details and status",
    "customers.delete": "Delete customers",
    "customers.impersonate": "Sign in to a customer's portal as them, to troubleshoot",
    "services.view": "See services and their status",
    "services.provision": "Provision services, IP addresses and equipment",
    "services.modify": "Change plans and service settings",
    "services.suspend": "Suspend and restore services",
    "finance.view": "See invoices, payments and financial summaries",
    "finance.billing": "Issue invoices and credit notes, run billing",
    "finance.payments": "Record and refund payments",
    "finance.reports": "Run and export reports",
    "finance.report_schedules": "Schedule reports to be e-mailed",
    "support.view": "See tickets",
    "support.tickets": "Open, answer and escalate tickets",
    "users.view": "See team members and roles",
    "users.admin": "Add team members, change roles and permissions",
    "resellers.manage": "Create and manage sub-resellers",
    "settings.manage": "Pricing, branding and reseller settings",
}

# What may only look. A route that changes state never asks for one of these (the permission matrix test
# checks it), so a Readonly user, a view-as session or a read-only token can never write through one.
READ = frozenset({"customers.view", "services.view", "finance.view", "finance.reports", "support.view",
                  "users.view"})

BUILTIN_ROLES: dict[str, frozenset[str]] = {
    "Admin": frozenset(PERMISSIONS),
    "Manager": frozenset({
        "customers.view", "customers.create", "customers.edit",
        "services.view", "services.provision", "services.modify", "services.suspend",
        "finance.view", "finance.billing", "finance.payments", "finance.reports", "finance.report_schedules",
        "support.view", "support.tickets", "users.view",
    }),
    "User": frozenset({
        "customers.view", "customers.edit", "services.view", "finance.view", "finance.payments",
        "support.view", "support.tickets",
    }),
    "Readonly": READ,
}

# What a signed-in customer may do with their own account (portal, personal API keys).
CUSTOMER_READ = frozenset({"self.view"})
CUSTOMER_ALL = frozenset({"self.view", "self.edit"})


class UnknownPermission(ValueError):
    pass


def validate(permissions) -> list[str]:
    unknown = sorted(set(permissions) - set(PERMISSIONS))
    if unknown:
        raise UnknownPermission(f"unknown permission(s): {', '.join(unknown)}")
    return sorted(set(permissions))


def role_permissions(name: str, builtin: bool, stored: list[str] | None) -> frozenset[str]:
    """Built-in roles take their permissions from code (so new permissions reach them); custom ones are stored."""
    if builtin and name in BUILTIN_ROLES:
        return BUILTIN_ROLES[name]
    return frozenset(p for p in (stored or ()) if p in PERMISSIONS)
