"""The sign-in pages of the three doors: a customer, a reseller's team member and a master ISP's staff member
sign in through a plain HTML form (no JavaScript), with 2FA when they have it, and get the cookie the API's
sign-in sets; locked, refused and suspended accounts are told what to do."""

import time

import pyotp
import pytest
from sqlalchemy import update

from app.models import Customer, PortalAccount
from app.services.auth import totp
from app.services.auth.realms import CUSTOMER
from app.services.settings import put_setting
from tenants import tenant_context
from tests.auth.conftest import PASSWORD
from tests.web.forms import csrf_of, no_inline_script, submit

CONSOLE = "console.test.example"


def _me(client, host, prefix):
    return client.get(f"{prefix}/auth/me", headers={"Host": host})


def test_a_customer_signs_in_through_the_form_and_out_again(client, accounts):
    acc = accounts()
    shown = client.get("/login", headers={"Host": acc.host})
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and '<form method="post">' in html and no_inline_script(html)
    assert 'href="/password/forgot"' in html and 'href="/reseller/login"' in html
    form_cookie = shown.headers["Set-Cookie"]  # holds the form's CSRF secret: never readable by a script
    assert form_cookie.startswith("bh_forms=") and "HttpOnly" in form_cookie and "SameSite=Lax" in form_cookie
    done = submit(client, "/login", acc.host, identifier=acc.portal_id, password=PASSWORD)
    assert done.status_code == 302 and done.headers["Location"] == "/portal"
    assert _me(client, acc.host, "/portal").get_json()["id"] == acc.customer_id  # the API's own cookie
    home = client.get("/portal", headers={"Host": acc.host}).get_data(as_text=True)
    assert acc.portal_id in home and "Sign out" in home
    out = client.post("/logout", headers={"Host": acc.host}, data={"csrf_token": csrf_of(home)})
    assert out.status_code == 302 and out.headers["Location"] == "/login"
    assert _me(client, acc.host, "/portal").status_code == 401
    assert "You are signed out." in client.get("/login", headers={"Host": acc.host}).get_data(as_text=True)


def test_a_form_without_its_csrf_token_changes_nothing(client, accounts):
    acc = accounts()
    refused = client.post("/login", headers={"Host": acc.host}, data={"identifier": acc.portal_id,
                                                                      "password": PASSWORD})
    assert refused.status_code == 422 and "bh_session" not in refused.headers.get("Set-Cookie", "")
    assert "This form has expired" in refused.get_data(as_text=True)
    submit(client, "/login", acc.host, identifier=acc.portal_id, password=PASSWORD)
    forged = client.post("/logout", headers={"Host": acc.host})  # a cross-site post has no token
    assert forged.status_code == 302 and _me(client, acc.host, "/portal").status_code == 200


def test_after_signing_in_the_visitor_goes_back_where_they_were_going_and_never_off_site(client, accounts):
    acc = accounts()
    sent = client.get("/portal", headers={"Host": acc.host})
    assert sent.status_code == 302 and sent.headers["Location"] == "/login?next=/portal"
    done = submit(client, "/login?next=/portal", acc.host, identifier=acc.portal_id, password=PASSWORD)
    assert done.headers["Location"] == "/portal"
    other = submit(client.application.test_client(), "/login?next=//evil.example/x", acc.host,
                   identifier=acc.portal_id, password=PASSWORD)
    assert other.status_code == 302 and other.headers["Location"] == "/portal"


def _enrol(db, acc) -> str:
    with db.session() as s, tenant_context(acc.tenant):
        account = s.get(PortalAccount, acc.customer_id)
        secret = totp.begin_enrolment(account, acc.portal_id, "test")["secret"]
        codes = totp.confirm_enrolment(s, CUSTOMER, account, pyotp.TOTP(secret).now())
        s.commit()
    return secret, codes


def test_a_customer_with_2fa_gives_a_code_on_a_second_step(client, db, accounts):
    acc = accounts()
    secret, backup = _enrol(db, acc)
    step = submit(client, "/login", acc.host, identifier=acc.portal_id, password=PASSWORD)
    assert step.status_code == 302 and step.headers["Location"] == "/login/two-factor"
    assert _me(client, acc.host, "/portal").status_code == 401  # not signed in yet
    page = client.get("/login/two-factor", headers={"Host": acc.host}).get_data(as_text=True)
    assert 'name="code"' in page and PASSWORD not in page
    wrong = submit(client, "/login/two-factor", acc.host, code="000000")
    assert wrong.status_code == 401 and "That code is not correct" in wrong.get_data(as_text=True)
    right = submit(client, "/login/two-factor", acc.host, code=pyotp.TOTP(secret).at(time.time() + 30))
    assert right.status_code == 302 and right.headers["Location"] == "/portal"
    assert _me(client, acc.host, "/portal").status_code == 200
    gone = client.get("/login/two-factor", headers={"Host": acc.host})  # the waiting sign-in is used up
    assert gone.status_code == 302 and gone.headers["Location"] == "/login"

    other = client.application.test_client()  # a backup code does as well
    submit(other, "/login", acc.host, identifier=acc.portal_id, password=PASSWORD)
    assert submit(other, "/login/two-factor", acc.host, code=backup[0]).headers["Location"] == "/portal"


def test_the_second_step_is_bound_to_its_tenant(client, db, accounts):
    a, b = accounts(), accounts()
    _enrol(db, a)
    submit(client, "/login", a.host, identifier=a.portal_id, password=PASSWORD)
    elsewhere = client.get("/login/two-factor", headers={"Host": b.host})
    assert elsewhere.status_code == 302 and elsewhere.headers["Location"] == "/login"


def test_a_wrong_name_or_password_says_so_and_a_team_member_is_told_where_to_sign_in(client, accounts):
    acc = accounts()
    right = submit(client, "/login", acc.host, identifier=acc.username, password=PASSWORD)
    wrong = submit(client, "/login", acc.host, identifier=acc.username, password="Wrong#Pass1")
    nobody = submit(client, "/login", acc.host, identifier="nobody@example.com", password="Wrong#Pass1")
    bodies = []
    for answer in (right, wrong, nobody):
        html = answer.get_data(as_text=True)
        assert answer.status_code == 401
        assert "The sign-in name or password is not correct." in html
        assert 'team sign-in page</a>' in html and 'href="/reseller/login"' in html
        bodies.append(html.replace(csrf_of(html), "").replace("nobody@example.com", acc.username))
    assert bodies[0] == bodies[1] == bodies[2]  # nothing tells a team account, or its password, apart
    by_id = submit(client, "/login", acc.host, identifier="ABC999999", password="Wrong#Pass1")
    assert "team sign-in page</a>" not in by_id.get_data(as_text=True)


def test_a_locked_account_is_told_to_wait_or_reset(client, accounts):
    acc = accounts()
    for _ in range(5):
        submit(client, "/login", acc.host, identifier=acc.portal_id, password="Wrong#Pass1")
    locked = submit(client, "/login", acc.host, identifier=acc.portal_id, password=PASSWORD)
    html = locked.get_data(as_text=True)
    assert locked.status_code == 423 and "This account is locked" in html
    assert "Wait 30 minutes" in html and 'href="/password/forgot"' in html


def test_a_suspended_customer_signs_in_and_is_told_what_to_do(client, db, accounts):
    acc = accounts()
    with db.session() as s, tenant_context(acc.tenant):
        s.execute(update(Customer).where(Customer.id == acc.customer_id).values(status="Suspended"))
        s.commit()
    submit(client, "/login", acc.host, identifier=acc.portal_id, password=PASSWORD)
    home = client.get("/portal", headers={"Host": acc.host}).get_data(as_text=True)
    assert "Your account is suspended." in home and "pay what is overdue" in home


def test_the_team_signs_in_on_its_own_page(client, accounts):
    acc = accounts()
    page = client.get("/reseller/login", headers={"Host": acc.host}).get_data(as_text=True)
    assert "Team sign-in" in page and 'href="/reseller/password/forgot"' in page
    done = submit(client, "/reseller/login", acc.host, identifier=acc.username, password=PASSWORD)
    assert done.status_code == 302 and done.headers["Location"] == "/reseller/"
    assert _me(client, acc.host, "/reseller").get_json()["name"] == acc.username
    home = client.get("/reseller/", headers={"Host": acc.host}).get_data(as_text=True)
    assert acc.username in home and 'action="/reseller/logout"' in home


def test_staff_sign_in_on_the_console(client, staff):
    page = client.get("/console/login", headers={"Host": CONSOLE}).get_data(as_text=True)
    assert "Console sign-in" in page and 'href="/console/password/forgot"' in page
    done = submit(client, "/console/login", CONSOLE, identifier=staff, password=PASSWORD)
    assert done.status_code == 302 and done.headers["Location"] == "/console/"
    assert _me(client, CONSOLE, "/console").get_json()["name"] == staff
    assert staff in client.get("/console/", headers={"Host": CONSOLE}).get_data(as_text=True)


@pytest.mark.parametrize(("path", "where"), [("/login", "console"), ("/reseller/login", "console"),
                                             ("/console/login", "tenant"), ("/console/", "tenant"),
                                             ("/portal", "console"), ("/password/forgot", "console")])
def test_each_door_opens_on_its_own_hosts_only(client, accounts, path, where):
    host = CONSOLE if where == "console" else accounts().host
    assert client.get(path, headers={"Host": host}).status_code == 404


def test_the_pages_speak_the_tenants_language(client, db, accounts):
    acc = accounts()
    with db.session() as s, tenant_context(acc.tenant):
        put_setting(s, "language", "sw")
        s.commit()
    html = client.get("/login", headers={"Host": acc.host}).get_data(as_text=True)
    assert "Umesahau nenosiri lako?" in html and "Nenosiri" in html
    wrong = submit(client, "/login", acc.host, identifier=acc.portal_id, password="Wrong#Pass1")
    assert "Jina la kuingia au nenosiri si sahihi." in wrong.get_data(as_text=True)
