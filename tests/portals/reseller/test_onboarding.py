"""The onboarding wizard in a real browser: an admin walks the four steps (basic information, a plan at its price,
installation, billing and access), makes a mistake in two of them and fixes it, reviews, creates the customer and
sees the Portal ID, portal password and network password once (a reload says they were shown), then finds the
new customer's page with its service; a failure at the end creates nothing, and the same review sent again once
it is fixed creates the customer; a Readonly member cannot open the wizard nor post to it; every word is in
Swahili."""

from __future__ import annotations

import itertools
import re
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.models import Customer
from app.services import customers, network_credentials
from app.services.errors import Conflict
from tenants import tenant_context
from tenants.registry import directory
from tests.portals.rig import fetch, post_form
from tests.portals.signin import sign_in_team

ABC = "abc.test.example"
ADMIN = "admin@abc-internet.example"
_n = itertools.count(1)


def _email() -> str:
    return f"neema.{int(time.time())}.{next(_n)}@example.com"


def _count(db, email: str) -> int:
    with db.session() as s, tenant_context(directory().by_code("ABC_ISP")):
        return s.execute(select(func.count()).select_from(Customer).where(Customer.email == email)).scalar_one()


def _continue(page):
    page.get_by_role("button", name="Continue").click()


def _basic(page, live_server, email: str, last_name: str = "Chebet"):
    page.goto(live_server.url(ABC, "/reseller/customers/new"))
    page.get_by_label("First name").fill("Neema")
    page.get_by_label("Last name").fill(last_name)
    page.get_by_label("E-mail address (optional)").fill(email)
    page.get_by_label("Phone (optional)").fill("+254712999001")
    page.get_by_label("Town or city (optional)").fill("Nairobi")
    _continue(page)


@pytest.mark.browser
def test_an_admin_onboards_a_customer_in_four_steps_and_sees_the_credentials_once(page, live_server, demo, db,
                                                                                   look):
    email = _email()
    sign_in_team(page, live_server, ABC, ADMIN)
    page.goto(live_server.url(ABC, "/reseller/customers/new"))
    expect(page.get_by_role("heading", name="New customer: Basic information")).to_be_visible()
    steps = page.get_by_role("navigation", name="Steps of the onboarding")
    expect(steps.locator("[aria-current=step]")).to_have_text("Basic information")
    look(page, "reseller-onboarding-basic")

    # step 1, with the last name forgotten: the form comes back with the message next to it, the rest kept
    _basic(page, live_server, email, last_name="")
    expect(page.locator("#last_name-error")).to_have_text("Enter the customer's last name.")
    expect(page.get_by_label("First name")).to_have_value("Neema")
    expect(page.get_by_label("E-mail address (optional)")).to_have_value(email)
    page.get_by_label("Last name").fill("Chebet")
    _continue(page)

    # step 2: the plans ABC may sell, with today's price
    expect(page.get_by_role("heading", name="New customer: Service")).to_be_visible()
    plans = page.locator(".plan-choice")
    expect(plans).to_have_count(5)  # HOME-10, HOME-20, BIZ-50, VOICE-300 and "No service for now"
    home = plans.filter(has_text="HOME-10")
    expect(home.locator(".plan-price")).to_contain_text("KES")
    look(page, "reseller-onboarding-service")
    _continue(page)
    expect(page.locator("#plan_id-error")).to_have_text("Choose a plan, or no service for now.")
    home.locator("input").check()
    _continue(page)

    # step 3: installation; the address is the customer's until changed
    expect(page.get_by_role("heading", name="New customer: Installation and network")).to_be_visible()
    expect(page.get_by_label("Installation address")).to_have_value("Nairobi")
    page.get_by_label("Installation address").fill("Plot 7, Ngong Road, Nairobi")
    look(page, "reseller-onboarding-installation")
    _continue(page)

    # step 4: a billing day that does not exist, then a good one
    expect(page.get_by_role("heading", name="New customer: Billing and access")).to_be_visible()
    page.get_by_label("Billing day (optional)").fill("31")
    page.get_by_label("M-PESA number (optional)").fill("0712 999 001")
    page.get_by_label("Payment method (optional)").select_option("mpesa")
    _continue(page)
    expect(page.locator("#billing_day-error")).to_have_text("Enter a day of the month from 1 to 28.")
    expect(page.get_by_label("M-PESA number (optional)")).to_have_value("0712 999 001")
    page.get_by_label("Billing day (optional)").fill("5")
    look(page, "reseller-onboarding-billing")
    _continue(page)

    # the review: every answer, each with its "Change"
    expect(page.get_by_role("heading", name="New customer: Check and create")).to_be_visible()
    expect(page.locator(".summary-list").first).to_contain_text("Neema Chebet")
    expect(page.locator("main")).to_contain_text("Plot 7, Ngong Road, Nairobi")
    expect(page.locator("main")).to_contain_text("M-PESA")
    look(page, "reseller-onboarding-review")
    assert _count(db, email) == 0  # nothing exists before "Create"
    page.get_by_role("button", name="Create the customer").click()

    # the result: the credentials, this once
    expect(page.get_by_role("heading", name="Customer created")).to_be_visible()
    credentials = page.locator(".credentials")
    expect(credentials.get_by_role("heading", name="Credentials: shown once")).to_be_visible()
    portal_id = credentials.locator(".summary-row", has_text="Portal ID").locator("dd").inner_text().strip()
    assert re.fullmatch(r"ABC\d{6}", portal_id)
    password = credentials.locator(".summary-row", has_text="Portal password").locator("dd").inner_text().strip()
    network = credentials.locator(".summary-row", has_text="Network password").locator("dd").inner_text().strip()
    assert len(password) >= 10 and len(network) >= 8
    look(page, "reseller-onboarding-done")
    page.reload()
    expect(page.locator("main")).to_contain_text("were shown once and are not shown again")
    assert password not in page.content() and network not in page.content()

    with db.session() as s, tenant_context(directory().by_code("ABC_ISP")):
        made = customers.find_by_email(s, email)
        assert made.portal_id == portal_id and made.billing_day == 5 and made.mpesa_number == "254712999001"

    page.get_by_role("link", name="Open the customer's page").click()
    expect(page.get_by_role("heading", name="Neema Chebet", level=1)).to_be_visible()
    expect(page.locator(".customer-id")).to_contain_text(portal_id)
    page.get_by_role("navigation", name="About this customer").get_by_role("link", name="Services").click()
    expect(page.locator("main")).to_contain_text("Plot 7, Ngong Road, Nairobi")


@pytest.mark.browser
def test_a_failure_at_the_end_creates_nothing_and_the_fixed_review_creates_the_customer(page, live_server, demo,
                                                                                        db, monkeypatch):
    email = _email()
    sign_in_team(page, live_server, ABC, ADMIN)
    _basic(page, live_server, email)
    page.locator(".plan-choice", has_text="HOME-20").locator("input").check()
    _continue(page)
    _continue(page)  # installation as proposed: the customer's town, not activated
    _continue(page)  # billing: nothing more

    def unreachable(*_args, **_kwargs):
        raise Conflict("the network credentials store is unreachable")

    monkeypatch.setattr(network_credentials, "set_credentials", unreachable)  # after the customer and service
    page.get_by_role("button", name="Create the customer").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The customer was not created, and nothing was saved.")
    expect(alert).to_contain_text("the network credentials store is unreachable")
    assert _count(db, email) == 0

    monkeypatch.undo()
    page.get_by_role("button", name="Create the customer").click()
    expect(page.get_by_role("heading", name="Credentials: shown once")).to_be_visible()
    assert _count(db, email) == 1


@pytest.mark.browser
def test_a_readonly_member_cannot_open_or_post_the_wizard(page, live_server, demo, db):
    sign_in_team(page, live_server, ABC, "viewer@abc-internet.example")
    assert fetch(page, "/reseller/customers/new")["status"] == 403
    token = page.evaluate("() => document.querySelector('input[name=csrf_token]').value")
    email = _email()
    assert post_form(page, "/reseller/customers/new", {"csrf_token": token, "customer_type": "person",
                                                        "first_name": "Forged", "last_name": "Entry",
                                                        "email": email}) == 403
    assert _count(db, email) == 0


def test_a_wizard_is_its_own_members_and_a_finished_one_is_not_created_twice(client, demo, db):
    from tests.web.forms import csrf_of, submit

    email = _email()
    submit(client, "/reseller/login", ABC, identifier=ADMIN, password="Demo#Pass2026")
    answer = submit(client, "/reseller/customers/new", ABC, customer_type="person", first_name="Twice",
                    last_name="Sent", email=email)
    assert answer.status_code == 302
    wizard = answer.headers["Location"].split("/")[-2]
    base = f"/reseller/customers/new/{wizard}"
    assert submit(client, f"{base}/service", ABC, plan_id="none").status_code == 302
    assert submit(client, f"{base}/billing", ABC, send_welcome="y").status_code == 302
    review = client.get(f"{base}/review", headers={"Host": ABC}).get_data(as_text=True)
    token = csrf_of(review)
    first = client.post(f"{base}/review", headers={"Host": ABC}, data={"csrf_token": token})
    again = client.post(f"{base}/review", headers={"Host": ABC}, data={"csrf_token": token})
    assert first.status_code == again.status_code == 302 and again.headers["Location"].endswith("/done")
    assert _count(db, email) == 1
    done = client.get(f"{base}/done", headers={"Host": ABC})
    assert done.headers["Cache-Control"] == "no-store" and "Credentials: shown once" in done.get_data(as_text=True)

    from app.services.auth import users

    manager = f"manager{next(_n)}.{int(time.time())}@abc-internet.example"
    with db.session() as s, tenant_context(directory().by_code("ABC_ISP")):
        users.create_user(s, username=manager, email=manager, role="Manager", password="Demo#Pass2026")
        s.commit()
    other = client.application.test_client()
    submit(other, "/reseller/login", ABC, identifier=manager, password="Demo#Pass2026")
    for path in (f"{base}/review", f"{base}/billing", f"{base}/done"):
        seen = other.get(path, headers={"Host": ABC})
        assert seen.status_code == 302 and seen.headers["Location"].endswith("/reseller/customers/new"), path


def test_every_word_of_the_onboarding_wizard_is_in_swahili():
    from jinja2.ext import babel_extract

    from app.portals.reseller import onboarding, onboarding_forms
    from app.services.branding import i18n

    words = i18n.translations("sw")
    untranslated = []
    for template in sorted((i18n.CATALOGUES.parent / "templates/reseller/onboarding").glob("*.html")):
        with template.open("rb") as source:
            for _line, _function, message, _comments in babel_extract(source, ("_",), [], {}):
                message = message[0] if isinstance(message, tuple) else message
                if message and words.gettext(message) == message:
                    untranslated.append(f"{template.name}: {message}")
    said = [v for module in (onboarding, onboarding_forms) for k, v in vars(module).items()
            if k.isupper() and isinstance(v, str) and " " in v]
    said += list(onboarding.TITLES.values())
    said += [label for label in onboarding_forms.PAYMENT_WORDS.values() if label != "M-PESA"]
    said += ["A person", "A company", "Not chosen yet"]
    untranslated += [m for m in said if words.gettext(m) == m]
    assert untranslated == []


def test_a_member_who_may_not_provision_onboards_without_the_service_steps(client, demo, db):
    from app.services.auth import users
    from tests.web.forms import submit

    clerk = f"clerk{next(_n)}.{int(time.time())}@abc-internet.example"
    with db.session() as s, tenant_context(directory().by_code("ABC_ISP")):
        users.create_user(s, username=clerk, email=clerk, role="User", password="Demo#Pass2026",
                          permissions_=["customers.create"])
        s.commit()
    submit(client, "/reseller/login", ABC, identifier=clerk, password="Demo#Pass2026")
    email = _email()
    answer = submit(client, "/reseller/customers/new", ABC, customer_type="company", company_name="Jua Kali Works",
                    email=email)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/billing")  # no service step
    base = answer.headers["Location"].rsplit("/", 1)[0]
    skipped = client.get(f"{base}/service", headers={"Host": ABC})
    assert skipped.status_code == 302 and skipped.headers["Location"].endswith("/billing")
    assert submit(client, f"{base}/billing", ABC, deposit="1500.50").headers["Location"].endswith("/review")
    review = client.get(f"{base}/review", headers={"Host": ABC}).get_data(as_text=True)
    assert "Jua Kali Works" in review and "No service for now" not in review and "1500.50" in review
    done = submit(client, f"{base}/review", ABC)
    assert done.status_code == 302
    with db.session() as s, tenant_context(directory().by_code("ABC_ISP")):
        made = customers.find_by_email(s, email)
        assert made.kind == "company" and str(made.deposit) == "1500.50" and made.first_name is None
