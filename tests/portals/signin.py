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


def sign_in_team(page, live_server, host: str, username: str, password: str = demo.DEMO_PASSWORD) -> None:
    """A reseller's team member through the team's form, `/reseller/login`, landing on the dashboard."""
    page.goto(live_server.url(host, "/reseller/login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url(host, "/reseller/"))


CONSOLE = "console.test.example"


def sign_in_staff(page, live_server, email: str = demo.STAFF["email"], password: str = demo.DEMO_PASSWORD,
                  landing: str = "/console/search") -> None:
    """Master ISP staff through the console's form, landing on `landing` (the sign-in's `next`). Not the dashboard
    unless a test asks for it: the dashboard reads every tenant, and the session's database holds every tenant
    the suite has made, so it grows slower with each test; a test that only passes through it waits for it."""
    page.goto(live_server.url(CONSOLE, f"/console/login?next={landing}"))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url(CONSOLE, landing))


def workspace_sign_out(page) -> None:
    """Signing out of the reseller portal or the console: the bar's button at desktop widths, the last item of
    the "Menu" at phone widths."""
    wide = page.locator(".workspace-who")
    if wide.is_visible():
        wide.get_by_role("button", name="Sign out").click()
    else:
        menu = page.locator(".nav-narrow")
        if not menu.evaluate("d => d.open"):
            menu.locator("summary").click()
        menu.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login$"))
