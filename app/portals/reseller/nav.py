"""The reseller portal's sections, in the order of its side navigation: the one list every page's menu is
drawn from (kit/workspace.html), grouped under the headings the team reads them by.

A section is shown once its page exists and the team member may open it (app/portals/nav.py reads the
permission from the view's `requires`): a Readonly member sees no Team administration, a member without
`finance.view` no Billing.
"""

from __future__ import annotations

from app.portals import nav
from app.portals.nav import Section

BUSINESS, MONEY, RESELLER = "Business", "Money", "Your business"

SECTIONS = (
    Section("dashboard", "Dashboard", "reseller_dashboard.index", group=BUSINESS),
    Section("notifications", "Notifications", "reseller_notifications.index", group=BUSINESS),
    Section("customers", "Customers", "reseller_customers.index", group=BUSINESS,
            also=("reseller_customer", "reseller_onboarding")),
    Section("privacy", "Deletion requests", "reseller_privacy.index", group=BUSINESS),
    Section("catalogue", "Services and pricing", "reseller_catalogue.index", group=BUSINESS),
    Section("billing", "Billing", "reseller_billing.index", group=MONEY,
            also=("reseller_billing_payments", "reseller_billing_runs", "reseller_billing_settings")),
    Section("commissions", "Commissions", "reseller_commissions.index", group=MONEY),
    Section("account", "Master ISP account", "reseller_account.index", group=MONEY),
    Section("reports", "Reports", "reseller_reports.index", group=MONEY),
    Section("branding", "Branding", "reseller_branding.index", group=RESELLER),
    Section("team", "Team", "reseller_team.index", group=RESELLER),
    Section("subresellers", "Sub-resellers", "reseller_subresellers.index", group=RESELLER,
            also=("reseller_subreseller_customers",)),
    Section("settings", "Settings", "reseller_settings.index", group=RESELLER),
)


def menu() -> list[dict]:
    return nav.menu(SECTIONS)
