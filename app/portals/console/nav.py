"""The master ISP console's sections, in the order of its side navigation (kit/workspace.html).

(NAS and reports are `console_network` and `console_figures`: the API's blueprints already hold the names
`console_nas` and `console_reports`.)"""

from __future__ import annotations

from app.portals import nav
from app.portals.nav import Section

PLATFORM, MONEY, ADMIN = "Platform", "Money", "Administration"

SECTIONS = (
    Section("dashboard", "Dashboard", "console_dashboard.index", group=PLATFORM),
    Section("resellers", "Resellers", "console_resellers.index", group=PLATFORM),
    Section("search", "Portal ID search", "console_search.index", group=PLATFORM),
    Section("catalogue", "Master catalogue", "console_catalogue.index", group=PLATFORM),
    Section("nas", "NAS", "console_network.index", group=PLATFORM),
    Section("commissions", "Commissions", "console_commissions.index", group=MONEY),
    Section("accounts", "Reseller accounts", "console_accounts.index", group=MONEY),
    Section("reports", "Reports", "console_figures.index", group=MONEY),
    Section("brand", "Platform brand", "console_brand.index", group=ADMIN),
    Section("audit", "Audit log", "console_audit.index", group=ADMIN),
    Section("staff", "Staff", "console_staff.index", group=ADMIN),
)


def menu() -> list[dict]:
    return nav.menu(SECTIONS)
