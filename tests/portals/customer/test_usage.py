"""The customer's Usage pages in a real browser: a service's upload and download this cycle by day (the chart
and its table), another period grouped by week or month, the cycle with its buckets, the sessions and calls a
page at a time, the customer's own usage alerts (a bad value said next to the field and kept), an empty state
for a service that used nothing; the charts drawn for the phone at 360 px, their table behind a disclosure that
looks like a control; without JavaScript; another customer's service is not found on any of these pages."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from babel.dates import format_date
from playwright.sync_api import expect
from sqlalchemy import select

from app import clock
from app.models.catalogue import Plan
from app.models.usage import RadiusSession
from app.portals import charts
from app.services import services
from app.services.settings import local_today
from app.services.usage import records, thresholds, views
from tenants import tenant_context
from tests.portals.customers import add_usage, make_customer
from tests.portals.rig import MOBILE, drawn, fetch
from tests.portals.signin import sign_in

pytestmark = pytest.mark.browser
GB = 2**30


@pytest.fixture
def customer(db, demo):
    found = make_customer(db)
    with db.session() as s, tenant_context(found.tenant):
        add_usage(s, found.active_id, 700, day=local_today(s) - timedelta(days=1))
        s.commit()
    return found


def _today(db, customer):
    with db.session() as s, tenant_context(customer.tenant):
        return local_today(s)


def _cycle(db, customer, service_id=None):
    with db.session() as s, tenant_context(customer.tenant):
        return views.cycle(s, services.get(s, service_id or customer.active_id))


def _usage_url(live_server, customer, service_id=None, query="") -> str:
    return live_server.url(customer.host, f"/portal/usage/{service_id or customer.active_id}{query}")


def _day(value) -> str:
    return format_date(value, "d MMMM y", locale="en")


def _figures(page) -> list[list[str]]:
    table = page.locator("details.chart-figures table")
    return [[c.strip() for c in row.locator("th, td").all_inner_texts()] for row in table.locator("tbody tr").all()]


def test_usage_opens_on_this_cycle_by_day_with_the_chart_the_table_and_the_buckets(page, live_server, look, db,
                                                                                 customer):
    today, cycle = _today(db, customer), _cycle(db, customer)
    sign_in(page, live_server, customer.host, customer.portal_id)
    page.locator(f"#service-{customer.active_id}").get_by_role("link", name=re.compile(r"^Usage")).click()  # a card
    page.wait_for_url(_usage_url(live_server, customer))
    assert page.get_by_label("From").input_value() == cycle["start"].isoformat()
    assert page.get_by_label("To").input_value() == today.isoformat()
    assert page.get_by_label("Day", exact=True).is_checked()
    image = page.locator("figure.chart img")
    expect(image).to_have_attribute("alt", re.compile("bar chart"))
    assert drawn(image)
    look(page, "usage")

    page.get_by_text("Show the figures as a table").click()
    rows = _figures(page)
    assert len(rows) == (today - cycle["start"]).days + 1  # a row per day of the cycle so far
    assert rows[-1] == [_day(today), "1,500.0", "0.0"] and rows[-2] == [_day(today - timedelta(days=1)), "700.0", "0.0"]
    shown = page.get_by_role("region", name="This billing cycle").inner_text()
    assert "2,200 MB" in shown and "500,000 MB" in shown and f"{cycle['percent']} %" in shown
    assert _day(cycle["resets_on"]) in shown and _day(cycle["start"]) in shown
    buckets = page.get_by_role("table", name="What you draw on, in the order it is used").inner_text()
    assert "Your plan" in buckets and "Data" in buckets and "30" in buckets and "500,000 MB" in buckets


def test_another_period_grouped_by_week_or_month(page, live_server, look, db, customer):
    today = _today(db, customer)
    with db.session() as s, tenant_context(customer.tenant):
        add_usage(s, customer.active_id, 2 * 1024 * 40, day=today - timedelta(days=50))  # 80 GB, seven weeks ago
        s.commit()
    sign_in(page, live_server, customer.host, customer.portal_id)
    page.goto(_usage_url(live_server, customer))
    start = today - timedelta(days=55)
    page.get_by_label("From").fill(start.isoformat())
    page.get_by_label("Week", exact=True).check()
    page.get_by_role("button", name="Show").click()
    assert f"start={start.isoformat()}" in page.url and "group=week" in page.url
    expect(page.locator("figure.chart figcaption")).to_have_text("Data used per week")
    page.get_by_text("Show the figures as a table").click()
    rows = _figures(page)
    days = [start + timedelta(days=n) for n in range((today - start).days + 1)]
    assert len(rows) == len({d - timedelta(days=d.weekday()) for d in days})  # a row per week, from Monday
    head = page.locator("details.chart-figures thead").inner_text()
    assert head.startswith("Week from") and "Download (GB)" in head  # 80 GB in one week: counted in GB
    assert sum(r[1] == "80.00" for r in rows) == 1
    assert "82.15 GB in all" in page.get_by_role("region", name="Data used").inner_text()  # 80 GB + 2,200 MB
    look(page, "usage-by-week")

    page.get_by_label("Month", exact=True).check()
    page.get_by_role("button", name="Show").click()
    page.get_by_text("Show the figures as a table").click()
    assert len(_figures(page)) == len({(d.year, d.month) for d in days})

    page.get_by_label("To").fill((start - timedelta(days=1)).isoformat())  # before the first day
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#end-error")).to_have_text("The last day must be on or after the first day.")
    assert page.get_by_label("To").input_value() == (start - timedelta(days=1)).isoformat()
    assert page.locator("figure.chart").count() == 0
    look(page, "usage-bad-period")


def test_the_customers_own_alerts_are_edited_and_a_bad_value_is_said_next_to_it(page, live_server, look, db,
                                                                                 customer):
    sign_in(page, live_server, customer.host, customer.portal_id)
    page.goto(_usage_url(live_server, customer, query="#alerts"))
    alerts = page.get_by_role("region", name="Usage alerts")
    assert "75 %, 90 %, 100 %" in alerts.inner_text()
    alerts.get_by_label("Alert 1 (percent)").fill("50")
    alerts.get_by_label("Alert 2 (percent)").fill("150")
    alerts.get_by_role("button", name="Save the alerts").click()
    expect(page.locator("#alert_2-error")).to_have_text("Enter a whole number from 1 to 100, or leave it empty.")
    assert page.get_by_label("Alert 2 (percent)").input_value() == "150"  # what was typed is kept
    assert page.get_by_label("Alert 1 (percent)").input_value() == "50"
    assert page.get_by_label("Alert 2 (percent)").get_attribute("aria-invalid") == "true"
    look(page, "usage-alerts-refused")
    with db.session() as s, tenant_context(customer.tenant):
        assert thresholds.of_service(s, customer.active_id) == []  # nothing was saved

    page.get_by_label("Alert 2 (percent)").fill("80")
    page.get_by_role("button", name="Save the alerts").click()
    expect(page.get_by_role("status").filter(has_text="Your usage alerts are saved.")).to_be_visible()
    assert page.get_by_label("Alert 1 (percent)").input_value() == "50"
    assert page.get_by_label("Alert 2 (percent)").input_value() == "80"
    with db.session() as s, tenant_context(customer.tenant):
        assert thresholds.of_service(s, customer.active_id) == [50, 80]


def test_sessions_and_calls_a_page_at_a_time(page, live_server, look, db, customer):
    with db.session() as s, tenant_context(customer.tenant):
        now = clock.now()
        for n in range(26):
            s.add(RadiusSession(session_key=uuid.uuid4(), nas_id=0, nas_ip="10.0.0.1", acct_session_id=f"S{n}",
                                username=customer.portal_id, customer_id=customer.id, service_id=customer.active_id,
                                framed_ip="100.64.0.9", status="Closed", started_at=now - timedelta(hours=30 - n),
                                stopped_at=now - timedelta(hours=29 - n, minutes=-5), session_time=3900,
                                input_octets=GB // 2, output_octets=3 * GB // 2))
        plan = s.execute(select(Plan).where(Plan.code == "VOICE-300")).scalar_one()
        voice = services.create(s, customer.id, plan.id)
        services.activate(s, voice.id, reason="test")
        records.intake(s, "softswitch", [{"service_id": voice.id, "kind": "voice", "quantity": Decimal("3.5"),
                                          "id": f"call-{voice.id}", "destination": "+254700000001",
                                          "category": "on-net"}])
        s.commit()
    sign_in(page, live_server, customer.host, customer.portal_id)
    page.goto(_usage_url(live_server, customer))
    assert page.get_by_role("link", name="Calls and messages").count() == 0  # an internet service has none
    page.get_by_role("link", name="Sessions").click()
    table = page.get_by_role("table", name=re.compile("Sessions, newest first"))
    expect(table.locator("tbody tr")).to_have_count(25)  # the click waits for the page to start, not to be drawn
    assert "page 1 of 2" in table.inner_text()
    first = table.locator("tbody tr").first.inner_text()
    assert "1 h 05 min" in first and "1.50 GB" in first and "512.0 MB" in first and "100.64.0.9" in first
    look(page, "usage-sessions")
    page.get_by_role("link", name="Next page").click()
    expect(page.get_by_role("table", name=re.compile("Sessions")).locator("tbody tr")).to_have_count(1)

    page.goto(_usage_url(live_server, customer, service_id=voice.id))
    page.get_by_role("link", name="Calls and messages").click()
    calls = page.get_by_role("table", name="Calls and messages, newest first").inner_text()
    assert "Call" in calls and "+254700000001" in calls and "On the network" in calls and "3.5 minutes" in calls
    look(page, "usage-calls")


def test_a_service_that_used_nothing_shows_an_empty_state_not_an_empty_chart(page, live_server, db, customer):
    with db.session() as s, tenant_context(customer.tenant):
        plan = s.execute(select(Plan).where(Plan.code == "HOME-10")).scalar_one()
        quiet = services.create(s, customer.id, plan.id)
        services.activate(s, quiet.id, reason="test")
        s.commit()
    sign_in(page, live_server, customer.host, customer.portal_id)
    page.goto(_usage_url(live_server, customer, service_id=quiet.id))
    assert "No data used in this period" in page.get_by_role("region", name="Data used").inner_text()
    assert page.locator("figure.chart").count() == 0
    assert page.get_by_role("region", name="This billing cycle").is_visible()


def test_charts_are_drawn_for_the_phone_at_360_px_and_their_table_opens_from_a_control(page, live_server, look,
                                                                                     customer):
    """The kit's chart (dashboard and usage pages): at 360 px the image is the narrow drawing, with few labels
    in a large font, and "Show the figures as a table" is drawn as a button with a triangle."""
    page.set_viewport_size(MOBILE)
    sign_in(page, live_server, customer.host, customer.portal_id)
    for where in ("/portal", f"/portal/usage/{customer.active_id}"):
        page.goto(live_server.url(customer.host, where))
        image = page.locator("figure.chart img").first
        expect(image).to_have_js_property("complete", True)
        src = image.evaluate("i => i.currentSrc")
        assert "size=narrow" in src, where
        svg = fetch(page, src)["text"]
        assert 'width="360"' in svg
        axis = svg[svg.index('<g class="axis x">'):svg.index('<g class="series')]
        labels = re.findall(r"<text[^>]*>([^<]+)</text>", axis)
        assert 1 <= len(labels) <= charts.NARROW.labels, (where, labels)
        sizes = [int(px) for px in re.findall(r"\.axis text[^{]*\{[^}]*font-size:\s*(\d+)px", svg)]
        assert sizes and min(sizes) >= 16, sizes
        summary = page.locator("details.chart-figures > summary").first
        looks = summary.evaluate("""s => {
            const box = getComputedStyle(s), mark = getComputedStyle(s, '::before');
            return {border: box.borderTopStyle, width: parseFloat(box.borderTopWidth), mark: mark.content};
        }""")
        assert looks["border"] == "solid" and looks["width"] >= 1 and "▶" in looks["mark"], looks
        summary.click()
        assert page.locator("details.chart-figures[open] table").first.is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]


def test_the_period_and_the_alerts_work_without_javascript(browser, live_server, db, customer):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, live_server, customer.host, customer.portal_id)
        page.goto(_usage_url(live_server, customer))
        page.get_by_label("Month", exact=True).check()
        page.get_by_role("button", name="Show").click()
        assert "group=month" in page.url
        expect(page.locator("figure.chart figcaption")).to_have_text("Data used per month")
        page.get_by_label("Alert 1 (percent)").fill("60")
        page.get_by_role("button", name="Save the alerts").click()
        assert "Your usage alerts are saved." in page.locator("main").inner_text()
        with db.session() as s, tenant_context(customer.tenant):
            assert thresholds.of_service(s, customer.active_id) == [60]
    finally:
        context.close()


def test_another_customers_service_is_not_found_on_any_usage_page(app, page, live_server, db, customer):
    other = make_customer(db)
    sign_in(page, live_server, customer.host, customer.portal_id)
    rules = [r for r in app.url_map.iter_rules()
             if r.endpoint.startswith("customer_usage.") and "<int:service_id>" in r.rule]
    assert len(rules) >= 5
    page.goto(_usage_url(live_server, customer))
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    for rule in rules:
        path = rule.rule.replace("<int:service_id>", str(other.active_id))
        if "GET" in rule.methods:
            assert page.goto(live_server.url(customer.host, path)).status == 404, path
        if "POST" in rule.methods:
            status = page.evaluate("""async ([path, token]) => (await fetch(path, {method: "POST",
                body: new URLSearchParams({csrf_token: token, alert_1: "10"}), redirect: "manual"})).status""",
                                   [path, token])
            assert status == 404, path
    with db.session() as s, tenant_context(other.tenant):
        assert thresholds.of_service(s, other.active_id) == []
    page.goto(live_server.url(customer.host, "/portal/usage"))
    shown = page.locator("body").inner_text()
    assert other.portal_id not in shown and other.name not in shown
