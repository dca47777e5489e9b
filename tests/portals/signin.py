"""Signing in as a person does: the form of /login, typed into and sent."""

from __future__ import annotations

from app.services import demo


def sign_in(page, live_server, host: str, portal_id: str, password: str = demo.DEMO_PASSWORD) -> None:
    page.goto(live_server.url(host, "/login"))
    page.get_by_label("Portal ID").fill(portal_id)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url(host, "/portal"))
