"""The customer portal's sections, in the order its navigation shows them: the one list every page's menu
is drawn from (portal/layout.html).

A section is shown once its page exists, that is once a view is registered under its endpoint, so a new
section's page needs only its blueprint: its place in the menu is already here. Until then no link leads to
a page that is not there. Signing out is no section: it is a form (a POST with its CSRF token), always shown.

The account's own sections (profile, security, privacy) are of the `account` group: pages a customer seldom
needs, so at desktop widths they sit, with signing out, behind one "Account" disclosure, which keeps the bar
on one line in the longest brand names and languages. The group is named here rather than in the template so
that a section's place, in the bar or behind "Account", is decided in the same list as its order. The phone
menu, already behind its own disclosure, lists every section flat.
"""

from __future__ import annotations

from app.portals import nav
from app.portals.nav import Section

SECTIONS = (
    Section("dashboard", "Dashboard", "customer_dashboard.index"),
    Section("services", "Services", "customer_services.index"),
    Section("usage", "Usage", "customer_usage.index"),
    Section("billing", "Billing", "customer_billing.index"),
    Section("disputes", "Disputes", "customer_disputes.index"),
    Section("topups", "Top-ups", "customer_topups.index"),
    Section("profile", "Profile", "customer_profile.index", group="account"),
    Section("security", "Security", "customer_security.index", group="account"),
    Section("privacy", "Privacy", "customer_privacy.index", group="account"),
)


def menu() -> list[dict]:
    """The sections whose pages exist, each with its address, its group and whether the request is in it."""
    return nav.menu(SECTIONS)
