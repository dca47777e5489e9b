"""Forgotten passwords, for the three kinds of account: the page that asks, the e-mail (over real SMTP, sent
by a real worker), the link in it opening the reset page on the host the e-mail belongs to, and the new
password working; a used, expired or foreign link says so and offers a new one."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, update

from app.models import Outbox, ResetToken
from app.models.base import utcnow
from tenants import tenant_context
from tests.auth.conftest import PASSWORD
from tests.notifications.conftest import wait_for
from tests.web.forms import csrf_of, path_of, submit

CONSOLE = "console.test.example"
NEW = "An0ther#Pass"
URL = re.compile(r"https?://[^\s\"'<>]+")


def _who(door, accounts, staff):
    """(host, path prefix, sign-in name, e-mail address) of an account at `door`."""
    if door == "staff":
        return CONSOLE, "/console", staff, staff
    acc = accounts()
    if door == "customer":
        return acc.host, "", acc.portal_id, acc.customer_email
    return acc.host, "/reseller", acc.username, acc.username


def _hidden_token(html: str) -> str:
    return re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)


def _set_password(client, url: str, password=NEW, confirm=None):
    host = urlsplit(url).hostname
    html = client.get(path_of(url), headers={"Host": host}).get_data(as_text=True)
    return client.post(urlsplit(url).path, headers={"Host": host}, data={
        "csrf_token": csrf_of(html), "token": _hidden_token(html), "password": password,
        "confirm": password if confirm is None else confirm})


@pytest.mark.parametrize("door", ["customer", "user", "staff"])
def test_the_reset_email_opens_a_reset_page_that_sets_the_password(client, accounts, staff, smtp_server,
                                                                   mail_worker, door):
    host, prefix, name, address = _who(door, accounts, staff)
    page = client.get(f"{prefix}/login", headers={"Host": host}).get_data(as_text=True)
    assert f'href="{prefix}/password/forgot"' in page
    asked = submit(client, f"{prefix}/password/forgot", host, identifier=name)
    assert asked.status_code == 302 and asked.headers["Location"] == f"{prefix}/password/forgot/sent"
    assert "Check your e-mail" in client.get(asked.headers["Location"], headers={"Host": host}).get_data(as_text=True)

    mail = wait_for(lambda: smtp_server.inbox.to(address), what="the reset e-mail")[0]
    text, html = mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()
    links = set(URL.findall(text))
    assert len(links) == 1 and set(re.findall(r'href="(https?://[^"]+)"', html)) == links
    url = links.pop()
    assert urlsplit(url).hostname == host and urlsplit(url).path == f"{prefix}/password/reset"

    shown = client.get(path_of(url), headers={"Host": host})
    body = shown.get_data(as_text=True)
    assert shown.status_code == 200 and 'name="confirm"' in body and "at least 8 characters" in body
    assert shown.headers["Referrer-Policy"] == "no-referrer"
    done = _set_password(client, url)
    assert done.status_code == 302 and done.headers["Location"] == f"{prefix}/login"
    signed = submit(client.application.test_client(), f"{prefix}/login", host, identifier=name, password=NEW)
    assert signed.status_code == 302 and signed.headers["Location"] == {"customer": "/portal", "user": "/reseller/",
                                                                        "staff": "/console/"}[door]
    used = client.get(path_of(url), headers={"Host": host})
    assert used.status_code == 410 and f'href="{prefix}/password/forgot"' in used.get_data(as_text=True)


def test_asking_answers_the_same_whether_or_not_the_account_exists(client, db, accounts):
    acc = accounts()
    known = submit(client, "/password/forgot", acc.host, identifier=acc.portal_id)
    unknown = submit(client, "/password/forgot", acc.host, identifier="ABC000999")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    with db.session() as s, tenant_context(acc.tenant):
        assert s.execute(select(func.count()).select_from(Outbox)
                         .where(Outbox.template == "security/password_reset")).scalar_one() == 1


def _reset_url(client, db, acc) -> str:
    submit(client, "/password/forgot", acc.host, identifier=acc.portal_id)
    with db.session() as s, tenant_context(acc.tenant):
        mail = s.execute(select(Outbox).where(Outbox.template == "security/password_reset")
                         .order_by(Outbox.id.desc())).scalars().first()
    return mail.context["reset_url"]


def test_an_expired_link_says_so_and_offers_a_new_one(client, db, accounts):
    acc = accounts()
    url = _reset_url(client, db, acc)
    with db.session() as s, tenant_context(acc.tenant):
        s.execute(update(ResetToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    page = client.get(path_of(url), headers={"Host": acc.host})
    html = page.get_data(as_text=True)
    assert page.status_code == 410 and "This link cannot be used" in html and 'href="/password/forgot"' in html


def test_a_link_of_another_tenant_does_not_open_here(client, db, accounts):
    a, b = accounts(), accounts()
    url = _reset_url(client, db, a)
    assert client.get(path_of(url), headers={"Host": b.host}).status_code == 410
    assert client.get(path_of(url), headers={"Host": a.host}).status_code == 200


def test_two_different_or_weak_passwords_are_refused_and_the_link_still_works(client, db, accounts):
    acc = accounts()
    url = _reset_url(client, db, acc)
    different = _set_password(client, url, NEW, "Different#Pass9")
    assert different.status_code == 422 and "The two passwords are not the same." in different.get_data(as_text=True)
    weak = _set_password(client, url, "weakpass")
    assert weak.status_code == 422 and "follows every rule below" in weak.get_data(as_text=True)
    assert _set_password(client, url).status_code == 302
    fresh = client.application.test_client
    assert submit(fresh(), "/login", acc.host, identifier=acc.portal_id, password=NEW).status_code == 302
    assert submit(fresh(), "/login", acc.host, identifier=acc.portal_id, password=PASSWORD).status_code == 401


def test_a_reset_lifts_the_lock(client, db, accounts):
    acc = accounts()
    for _ in range(5):
        submit(client, "/login", acc.host, identifier=acc.portal_id, password="Wrong#Pass1")
    assert submit(client, "/login", acc.host, identifier=acc.portal_id, password=PASSWORD).status_code == 423
    assert _set_password(client, _reset_url(client, db, acc)).status_code == 302
    assert submit(client, "/login", acc.host, identifier=acc.portal_id, password=NEW).status_code == 302


@pytest.mark.parametrize(("old", "new", "door"), [("/portal/auth/reset", "/password/reset", "customer"),
                                                  ("/reseller/auth/reset", "/reseller/password/reset", "user"),
                                                  ("/console/auth/reset", "/console/password/reset", "staff")])
def test_links_of_reset_emails_sent_before_still_work(client, accounts, old, new, door):
    host = CONSOLE if door == "staff" else accounts().host
    token = f"bhr.{0 if door == 'staff' else 1}.{'x' * 43}"
    moved = client.get(f"{old}?token={token}", headers={"Host": host})
    assert moved.status_code == 301 and moved.headers["Location"] == f"{new}?token={token}"


def test_a_team_members_old_link_made_on_the_console_goes_to_the_resellers_host(client, accounts):
    acc = accounts()
    token = f"bhr.{acc.tenant.id}.{'x' * 43}"
    moved = client.get(f"/reseller/auth/reset?token={token}", headers={"Host": CONSOLE})
    assert moved.headers["Location"] == f"https://{acc.host}/reseller/password/reset?token={token}"


def test_a_team_members_reset_asked_on_the_console_links_to_the_resellers_host(client, db, accounts):
    acc = accounts()
    asked = client.post("/reseller/auth/password-reset", headers={"Host": CONSOLE},
                        json={"identifier": acc.username, "reseller_code": acc.tenant.code})
    assert asked.status_code == 202
    with db.session() as s, tenant_context(acc.tenant):
        url = s.execute(select(Outbox.context)).scalars().one()["reset_url"]
    assert url.startswith(f"https://{acc.host}/reseller/password/reset?token=")
    assert client.get(path_of(url), headers={"Host": acc.host}).status_code == 200
    assert parse_qs(urlsplit(url).query)["token"][0].startswith(f"bhr.{acc.tenant.id}.")
