"""The console's Staff pages: staff find their colleagues (their own row says "you"), add one with a password shown
once or an invitation by e-mail, rename them and let them impersonate, deactivate them (signed out at once, kept
out) and bring them back, and reset a lost second factor. Nobody deactivates themself; nobody but staff opens
these pages. Every account here is the test's own: the demo's staff member is left as it is."""

from __future__ import annotations

import itertools
import re

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app import models as m
from app.portals.console import staff as staff_pages
from app.portals.console import staff_forms
from app.services import demo
from app.services.auth import totp, users
from app.services.auth.realms import STAFF
from tests.conftest import RUN_ID
from tests.portals.console.console_rig import CONSOLE, staff_client
from tests.portals.console.test_console_words import console_said
from tests.portals.signin import sign_in_staff
from tests.portals.words import TEMPLATES, untranslated
from tests.web.forms import csrf_of, submit

_n = itertools.count(1)


def _member(db, name: str, **kwargs) -> tuple[int, str]:
    email = f"staff-page-{RUN_ID}-{next(_n)}@isp.example"
    with db.session() as s:
        made = users.create_staff(s, email=email, name=name, password=demo.DEMO_PASSWORD, **kwargs)
        return made.id, email


def _url(live_server, path: str) -> str:
    return live_server.url(CONSOLE, path)


@pytest.mark.browser
def test_staff_add_find_change_deactivate_and_reactivate_a_colleague(page, live_server, db, look):
    _, lead = _member(db, f"Console Lead {RUN_ID}")
    sign_in_staff(page, live_server, lead)
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Staff").click()
    expect(page.get_by_role("heading", name="Staff", level=1)).to_be_visible()
    page.get_by_label("Name or e-mail address").fill(lead)
    page.get_by_role("button", name="Search").click()
    mine = page.locator("table.table tbody tr")
    expect(mine).to_have_count(1)
    expect(mine.locator("td[data-label='Name']")).to_contain_text("you")
    expect(mine.locator("td[data-label='Two-step verification']")).to_have_text("Off")
    look(page, "console-staff")

    page.get_by_role("link", name="Add a staff member").first.click()
    page.get_by_label("E-mail address").fill("not an address")
    page.get_by_role("button", name="Add the staff member").click()
    expect(page.locator("#name-error")).to_have_text("Enter their name.")
    expect(page.locator("#email-error")).to_contain_text("Enter an e-mail address")
    expect(page.get_by_label("E-mail address")).to_have_value("not an address")  # what was typed is kept
    look(page, "console-staff-create")

    email = f"achieng-{RUN_ID}@isp.example"
    page.get_by_label("Name").fill("Achieng Odhiambo")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("May impersonate customers and view as a reseller").check()
    page.get_by_label("Show me a generated password to give them").check()
    page.get_by_role("button", name="Add the staff member").click()
    expect(page.get_by_role("heading", name="Achieng Odhiambo is added")).to_be_visible()
    password = page.locator("#generated-password").inner_text().strip()
    assert len(password) >= 12
    look(page, "console-staff-created")
    page.get_by_role("link", name="Go to their page").click()
    expect(page.get_by_role("heading", name="Achieng Odhiambo", level=1)).to_be_visible()
    expect(page.locator(".summary-list")).to_contain_text(email)
    assert password not in page.content()  # shown once, never again

    page.get_by_label("Name").fill("Achieng Atieno")
    page.get_by_label("May impersonate customers and view as a reseller").uncheck()
    page.get_by_role("button", name="Save the changes").click()
    expect(page.get_by_text("The changes are saved.")).to_be_visible()
    expect(page.get_by_role("heading", name="Achieng Atieno", level=1)).to_be_visible()
    expect(page.locator(".summary-row", has_text="May impersonate")).to_contain_text("No")
    look(page, "console-staff-member")

    page.get_by_role("link", name="Deactivate").click()
    expect(page.get_by_role("heading", name="Deactivate Achieng Atieno?")).to_be_visible()
    page.get_by_label("Reason (optional)").fill("Moved to the NOC team")
    look(page, "console-staff-deactivate")
    page.get_by_role("button", name="Deactivate them").click()
    expect(page.get_by_text("They are deactivated and signed out everywhere.")).to_be_visible()
    expect(page.locator(".page-head .tag")).to_have_text("Inactive")
    with db.session() as s:
        entry = s.execute(select(m.AuditEvent).where(m.AuditEvent.action == "staff.deactivate")
                          .order_by(m.AuditEvent.id.desc())).scalars().first()
        assert entry.detail["email"] == email and entry.detail["reason"] == "Moved to the NOC team"
        assert lead in entry.actor

    page.get_by_role("link", name="Reactivate").click()
    page.get_by_role("button", name="Reactivate them").click()
    expect(page.get_by_text("They can sign in again.")).to_be_visible()
    expect(page.locator(".page-head .tag")).to_have_text("Active")

    page.goto(_url(live_server, "/console/staff?q=achieng-" + RUN_ID))
    expect(page.get_by_role("link", name="Achieng Atieno")).to_be_visible()
    expect(page.locator("table.table tbody tr")).to_have_count(1)


@pytest.mark.browser
def test_a_lost_second_factor_is_reset_after_a_confirmation(page, live_server, db, look):
    _, lead = _member(db, f"Console Lead {RUN_ID}")
    staff_id, email = _member(db, "Baraka Mutua")
    with db.session() as s:
        member = s.get(m.StaffUser, staff_id)
        secret = totp.begin_enrolment(member, email, "Backhaul")["secret"]
        totp.confirm_enrolment(s, STAFF, member, pyotp.TOTP(secret).now())
    sign_in_staff(page, live_server, lead)
    page.goto(_url(live_server, f"/console/staff/{staff_id}"))
    expect(page.locator(".summary-row", has_text="Two-step verification")).to_contain_text("10 backup codes left")
    page.get_by_role("link", name="Reset two-step verification").click()
    expect(page.get_by_role("heading", name="Reset the two-step verification of Baraka Mutua?")).to_be_visible()
    look(page, "console-staff-reset-two-step")
    page.get_by_label("Reason (optional)").fill("Phone stolen, identity checked by video call")
    page.get_by_role("button", name="Reset two-step verification").click()
    expect(page.get_by_text(re.compile("Their two-step verification is reset"))).to_be_visible()
    expect(page.locator(".summary-row", has_text="Two-step verification")).to_contain_text("Off")
    expect(page.get_by_role("link", name="Reset two-step verification")).to_have_count(0)


def test_an_invitation_is_e_mailed_and_a_new_link_can_be_sent(app, db):
    _, lead = _member(db, "Invites People")
    client = staff_client(app.test_client(), lead)
    email = f"invited-{RUN_ID}@isp.example"
    done = submit(client, "/console/staff/new", CONSOLE, name="Invited Person", email=email,
                  first_password="invite")
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    shown = client.get(done.headers["Location"], headers={"Host": CONSOLE}).get_data(as_text=True)
    assert "The invitation is sent" in shown and "they have not chosen their password yet" in shown
    with db.session() as s:
        [mail] = s.execute(select(m.PlatformOutbox).where(m.PlatformOutbox.to_address == email)).scalars().all()
        assert "/console/password/reset?token=" in mail.body_text
    again = client.post(done.headers["Location"] + "/password-link", headers={"Host": CONSOLE},
                        data={"csrf_token": csrf_of(shown)})
    assert again.status_code == 302
    with db.session() as s:
        assert len(s.execute(select(m.PlatformOutbox).where(m.PlatformOutbox.to_address == email)).all()) == 2

    taken = submit(client, "/console/staff/new", CONSOLE, name="Same Address", email=email.upper(),
                   first_password="invite")
    assert taken.status_code == 422
    assert "already exists" in taken.get_data(as_text=True) and 'id="email-error"' in taken.get_data(as_text=True)


def test_nobody_deactivates_themself_nor_resets_their_own_second_factor(app, db):
    own_id, lead = _member(db, "Myself Only")
    client = staff_client(app.test_client(), lead)
    shown = client.get(f"/console/staff/{own_id}", headers={"Host": CONSOLE}).get_data(as_text=True)
    assert "This is you" in shown and f"/console/staff/{own_id}/deactivate" not in shown
    forged = submit(client, f"/console/staff/{own_id}/deactivate", CONSOLE, reason="")
    assert forged.status_code == 409 and "your own account" in forged.get_data(as_text=True)
    with db.session() as s:
        assert s.get(m.StaffUser, own_id).is_active
    assert client.get("/console/staff/999999999", headers={"Host": CONSOLE}).status_code == 404
    no_token = client.post(f"/console/staff/{own_id}", headers={"Host": CONSOLE}, data={"name": "Forged"})
    assert no_token.status_code == 422  # a forged post (no CSRF token) changes nothing
    with db.session() as s:
        assert s.get(m.StaffUser, own_id).name == "Myself Only"


def test_a_deactivated_member_is_signed_out_at_once(app, db):
    _, lead = _member(db, "Does The Deactivating")
    staff_id, email = _member(db, "Gets Deactivated")
    theirs = staff_client(app.test_client(), email)
    assert theirs.get("/console/staff", headers={"Host": CONSOLE}).status_code == 200
    client = staff_client(app.test_client(), lead)
    assert submit(client, f"/console/staff/{staff_id}/deactivate", CONSOLE, reason="").status_code == 302
    assert theirs.get("/console/staff", headers={"Host": CONSOLE}).status_code == 302  # to the sign-in page
    assert submit(client, f"/console/staff/{staff_id}/reactivate", CONSOLE, reason="back").status_code == 302


def test_a_resellers_team_member_is_refused(app, client, demo):
    signed = client.post("/reseller/auth/login", headers={"Host": "abc.test.example"},
                         json={"username": "admin@abc-internet.example", "password": demo_password()})
    token = signed.get_json()["token"]
    for path in ("/console/staff", "/console/staff/new", "/console/staff/1"):
        answer = client.get(path, headers={"Host": CONSOLE, "Authorization": f"Bearer {token}"})
        assert answer.status_code in (401, 403), (path, answer.status_code)
    assert app.test_client().get("/console/staff", headers={"Host": CONSOLE}).status_code == 302


def demo_password() -> str:
    return demo.DEMO_PASSWORD


def test_every_word_of_the_staff_pages_is_in_swahili(app, monkeypatch):
    import tests.portals.console.test_console_words as words

    monkeypatch.setattr(words, "MODULES", (staff_pages,))
    monkeypatch.setattr(words, "FORMS", (staff_forms,))
    said = console_said(app) + [
        "They are deactivated and signed out everywhere.", "They can sign in again.",
        "Their two-step verification is reset: they sign in with their password and set it up again.",
        # the service's refusals, shown on the pages as they are said
        "a name is needed", "a name has at most 200 characters", "a reason has at most 1000 characters",
        "they are deactivated: reactivate them first",
        "you cannot deactivate your own account; ask another staff member", "they are deactivated already",
        "this is the last active staff account: the console would have nobody left to sign in",
        "they are active already", "turn your own two-step verification off in your account's security settings",
        "two-step verification is not on for them", "a valid e-mail address is needed",
        "a staff member with this e-mail address already exists"]
    templates = sorted((TEMPLATES / "console" / "staff").glob("*.html"))
    assert untranslated(templates, said) == []
