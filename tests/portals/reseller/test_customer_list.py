"""The reseller portal's customer list in a real browser: an admin searches by name, filters by status, pages
forward through keyset pages and back to the first, downloads the filtered set as CSV (every row, not one
page), saves the filters under a name and reopens them, and suspends two ticked customers (a third already
suspended) to read the outcome of each; a Readonly member sees no ticks and no status change, and a forged POST
is refused; XYZ's admin never sees ABC's customers, saved filters or results. Without a browser: the saved
filters' API, bad filters given back next to their field, an old cursor, XLSX, and every word in Swahili."""

from __future__ import annotations

import csv
import io
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

import pytest
from jinja2.ext import babel_extract
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import Customer, User
from app.models.customers import CustomerStatusChange
from app.portals.reseller import customers as list_page
from app.portals.reseller import customers_forms
from app.services import customers
from app.services import demo as seed
from app.services.branding import i18n
from app.services.customers import saved_filters
from tenants import tenant_context
from tenants.registry import directory
from tests.brokers import bound_broker
from tests.portals.rig import fetch, post_form
from tests.portals.signin import sign_in_team
from tests.web.forms import csrf_of, submit

ABC, XYZ = "abc.test.example", "xyz.test.example"
ADMIN, VIEWER, XYZ_ADMIN = "admin@abc-internet.example", "viewer@abc-internet.example", "admin@xyz-networks.example"


@dataclass
class Crowd:
    surname: str  # a word only these customers have: searching it shows them alone
    ids: list[int]
    portal_ids: list[str]
    suspended: set[str]  # Portal IDs of those made Suspended


def crowd(db, size: int, suspended_every: int = 0, code: str = "ABC_ISP") -> Crowd:
    """`size` Active customers of one surname of their own (a fresh one per call, so that tests do not see each
    other's), every `suspended_every`-th Suspended."""
    surname = "".join(secrets.choice(string.ascii_lowercase) for _ in range(9)).capitalize()
    tenant = directory().by_code(code)
    ids, portal_ids, suspended = [], [], set()
    with db.session() as s, tenant_context(tenant):
        for i in range(size):
            made = customers.create(s, status="Active", first_name=f"Amani{i:02d}", last_name=surname,
                                    email=f"{surname.lower()}{i}@example.com", county="Nakuru", city="Naivasha")
            if suspended_every and i % suspended_every == 0:
                customers.change_status(s, made.id, "Suspended", "test: unpaid")
                suspended.add(made.portal_id)
            ids.append(made.id)
            portal_ids.append(made.portal_id)
        s.commit()
    return Crowd(surname, ids, portal_ids, suspended)


def statuses_of(db, ids: list[int], code: str = "ABC_ISP") -> dict[int, str]:
    with db.session() as s, tenant_context(directory().by_code(code)):
        return dict(s.execute(select(Customer.id, Customer.status).where(Customer.id.in_(ids))).all())


def open_list(page, live_server, host: str = ABC):
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Customers").click()
    page.wait_for_url(live_server.url(host, "/reseller/customers"))
    expect(page.get_by_role("heading", name="Customers", level=1)).to_be_visible()


def search(page, words: str) -> None:
    page.get_by_label("Search").fill(words)
    page.get_by_role("button", name="Show customers").click()


def portal_ids_shown(page) -> list[str]:
    return [t.strip() for t in page.locator("table.table tbody td[data-label='Portal ID']").all_inner_texts()]


# -- in a browser ----------------------------------------------------------------------------------------------

@pytest.mark.browser
def test_search_filter_page_forward_and_back_to_the_first(page, live_server, demo, db, look):
    many = crowd(db, 57, suspended_every=4)  # 15 of them Suspended
    sign_in_team(page, live_server, ABC, ADMIN)
    open_list(page, live_server)
    search(page, many.surname.lower()[:-2])  # the start of the word is enough
    expect(page.locator(".list-total")).to_contain_text("57 customers")
    first = portal_ids_shown(page)
    assert len(first) == 50 and set(first) <= set(many.portal_ids)
    assert first == sorted(first, reverse=True)  # newest first: Portal IDs grow with time
    look(page, "reseller-customers")
    page.get_by_role("link", name="Next page").click()
    expect(page.locator(".list-total")).to_contain_text("57 customers")
    second = portal_ids_shown(page)
    assert len(second) == 7 and not set(first) & set(second) and set(first) | set(second) == set(many.portal_ids)
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    assert "cursor=" in page.url
    page.get_by_role("link", name="Back to the first page").click()
    assert portal_ids_shown(page) == first
    expect(page.get_by_label("Search")).to_have_value(many.surname.lower()[:-2])

    page.get_by_role("group", name="Status").get_by_label("Suspended").check()
    page.get_by_role("button", name="Show customers").click()
    expect(page.locator(".list-total")).to_contain_text("15 customers")
    assert set(portal_ids_shown(page)) == many.suspended
    assert set(page.locator("tbody td[data-label='Status']").all_inner_texts()) == {"Suspended"}
    expect(page.get_by_role("group", name="Status").get_by_label("Suspended")).to_be_checked()


@pytest.mark.browser
def test_the_filtered_list_downloads_as_csv_with_every_row(page, live_server, demo, db):
    many = crowd(db, 53)
    sign_in_team(page, live_server, ABC, ADMIN)
    open_list(page, live_server)
    search(page, many.surname)
    expect(page.locator(".list-total")).to_contain_text("53 customers")
    with page.expect_download() as started:
        page.get_by_role("link", name="Download as CSV").click()
    text = Path(started.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text.split("\r\n\r\n")[0])))
    assert len(rows) == 53  # the page shows 50; the download has every row of the filter
    assert {r["Portal ID"] for r in rows} == set(many.portal_ids)
    assert {r["Status"] for r in rows} == {"Active"} and {r["County"] for r in rows} == {"Nakuru"}
    assert rows[0]["Name"] == f"Amani52 {many.surname}"  # the list's order: newest first


@pytest.mark.browser
def test_filters_saved_under_a_name_reopen_with_one_click(page, live_server, demo, db):
    many = crowd(db, 6, suspended_every=3)
    sign_in_team(page, live_server, ABC, ADMIN)
    open_list(page, live_server)
    page.get_by_label("Search").fill(many.surname)
    page.get_by_role("group", name="Status").get_by_label("Suspended").check()
    page.get_by_role("button", name="Show customers").click()
    expect(page.locator(".list-total")).to_contain_text("2 customers")
    page.get_by_label("Name for these filters").fill(f"Suspended {many.surname}")
    page.get_by_role("button", name="Save these filters").click()
    expect(page.locator(".notice")).to_have_text("The filter is saved.")

    page.get_by_role("link", name="Clear the filters").click()
    expect(page.get_by_label("Search")).to_have_value("")
    page.get_by_role("link", name=f"Suspended {many.surname}").click()
    expect(page.locator(".list-total")).to_contain_text("2 customers")
    expect(page.get_by_label("Search")).to_have_value(many.surname)
    expect(page.get_by_role("group", name="Status").get_by_label("Suspended")).to_be_checked()
    assert set(portal_ids_shown(page)) == many.suspended

    saved = page.locator(".saved-filters li", has_text=f"Suspended {many.surname}")
    saved.get_by_role("button", name="Delete").click()
    expect(page.locator(".notice")).to_have_text("The saved filter is deleted.")
    expect(page.get_by_role("link", name=f"Suspended {many.surname}")).to_have_count(0)


@pytest.mark.browser
def test_two_ticked_customers_are_suspended_and_each_outcome_shown(page, live_server, demo, db, look):
    few = crowd(db, 4)
    active, already, gone = few.portal_ids[:2], few.portal_ids[2], few.portal_ids[3]
    with db.session() as s, tenant_context(directory().by_code("ABC_ISP")):
        customers.change_status(s, few.ids[2], "Suspended", "test: unpaid")
        customers.change_status(s, few.ids[3], "Inactive", "test: moved away")  # final: cannot be suspended
        s.commit()
    sign_in_team(page, live_server, ABC, ADMIN)
    open_list(page, live_server)
    search(page, few.surname)
    for portal_id in few.portal_ids:
        row = page.locator("tbody tr", has=page.get_by_role("link", name=portal_id, exact=True))
        row.get_by_role("checkbox").check()
    page.get_by_label("New status").select_option("Suspended")
    page.get_by_role("button", name="Change the ticked customers").click()

    expect(page.get_by_role("heading", name="Change the status of 4 customers?")).to_be_visible()
    page.get_by_role("button", name="Change the status").click()  # no reason yet: asked for, nothing changed
    expect(page.locator(".field-error")).to_contain_text("Say why the status is changed")
    assert list(statuses_of(db, few.ids).values()).count("Active") == 2
    page.get_by_label("Reason").fill("Unpaid since October")
    look(page, "reseller-customers-bulk")
    page.get_by_role("button", name="Change the status").click()

    expect(page.get_by_role("heading", name="Status change: the result", level=1)).to_be_visible()

    def outcome(portal_id):
        return page.locator("tbody tr", has=page.get_by_role("link", name=portal_id, exact=True))

    for portal_id in active:
        expect(outcome(portal_id).locator("td[data-label='Outcome']")).to_have_text("Changed")
        expect(outcome(portal_id).locator("td[data-label='Before']")).to_have_text("Active")
    expect(outcome(already).locator("td[data-label='Outcome']")).to_have_text("Already in this status")
    expect(outcome(gone).locator("td[data-label='Outcome']")).to_have_text("Refused")
    expect(outcome(gone).locator("td[data-label='Why']")).to_contain_text("Inactive is final")
    expect(page.locator(".summary-list")).to_contain_text("Unpaid since October")
    look(page, "reseller-customers-result")
    assert statuses_of(db, few.ids) == dict(zip(few.ids, ["Suspended"] * 3 + ["Inactive"], strict=True))
    page.reload()  # the result is read back: reloading it changes nothing again
    expect(page.locator("td[data-label='Outcome']", has_text="Changed")).to_have_count(2)
    with db.session() as s, tenant_context(directory().by_code("ABC_ISP")):
        assert customers.history(s, few.ids[1])[-1].reason == "Unpaid since October"


@pytest.mark.browser
def test_a_readonly_member_sees_no_status_change_and_a_forged_one_is_refused(page, live_server, demo, db):
    few = crowd(db, 2)
    sign_in_team(page, live_server, ABC, VIEWER)
    open_list(page, live_server)
    search(page, few.surname)
    expect(page.locator(".list-total")).to_contain_text("2 customers")
    expect(page.locator("tbody").get_by_role("checkbox")).to_have_count(0)
    expect(page.get_by_role("button", name="Change the ticked customers")).to_have_count(0)
    expect(page.get_by_role("link", name="Add a customer")).to_have_count(0)
    expect(page.get_by_role("button", name="Save these filters")).to_have_count(0)
    query = "&".join(f"ids={i}" for i in few.ids)
    token = page.evaluate("() => document.querySelector('input[name=csrf_token]').value")
    status = post_form(page, f"/reseller/customers/bulk?{query}",
                       {"csrf_token": token, "status": "Suspended", "reason": "forged"})
    assert status == 403
    page.goto(live_server.url(ABC, f"/reseller/customers/bulk?{query}&to=Suspended"))
    assert "Change the status of" not in page.content()
    assert set(statuses_of(db, few.ids).values()) == {"Active"}


@pytest.mark.browser
def test_xyz_admin_never_sees_abc_customers(page, live_server, demo, db):
    abc = crowd(db, 2)
    with db.session() as s, tenant_context(directory().by_code("ABC_ISP")):
        admin_id = s.execute(select(User.id).where(User.username == ADMIN)).scalar_one()
        shared = saved_filters.save(s, admin_id, f"ABC {abc.surname}", {"q": abc.surname}, shared=True).id
        s.commit()
    sign_in_team(page, live_server, XYZ, XYZ_ADMIN)
    open_list(page, live_server, XYZ)
    shown = set(portal_ids_shown(page))
    assert shown and not shown & set(demo["ABC_ISP"]["customers"])
    search(page, abc.surname)
    expect(page.get_by_text("No customers match these filters")).to_be_visible()
    page.goto(live_server.url(XYZ, f"/reseller/customers?portal_id={abc.portal_ids[0]}"))
    expect(page.get_by_text("No customers match these filters")).to_be_visible()
    download = fetch(page, f"/reseller/customers?q={abc.surname}&format=csv")
    assert download["status"] == 200 and download["text"].startswith("Portal ID,")
    assert abc.surname not in download["text"] and abc.portal_ids[0] not in download["text"]
    expect(page.get_by_role("link", name=f"ABC {abc.surname}")).to_have_count(0)  # ABC's team shared it, not XYZ's
    assert fetch(page, f"/reseller/customers/saved-filters/{shared}")["status"] == 404


@pytest.mark.browser
def test_without_javascript_the_filters_the_pages_and_a_status_change_work(browser, live_server, demo, db):
    many = crowd(db, 52)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900},
                                  locale="en-GB")
    try:
        page = context.new_page()
        sign_in_team(page, live_server, ABC, ADMIN)
        page.goto(live_server.url(ABC, "/reseller/customers"))
        page.locator("summary", has_text="More filters").click()
        page.get_by_label("Name", exact=True).fill(many.surname)
        page.get_by_label("Order").select_option("portal_id")
        page.get_by_role("button", name="Show customers").click()
        expect(page.locator(".list-total")).to_contain_text("52 customers")
        assert portal_ids_shown(page) == sorted(many.portal_ids)[:50]
        page.get_by_role("link", name="Next page").click()
        assert portal_ids_shown(page) == sorted(many.portal_ids)[50:]
        page.locator("tbody").get_by_role("checkbox").first.check()
        page.get_by_label("New status").select_option("Inactive")
        page.get_by_role("button", name="Change the ticked customers").click()
        page.get_by_label("Reason").fill("Moved away")
        page.get_by_role("button", name="Change the status").click()
        expect(page.locator("td[data-label='Outcome']")).to_have_text(["Changed"])
        assert statuses_of(db, many.ids)[many.ids[50]] == "Inactive"  # the first of page 2 by Portal ID
    finally:
        context.close()


@pytest.fixture
def bulk_broker(redis_url, db, monkeypatch):
    """A broker of this test with the bulk status actor bound to it: the real Redis, a real worker started by the
    test, this run's database."""
    from worker.actors import customers as actors

    with bound_broker(redis_url, monkeypatch, "bulk", (actors.bulk_status,), db=db) as broker:
        yield broker


def test_a_large_change_is_done_by_the_worker_and_its_page_follows_it(page, live_server, demo, db, bulk_broker,
                                                                       monkeypatch, look):
    """Over more customers than a request changes at once, the change waits for a worker, and its page says so;
    once a worker takes it, a chunk at a time, the page follows it (htmx, no reload) to every customer's outcome.
    Sent twice, the job changes nothing twice."""
    from dramatiq import Worker

    from app.services.customers import bulk_jobs

    monkeypatch.setattr(bulk_jobs, "INLINE_MAX", 2)
    monkeypatch.setattr(bulk_jobs, "CHUNK", 2)
    few = crowd(db, 5)
    sign_in_team(page, live_server, ABC, ADMIN)
    page.goto(live_server.url(ABC, f"/reseller/customers/bulk?q={few.surname}&all=1&to=Suspended"))
    page.get_by_label("Reason").fill("Tower maintenance")
    page.get_by_role("button", name="Change the status").click()
    region = page.locator("#bulk-result")
    expect(region.get_by_role("heading", name="Waiting for a worker to start it.")).to_be_visible()
    expect(page.locator("progress#bulk-bar")).to_have_attribute("max", "5")
    look(page, "reseller-customers-bulk-queued")
    assert set(statuses_of(db, few.ids).values()) == {"Active"}
    result_url = page.url

    worker = Worker(bulk_broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        expect(region.locator("td[data-label='Outcome']")).to_have_text(["Changed"] * 5, timeout=60_000)
        bulk_broker.join("bulk", timeout=60_000)
    finally:
        worker.stop()
    assert page.url == result_url
    expect(page.locator("progress#bulk-bar")).to_have_count(0)  # done: nothing left to follow
    expect(page.locator(".summary-list")).to_contain_text("Tower maintenance")
    assert set(statuses_of(db, few.ids).values()) == {"Suspended"}
    look(page, "reseller-customers-bulk-done")

    token, abc = result_url.rsplit("/", 1)[1], directory().by_code("ABC_ISP")
    with db.session() as s, tenant_context(abc):
        admin_id = s.execute(select(User.id).where(User.username == ADMIN)).scalar_one()
    with tenant_context(abc):
        assert bulk_jobs.run(db, bulk_broker.client, abc, admin_id, token) == "done"  # a twin of the message
    with db.session() as s, tenant_context(abc):
        changes = s.execute(select(CustomerStatusChange).where(CustomerStatusChange.customer_id.in_(few.ids),
                                                               CustomerStatusChange.to_status == "Suspended")).all()
    assert len(changes) == 5  # each customer suspended once


# -- without a browser -----------------------------------------------------------------------------------------

def _team(client, host: str = ABC, username: str = ADMIN):
    done = submit(client, "/reseller/login", host, identifier=username, password=seed.DEMO_PASSWORD)
    assert done.status_code == 302


def _api_token(client, host: str, username: str) -> dict:
    answer = client.post("/reseller/auth/login", headers={"Host": host},
                         json={"username": username, "password": seed.DEMO_PASSWORD})
    assert answer.status_code == 200, answer.get_json()
    return {"Host": host, "Authorization": f"Bearer {answer.get_json()['token']}"}


def test_saved_filters_through_the_api_are_the_pages_own(client, demo, app):
    admin, support = _api_token(client, ABC, ADMIN), _api_token(client, ABC, "support@abc-internet.example")
    path = "/reseller/api/customers/saved-filters"
    mine = client.post(path, headers=admin, json={"name": "Nairobi late", "shared": True,
                                                   "filters": {"county": "Nairobi", "status": ["Active", "Suspended"],
                                                               "payment_status": "overdue"}})
    assert mine.status_code == 201, mine.get_json()
    assert mine.get_json()["filters"] == {"county": "Nairobi", "status": ["Active", "Suspended"],
                                          "payment_status": "overdue"}
    private = client.post(path, headers=admin, json={"name": "Mine alone", "filters": {"q": "wanjiku"}}).get_json()
    again = client.post(path, headers=admin, json={"name": "NAIROBI LATE", "shared": True,
                                                    "filters": {"county": "Nairobi"}})
    assert again.get_json()["id"] == mine.get_json()["id"]  # the same name, whatever its case, replaces it
    assert client.post(path, headers=admin, json={"name": "x", "filters": {"evil": "1"}}).status_code == 422

    theirs = client.get(path, headers=support).get_json()
    assert [(f["name"], f["mine"]) for f in theirs if f["name"].lower().startswith(("nairobi", "mine"))] == [
        ("NAIROBI LATE", False)]  # a colleague's shared filter, not their private one
    assert client.get(f"{path}/{private['id']}", headers=support).status_code == 404
    assert client.delete(f"{path}/{mine.get_json()['id']}", headers=support).status_code == 409
    xyz = _api_token(client, XYZ, XYZ_ADMIN)
    assert client.get(f"{path}/{mine.get_json()['id']}", headers=xyz).status_code == 404
    assert all(f["name"] != "NAIROBI LATE" for f in client.get(path, headers=xyz).get_json())

    browser = app.test_client()  # the pages, signed in through the form (the API's sign-ins set cookies too)
    _team(browser)
    html = browser.get("/reseller/customers", headers={"Host": ABC}).get_data(as_text=True)
    assert "NAIROBI LATE" in html and "Mine alone" in html
    opened = browser.get(f"/reseller/customers/saved-filters/{mine.get_json()['id']}", headers={"Host": ABC})
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/reseller/customers?county=Nairobi")
    assert client.delete(f"{path}/{private['id']}", headers=admin).status_code == 204
    assert client.delete(f"{path}/{mine.get_json()['id']}", headers=admin).status_code == 204


def test_bad_filters_are_given_back_next_to_their_field_and_an_old_cursor_starts_again(client, demo):
    _team(client)
    shown = client.get("/reseller/customers?created_from=2026-10-10&created_to=2026-01-01&q=wanjiku",
                       headers={"Host": ABC})
    html = shown.get_data(as_text=True)
    assert shown.status_code == 422
    assert 'id="created_to-error"' in html and customers_forms.END_BEFORE_START in html
    assert 'value="wanjiku"' in html and 'value="2026-10-10"' in html and "<table" not in html
    shown = client.get("/reseller/customers?created_from=31/02/2026", headers={"Host": ABC})
    assert shown.status_code == 422 and customers_forms.NOT_A_DATE in shown.get_data(as_text=True)

    listed = client.get("/reseller/customers?q=wanjiku&county=Nairobi", headers={"Host": ABC})
    unnamed = client.post("/reseller/customers/saved-filters?q=wanjiku&county=Nairobi", headers={"Host": ABC},
                          data={"csrf_token": csrf_of(listed.get_data(as_text=True)), "label": "  ", "shared": "y"})
    html = unnamed.get_data(as_text=True)
    assert unnamed.status_code == 422 and 'id="label-error"' in html and customers_forms.NAME_MISSING in html
    assert 'id="shared" name="shared" type="checkbox" value="y" checked' in html and 'value="wanjiku"' in html

    old = client.get("/reseller/customers?q=wanjiku&cursor=bm9wZQ", headers={"Host": ABC})
    assert old.status_code == 302 and old.headers["Location"].endswith("/reseller/customers?q=wanjiku")
    assert list_page.PAGE_GONE in client.get(old.headers["Location"], headers={"Host": ABC}).get_data(as_text=True)


def test_the_list_downloads_as_xlsx_and_a_result_of_another_member_is_not_found(client, demo, db):
    few = crowd(db, 3)
    _team(client)
    sheet = client.get(f"/reseller/customers?q={few.surname}&format=xlsx", headers={"Host": ABC})
    assert sheet.status_code == 200 and "spreadsheetml" in sheet.content_type
    rows = list(load_workbook(io.BytesIO(sheet.data)).worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("Portal ID", "Name", "Status") and {r[0] for r in rows[1:] if r[0]} == set(few.portal_ids)

    query = "&".join(f"ids={i}" for i in few.ids[:1])
    form = client.get(f"/reseller/customers/bulk?{query}&to=Inactive", headers={"Host": ABC})
    assert form.status_code == 200
    done = client.post(f"/reseller/customers/bulk?{query}", headers={"Host": ABC},
                       data={"csrf_token": csrf_of(form.get_data(as_text=True)), "status": "Inactive",
                             "reason": "moved away"})
    assert done.status_code == 302
    result = done.headers["Location"]
    assert "Changed" in client.get(result, headers={"Host": ABC}).get_data(as_text=True)
    other = client.application.test_client()
    _team(other, XYZ, XYZ_ADMIN)
    assert other.get(result, headers={"Host": XYZ}).status_code == 302  # not kept for them: back to the list
    support = client.application.test_client()
    _team(support, ABC, "support@abc-internet.example")
    elsewhere = support.get(result, headers={"Host": ABC})
    assert elsewhere.status_code == 302 or "moved away" not in elsewhere.get_data(as_text=True)


def test_all_customers_matching_the_filters_change_together(client, demo, db):
    few, others = crowd(db, 3), crowd(db, 1)
    _team(client)
    listed = client.get(f"/reseller/customers?q={few.surname}", headers={"Host": ABC}).get_data(as_text=True)
    assert "Change all 3 customers" in listed
    asked = client.get(f"/reseller/customers/bulk?q={few.surname}&all=1&to=Suspended", headers={"Host": ABC})
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Change the status of 3 customers?" in html
    assert '<option value="Suspended" selected>' in html
    done = client.post(f"/reseller/customers/bulk?q={few.surname}&all=1&to=Suspended", headers={"Host": ABC},
                       data={"csrf_token": csrf_of(html), "status": "Suspended", "reason": "  "})
    assert done.status_code == 422 and customers_forms.REASON_MISSING in done.get_data(as_text=True)
    done = client.post(f"/reseller/customers/bulk?q={few.surname}&all=1&to=Suspended", headers={"Host": ABC},
                       data={"csrf_token": csrf_of(html), "status": "Suspended", "reason": "Tower down"})
    assert done.status_code == 302
    shown = client.get(done.headers["Location"], headers={"Host": ABC}).get_data(as_text=True)
    assert shown.count("<strong>Changed</strong>") == 3 and all(p in shown for p in few.portal_ids)
    assert set(statuses_of(db, few.ids).values()) == {"Suspended"}
    assert set(statuses_of(db, others.ids).values()) == {"Active"}  # not matching the filters: left alone
    nothing = client.get("/reseller/customers/bulk?to=Suspended", headers={"Host": ABC})
    assert nothing.status_code == 302 and list_page.NOTHING_CHOSEN in client.get(
        nothing.headers["Location"], headers={"Host": ABC}).get_data(as_text=True)


def test_every_word_of_the_customer_list_is_in_swahili():
    words = i18n.translations("sw")
    untranslated = []
    for template in sorted((i18n.CATALOGUES.parent / "templates/reseller/customers").glob("*.html")):
        with template.open("rb") as source:
            for _line, _function, message, _comments in babel_extract(source, ("_", "ngettext"), [], {}):
                if isinstance(message, tuple) and len(message) > 1 and all(message[:2]):  # singular, plural
                    if words.ngettext(message[0], message[1], 1) == message[0] or \
                            words.ngettext(message[0], message[1], 2) == message[1]:
                        untranslated.append(f"{template.name}: {message[1]}")
                elif isinstance(message, str) and words.gettext(message) == message:
                    untranslated.append(f"{template.name}: {message}")
    said = [v for module in (list_page, customers_forms) for k, v in vars(module).items()
            if k.isupper() and isinstance(v, str) and " " in v]
    said += [label for _k, label in customers_forms.SORTS] + list(customers_forms.SERVICE_WORDS.values())
    said += [label for _k, label in customers_forms.PAYMENT_WORDS]
    said += [c.title for c in list_page.CUSTOMERS.columns]
    said += ["Already in this status", "Changed", "Refused", "Not found", "Choose a status", "Any service", "Any"]
    untranslated += [m for m in said if words.gettext(m) == m and m not in ("Portal ID", "M-PESA number")]
    assert untranslated == []
