"""Every link an e-mail carries opens a page that does what the e-mail says, on the host the e-mail
belongs to.

Each template under themes/base/templates/email/ is either produced here the way its sender produces it
(the security e-mails and the welcome by the real flows; the customers' billing and usage notices with
the context and the portal address their senders compute), its links read from the HTML and the text, and
each link requested on its own host, following redirects, until a page that must be the one promised; or
it is a template whose source can carry no link at all, which is checked too, so that a link added to it
later must be added here.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.models import Outbox, PlatformOutbox
from app.services.billing import dunning
from app.services.notifications import outbox
from app.services.usage import fup
from tenants import tenant_context
from tenants.themes import BASE
from tests.auth.conftest import PASSWORD, bearer, reseller_login
from tests.web.forms import path_of, submit

EMAIL = BASE / "templates" / "email"
CONSOLE = "console.test.example"
LINK = re.compile(r"""(?:href|src)="([^"]+)"|(https?://[^\s"'<>]+)""")

# what the page at the end of a link must show, by what the e-mail promises
RESET_FORM = 'name="confirm"'          # "choose a new password"
FORGOT_FORM = "Forgot your password?"  # "reset your password": the page that sends a reset link
SIGN_IN = 'name="password"'            # "your portal": its sign-in page
CONFIRM_EMAIL = "Confirm my new e-mail address"  # "confirm your new address": the page that confirms it


def _templates() -> list[str]:
    return sorted(str(p.relative_to(EMAIL).with_suffix("")) for p in EMAIL.rglob("*.txt")
                  if not p.name.endswith(".subject.txt"))


def _links(text: str, html: str | None) -> set[str]:
    found = {a or b for a, b in LINK.findall(text + (html or ""))}
    return {u.rstrip(".,)") for u in found if not u.startswith("mailto:")}


def _open(client, url: str) -> tuple[int, str, str]:
    """Request `url` on its own host as a browser would, following redirects: (status, final URL, page)."""
    for _ in range(5):
        parts = urlsplit(url)
        assert parts.scheme == "https" and parts.hostname, f"{url} is not an absolute link"
        answer = client.get(path_of(url), headers={"Host": parts.hostname})
        if answer.status_code not in (301, 302, 303, 307, 308):
            return answer.status_code, url, answer.get_data(as_text=True)
        location = answer.headers["Location"]
        url = location if location.startswith("http") else f"{parts.scheme}://{parts.hostname}{location}"
    raise AssertionError(f"{url}: too many redirects")


def _check(client, mails, promised: str, host: str) -> None:
    assert mails, "no e-mail was written"
    for mail in mails:
        links = _links(mail.body_text, mail.body_html)
        assert links, f"{mail.template} carries no link"
        for url in links:
            assert urlsplit(url).hostname == host, f"{mail.template}: {url} is not on {host}"
            status, final, page = _open(client, url)
            assert status == 200, f"{mail.template}: {url} ended at {final} with {status}"
            if "/brand/" not in url:  # a logo is an image; every other link is a page that keeps its promise
                assert promised in page, f"{mail.template}: {url} opened {final}, not the promised page"


def _tenant_mail(db, tenant, template):
    with db.session() as s, tenant_context(tenant):
        return s.execute(select(Outbox).where(Outbox.template == template)).scalars().all()


def _platform_mail(db, template, to):
    with db.session() as s:
        return s.execute(select(PlatformOutbox).where(PlatformOutbox.template == template,
                                                      PlatformOutbox.to_address == to)).scalars().all()


def _fail_five_times(client, host, prefix, name):
    for _ in range(5):
        submit(client, f"{prefix}/login", host, identifier=name, password="Wrong#Pass1")


def _new_device(app, host, prefix, name):
    """Sign in from one browser, then from another the account has never been seen on."""
    for agent in ("first browser", "second browser"):
        browser = app.test_client()
        browser.environ_base["HTTP_USER_AGENT"] = agent
        submit(browser, f"{prefix}/login", host, identifier=name, password=PASSWORD)


DOORS = {"customer": ("", "portal_id"), "user": ("/reseller", "username"), "staff": ("/console", None)}


@pytest.mark.parametrize("door", ["customer", "user", "staff"])
@pytest.mark.parametrize("template", ["security/password_reset", "security/lockout", "security/new_device"])
def test_the_security_emails_links_open_what_they_promise(app, client, db, accounts, staff, door, template):
    prefix, field = DOORS[door]
    if door == "staff":
        host, name, acc = CONSOLE, staff, None
    else:
        acc = accounts()
        host, name = acc.host, getattr(acc, field)
    if template == "security/password_reset":
        submit(client, f"{prefix}/password/forgot", host, identifier=name)
        promised = RESET_FORM
    elif template == "security/lockout":
        _fail_five_times(client, host, prefix, name)
        promised = FORGOT_FORM
    else:
        _new_device(app, host, prefix, name)
        promised = FORGOT_FORM
    mails = _platform_mail(db, template, staff) if door == "staff" else _tenant_mail(db, acc.tenant, template)
    _check(app.test_client(), mails, promised, host)


def test_the_welcome_emails_link_opens_the_customers_sign_in_even_when_onboarded_on_the_console(client, db,
                                                                                                accounts):
    acc = accounts()
    token = reseller_login(client, acc).get_json()["token"]
    for host in (acc.host, CONSOLE):
        made = client.post("/reseller/api/onboarding", headers=bearer(token, host), json={
            "customer": {"customer_type": "person", "first_name": "Amina", "last_name": "Otieno",
                         "email": f"amina.{host}@example.com"}, "access": {"send_welcome": True}})
        assert made.status_code == 201, made.get_json()
    mails = _tenant_mail(db, acc.tenant, "welcome")
    assert len(mails) == 2
    _check(client, mails, SIGN_IN, acc.host)


def _render_as_sent(db, tenant, template, context):
    """The e-mail as `queue_email` writes it: the sender's context with the tenant's brand, language and
    links, through the tenant's theme chain."""
    with db.session() as s, tenant_context(tenant):
        branded, chain = outbox.branded_context(s, tenant)
        rendered = outbox.render(template, {**context, **branded}, chain)
    return type("Mail", (), {"template": template, "body_text": rendered.text, "body_html": rendered.html})


def _customer_notices(db, tenant, portal_id):
    with db.session() as s, tenant_context(tenant):
        reminder_url, fup_url = dunning._portal_url(s), fup._portal_url(s)  # as each sender computes it
    who = {"name": "Wanjiru Mwangi", "portal_id": portal_id}
    owed = {"invoice_number": "INV-2026-000001", "amount": "1500.00", "currency": "KES", "days_overdue": 10}
    return {
        "billing/payment_reminder": {**who, **owed, "due_on": "2026-11-05", "action": "suspend",
                                     "action_on": "2026-11-20", "portal_url": reminder_url},
        "billing/dunning_action": {**who, **owed, "action": "suspend", "portal_url": reminder_url},
        "billing/service_restored": {**who, "portal_url": reminder_url},
        "usage/threshold": {**who, "percent": 100, "limited": True, "used_mb": "10240", "allowance_mb": 10240,
                            "cycle_end": "2026-11-30", "service_id": 1, "portal_url": fup_url},
    }


def test_the_customers_billing_and_usage_notices_open_their_portal(client, db, accounts):
    acc = accounts()
    for template, context in _customer_notices(db, acc.tenant, acc.portal_id).items():
        mail = _render_as_sent(db, acc.tenant, template, context)
        _check(client, [mail], SIGN_IN, acc.host)
    signed = submit(client, "/login?next=/portal", acc.host, identifier=acc.portal_id, password=PASSWORD)
    assert signed.headers["Location"] == "/portal"  # and, signed in, the portal is the customer's own page
    assert acc.portal_id in client.get("/portal", headers={"Host": acc.host}).get_data(as_text=True)


def test_the_email_change_link_opens_the_confirmation_page_on_the_customers_host(app, client, db, accounts):
    """The link is made by the real request (POST /portal/api/profile/email); it opens the portal's
    confirmation page on the reseller's host, signed in or not, and that page's button changes the address."""
    from app.services.selfcare.email_change import CONFIRM_PATH

    acc = accounts()
    token = client.post("/portal/auth/login", json={"portal_id": acc.portal_id, "password": PASSWORD},
                        headers={"Host": acc.host}).get_json()["token"]
    assert client.post("/portal/api/profile/email", json={"email": "new.address@example.com"},
                       headers=bearer(token, acc.host)).status_code == 202
    [mail] = _tenant_mail(db, acc.tenant, "customer/email_change")
    links = {u for u in _links(mail.body_text, mail.body_html) if "/brand/" not in u}
    assert len(links) == 1, links
    [url] = links
    parts = urlsplit(url)
    assert parts.hostname == acc.host and parts.path == CONFIRM_PATH and parts.query.startswith("token=bhe.")
    reader = app.test_client()  # where the mail is read: not signed in
    _check(reader, [mail], CONFIRM_EMAIL, acc.host)
    confirmed = submit(reader, CONFIRM_PATH, acc.host, page=path_of(url), token=parts.query.removeprefix("token="))
    assert confirmed.status_code == 302
    assert client.get("/portal/api/profile", headers=bearer(token, acc.host)).get_json()["email"] == \
        "new.address@example.com"


LINKED = {"security/password_reset", "security/lockout", "security/new_device", "welcome",
          "billing/payment_reminder", "billing/dunning_action", "billing/service_restored", "usage/threshold",
          "customer/email_change",
          # sent by the real flows in tests/privacy (test_export.py, test_deletion.py) and checked there with `_check`
          "privacy/export_ready", "privacy/deletion_requested", "privacy/deletion_declined",
          # sent by the real flows in tests/billing (test_invoice_disputes.py, test_payment_plans.py), checked there
          "billing/dispute_update", "billing/payment_plan_update"}
LINK_SOURCE = re.compile(r"href=|src=|https?://|_url\b|_src\b")


def test_every_template_is_checked_here_or_carries_no_link(db, accounts):
    acc = accounts()
    assert set(_customer_notices(db, acc.tenant, acc.portal_id)) <= LINKED
    for template in _templates():
        if template in LINKED:
            continue
        for suffix in (".txt", ".html"):
            source = EMAIL / f"{template}{suffix}"
            if source.is_file():
                assert not LINK_SOURCE.search(source.read_text()), \
                    f"{template}{suffix} carries a link: check it in this module"
