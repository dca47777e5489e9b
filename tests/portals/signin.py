"""Signing in and out as a person does: the form of /login, typed into and sent; at desktop widths, "Sign out"
is behind the bar's "Account" disclosure (portal/layout.html), which a person opens first."""

from __future__ import annotations

import re

from app.services import demo


def sign_in(page, live_server, host: str, portal_id: str, password: str = demo.DEMO_PASSWORD) -> None:
    page.goto(live_server.url(host, "/login"))
    page.get_by_label("Portal ID").fill(portal_id)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url(host, "/portal"))


def account_menu(page):
    """The desktop bar's "Account" disclosure (profile, security, privacy, signing out), opened by a click on it
    when it is closed."""
    menu = page.locator(".nav-wide details.nav-account")
    if not menu.evaluate("d => d.open"):
        menu.locator("summary").click()
    return menu


def sign_out(page) -> None:
    account_menu(page).get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login$"))
