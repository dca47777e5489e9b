"""The reseller portal's Services and pricing section in a real browser: an admin finds the plans it may sell at
their wholesale and retail prices, adds a price rule and previews a price through it step by step, approves a
change request and declines another with a reason, adds an IP pool and reads how full it is from its bar and
its figures, registers a NAS whose secret is never shown back; a Readonly member reads it all with no write
button and is refused a forged POST; XYZ's admin never sees ABC's pools or NAS."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.portals.reseller.catalogue_rig import (
    forged_post,
    new_service,
    plan_id,
    request_status,
    retail_today,
    shown,
    tenant,
    waiting_request,
)
from tests.portals.signin import sign_in_team

pytestmark = pytest.mark.browser
ABC = "abc.test.example"
XYZ = "xyz.test.example"
ADMIN = "admin@abc-internet.example"
VIEWER = "viewer@abc-internet.example"


def test_an_admin_sees_the_plans_adds_a_rule_and_previews_a_price_step_by_step(page, live_server, demo, db, look):
    sign_in_team(page, live_server, ABC, ADMIN)
    page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="Services and pricing").click()
    expect(page.get_by_role("heading", name="Services and pricing", level=1)).to_be_visible()
    plans = page.locator("table", has=page.get_by_text("Plans you may sell"))
    home = plans.locator("tr", has=page.get_by_text("HOME-10", exact=True))
    expect(home).to_contain_text("1,500.00 KES")  # wholesale
    expect(home).to_contain_text(shown(retail_today(db, "ABC_ISP", "HOME-10")))
    expect(plans.locator("tbody tr")).to_have_count(4)  # HOME-10, HOME-20, BIZ-50, VOICE-300
    look(page, "reseller-catalogue")

    # a rule of its own for students on HOME-10: a fixed price, below the floor it sets
    page.get_by_role("link", name="Price rules").click()
    page.get_by_role("link", name="Add a price rule").first.click()
    page.get_by_label("Plan", exact=True).select_option(label="Home 10 Mbps (HOME-10)")
    page.get_by_label("A fixed retail price").check()
    page.get_by_label("Markup or price").fill("abc")
    page.get_by_role("button", name="Save the rule").click()
    expect(page.locator(".field-error")).to_have_count(1)  # the amount, told next to it; the rest kept
    expect(page.get_by_label("A fixed retail price")).to_be_checked()
    page.get_by_label("Markup or price").fill("999")
    page.get_by_label("Floor (optional)").fill("1200")
    page.get_by_label("Customer category (optional)").fill("student")
    look(page, "reseller-catalogue-rule-form")
    page.get_by_role("button", name="Save the rule").click()
    expect(page.get_by_text("The price rule is added.")).to_be_visible()
    rule_row = page.locator("tbody tr", has=page.get_by_text("Home 10 Mbps (HOME-10)"))
    expect(rule_row).to_contain_text("student")
    rule = rule_row.locator("td").first.inner_text().strip()
    look(page, "reseller-catalogue-prices")

    page.get_by_role("link", name="Price preview").click()
    page.get_by_label("Plan", exact=True).select_option(label="Home 10 Mbps (HOME-10)")
    page.get_by_label("Customer category (optional)").fill("student")
    page.get_by_role("button", name="Show the price").click()
    steps = page.locator("table.price-steps tbody tr")
    expect(steps).to_have_count(4)
    expect(steps.nth(0)).to_contain_text("Wholesale price")
    expect(steps.nth(0)).to_contain_text("1,500.00 KES")
    expect(steps.nth(1)).to_contain_text(f"The rule's fixed retail price (rule {rule})")
    expect(steps.nth(1)).to_contain_text("−501.00")
    expect(steps.nth(2)).to_contain_text("Raised to the rule's floor")
    expect(steps.nth(2)).to_contain_text("+201.00")
    expect(steps.nth(3)).to_contain_text("Retail price")
    expect(steps.nth(3)).to_contain_text("1,200.00 KES")
    expect(page.get_by_role("heading", name="Home 10 Mbps: 1,200.00 KES")).to_be_visible()
    look(page, "reseller-catalogue-preview")

    # everyone else is priced by the demo's rule: 25 % over wholesale, and its promotion while it runs
    page.get_by_label("Customer category (optional)").fill("")
    page.get_by_label("Customer's Portal ID (optional)").fill(demo["ABC_ISP"]["customers"][0][0])
    page.get_by_role("button", name="Show the price").click()
    expect(steps.nth(1)).to_contain_text("Markup of 25.00%")
    expect(steps.nth(1)).to_contain_text("+375.00")
    expect(steps.last).to_contain_text(shown(retail_today(db, "ABC_ISP", "HOME-10")))
    page.get_by_label("Customer's Portal ID (optional)").fill("XYZ000001")  # another reseller's customer
    page.get_by_role("button", name="Show the price").click()
    expect(page.get_by_text("No customer of yours has this Portal ID.")).to_be_visible()
    expect(page.locator("table.price-steps")).to_have_count(0)


def test_a_rule_not_yet_in_effect_is_changed_then_withdrawn(page, live_server, demo, db, look):
    from datetime import timedelta

    from app.services import price_rules, pricing
    from tenants import tenant_context

    with db.session() as s, tenant_context(tenant("ABC_ISP")):
        starts = pricing.today(s) + timedelta(days=30)
        rule = price_rules.create_rule(s, {"service_type": "voice", "markup_type": "fixed", "markup_value": "50",
                                           "effective_from": starts.isoformat(), "customer_category": "future"},
                                       actor="test").id
    sign_in_team(page, live_server, ABC, ADMIN)
    page.goto(live_server.url(ABC, "/reseller/catalogue/prices"))
    row = page.locator("tbody tr").filter(has=page.locator("td", has_text=re.compile(rf"^{rule}$")))
    expect(row).to_contain_text("Not yet in effect")
    expect(row).to_contain_text("Wholesale + 50.00")
    row.get_by_role("link", name="Change").click()
    expect(page.get_by_label("Markup or price")).to_have_value("50.00")
    page.get_by_label("Markup or price").fill("75")
    page.get_by_label("Ceiling (optional)").fill("10")
    page.get_by_label("Floor (optional)").fill("20")
    page.get_by_role("button", name="Save the rule").click()
    expect(page.get_by_text("min_price is above max_price")).to_be_visible()  # the service's word, by the field
    page.get_by_label("Ceiling (optional)").fill("")
    page.get_by_role("button", name="Save the rule").click()
    expect(page.get_by_text("The price rule is changed.")).to_be_visible()
    expect(row).to_contain_text("Wholesale + 75.00")
    row.get_by_role("link", name="Withdraw").click()
    expect(page.get_by_role("heading", name=f"Withdraw price rule {rule}?")).to_be_visible()
    look(page, "reseller-catalogue-withdraw-rule")
    page.get_by_role("button", name="Withdraw the rule").click()
    expect(page.get_by_text("The price rule is withdrawn.")).to_be_visible()
    expect(row).to_have_count(0)
    # a rule in effect has no Change: its address says so rather than letting it change
    page.goto(live_server.url(ABC, "/reseller/catalogue/prices/1/edit"))
    expect(page.get_by_text("This rule is in effect already: add a newer rule to end it.")).to_be_visible()


def test_the_section_speaks_swahili(client, demo, db):
    from app.services.settings import get_setting, put_setting
    from tests.web.forms import submit

    east = tenant("ABC_EAST")
    host = demo["ABC_EAST"]["hosts"][0]
    from tenants import tenant_context

    with db.session() as s, tenant_context(east):
        before = get_setting(s, "language")
        put_setting(s, "language", "sw")
    try:
        submit(client, "/reseller/login", host, identifier="admin@abc-east.example", password=demo_password())
        html = client.get("/reseller/catalogue", headers={"Host": host}).get_data(as_text=True)
        assert "Huduma na bei" in html and "Vifurushi unavyoweza kuuza" in html and "Bei ya jumla" in html
        html = client.get("/reseller/notifications", headers={"Host": host}).get_data(as_text=True)
        assert "Arifa" in html and "Tahadhari za mkopo" in html
    finally:
        with db.session() as s, tenant_context(east):
            put_setting(s, "language", before)


def test_an_admin_approves_a_waiting_request_and_declines_another_with_a_reason(page, live_server, demo, db, look):
    first, second = demo["ABC_ISP"]["customers"][1][0], demo["ABC_ISP"]["customers"][2][0]
    moved = waiting_request(db, "ABC_ISP", new_service(db, "ABC_ISP", first), "relocation",
                            {"installation_address": "Ngong Road 7", "region": "Nairobi"})
    upgrade = waiting_request(db, "ABC_ISP", new_service(db, "ABC_ISP", second, "HOME-10"), "upgrade",
                              {"plan_id": plan_id(db, "HOME-20")})
    sign_in_team(page, live_server, ABC, ADMIN)
    page.goto(live_server.url(ABC, "/reseller/catalogue"))
    expect(page.get_by_text(re.compile(r"change requests? waits? for a decision"))).to_be_visible()
    page.get_by_role("link", name="Open the requests").click()
    card = page.locator(f"#request-{moved}")
    expect(card).to_contain_text("Relocation")
    expect(card).to_contain_text("Ngong Road 7")
    expect(page.locator(f"#request-{upgrade}")).to_contain_text("HOME-20")
    look(page, "reseller-catalogue-requests")
    card.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("The request is approved.")).to_be_visible()
    expect(page.locator(f"#request-{moved}")).to_have_count(0)
    assert request_status(db, "ABC_ISP", moved)[0] == "Completed"

    page.locator(f"#request-{upgrade}").get_by_role("link", name="Decline").click()
    page.get_by_role("button", name="Decline the request").click()
    expect(page.get_by_text("Say why the request is declined: the customer reads it.")).to_be_visible()
    look(page, "reseller-catalogue-decline")
    page.get_by_label("Reason").fill("That plan is not sold at this address yet.")
    page.get_by_role("button", name="Decline the request").click()
    expect(page.get_by_text("The request is declined.")).to_be_visible()
    expect(page.locator(f"#request-{upgrade}")).to_have_count(0)
    assert request_status(db, "ABC_ISP", upgrade) == ("Rejected", "That plan is not sold at this address yet.")


def test_an_ip_pools_usage_bar_says_how_full_it_is(page, live_server, demo, db, look):
    from app.models.provisioning import IpPool
    from app.services import ip_pools, services
    from tenants import tenant_context

    sign_in_team(page, live_server, ABC, ADMIN)
    page.goto(live_server.url(ABC, "/reseller/catalogue/ip-pools"))
    page.get_by_role("link", name="Add an IP pool").click()
    page.get_by_label("Name").fill("Westlands static")
    page.get_by_label("Range").fill("100.64.30.1/29")  # host bits set: the service says so next to the field
    page.get_by_role("button", name="Add the pool").click()
    expect(page.locator(".field-error")).to_contain_text("not a network in CIDR notation")
    expect(page.get_by_label("Name")).to_have_value("Westlands static")
    page.get_by_label("Range").fill("100.64.30.0/29")
    page.get_by_label("Gateway (optional)").fill("100.64.30.1")
    page.get_by_role("button", name="Add the pool").click()
    expect(page.get_by_text("The IP pool is added.")).to_be_visible()
    with db.session() as s, tenant_context(tenant("ABC_ISP")):
        pool = s.execute(select(IpPool).where(IpPool.name == "Westlands static")).scalar_one()
        for portal_id in (demo["ABC_ISP"]["customers"][0][0], demo["ABC_ISP"]["customers"][1][0]):
            ip_pools.allocate(s, services.get(s, new_service(db, "ABC_ISP", portal_id)), pool.id)
        pool_id = pool.id
    page.goto(live_server.url(ABC, "/reseller/catalogue/ip-pools"))
    card = page.locator(f"#pool-{pool_id}")
    expect(card).to_contain_text("100.64.30.0/29")
    expect(card).to_contain_text("2 of 5 addresses in use (40%), 3 free")  # six hosts less the gateway
    bar = card.locator("meter")
    expect(bar).to_have_attribute("value", "2")
    expect(bar).to_have_attribute("max", "5")
    expect(card.get_by_text("Running out")).to_have_count(0)
    look(page, "reseller-catalogue-pools")
    card.get_by_role("link", name="Westlands static").click()
    expect(page.get_by_role("table")).to_contain_text("100.64.30.2")
    expect(page.get_by_role("table")).to_contain_text("100.64.30.3")
    expect(page.get_by_role("link", name="Delete the pool")).to_have_count(0)  # addresses in use
    look(page, "reseller-catalogue-pool")


def test_a_nas_is_registered_and_its_secret_never_shown_back(page, live_server, demo, look):
    sign_in_team(page, live_server, ABC, ADMIN)
    page.goto(live_server.url(ABC, "/reseller/catalogue/nas"))
    page.get_by_role("link", name="Register a NAS").click()
    page.get_by_label("Name").fill("Kilimani tower")
    page.get_by_label("Address or network").fill("198.51.100.21")
    page.get_by_role("button", name="Save the NAS").click()
    expect(page.get_by_text("Enter the shared secret, 8 to 128 characters.")).to_be_visible()
    page.get_by_label("Shared secret").fill("tower-secret-2026")
    page.get_by_label("Vendor").select_option("mikrotik")
    page.get_by_role("button", name="Save the NAS").click()
    expect(page.get_by_text("The NAS is registered.")).to_be_visible()
    row = page.locator("tbody tr", has=page.get_by_text("Kilimani tower"))
    expect(row).to_contain_text("198.51.100.21")
    expect(row.locator("td[data-label='Last heard']")).to_have_text("Never")  # RADIUS has not answered it yet
    assert "tower-secret-2026" not in page.content()
    look(page, "reseller-catalogue-nas")
    row.get_by_role("link", name="Change").click()
    expect(page.get_by_label("Shared secret")).to_have_value("")
    assert "tower-secret-2026" not in page.content()
    page.get_by_label("CoA port").fill("3800")
    page.get_by_role("button", name="Save the NAS").click()  # an empty secret keeps the one set
    expect(page.get_by_text("The NAS is changed.")).to_be_visible()
    expect(page.locator("tbody tr", has=page.get_by_text("Kilimani tower"))).to_contain_text("3800")


def test_equipment_goes_into_stock(page, live_server, demo, look):
    sign_in_team(page, live_server, ABC, ADMIN)
    page.goto(live_server.url(ABC, "/reseller/catalogue/equipment"))
    page.get_by_role("link", name="Add a model").click()
    page.get_by_label("Vendor").fill("Huawei")
    page.get_by_label("Model").fill("HG8245H")
    page.get_by_role("button", name="Add the model").click()
    expect(page.get_by_text("The equipment model is added.")).to_be_visible()
    page.get_by_role("link", name="Add a device").click()
    page.get_by_label("Serial number").fill("HW-0001-TEST")
    page.get_by_label("MAC address (optional)").fill("not a mac")
    page.get_by_role("button", name="Add to stock").click()
    expect(page.locator(".field-error")).to_contain_text("is not a MAC address")
    page.get_by_label("MAC address (optional)").fill("00-11-22-33-44-5A")
    page.get_by_role("button", name="Add to stock").click()
    expect(page.get_by_text("The device is in stock.")).to_be_visible()
    row = page.locator("tbody tr", has=page.get_by_text("HW-0001-TEST"))
    expect(row).to_contain_text("00:11:22:33:44:5a")
    expect(row).to_contain_text("In stock")
    look(page, "reseller-catalogue-equipment")
    row.get_by_role("link", name="Change").click()
    page.get_by_label("What happened").select_option("faulty")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The device is updated.")).to_be_visible()
    expect(page.locator("tbody tr", has=page.get_by_text("HW-0001-TEST"))).to_contain_text("Faulty")


def test_a_readonly_member_reads_everything_and_changes_nothing(page, live_server, demo, db):
    pending = waiting_request(db, "ABC_ISP", new_service(db, "ABC_ISP", demo["ABC_ISP"]["customers"][0][0]),
                              "relocation", {"installation_address": "Readonly lane", "region": None})
    sign_in_team(page, live_server, ABC, VIEWER)
    page.goto(live_server.url(ABC, "/reseller/catalogue"))
    expect(page.locator("table", has=page.get_by_text("Plans you may sell"))).to_contain_text("HOME-10")
    links = page.get_by_role("navigation", name="Services and pricing")
    expect(links.get_by_role("link", name="Price rules")).to_have_count(0)  # settings.manage
    expect(links.get_by_role("link", name="Price preview")).to_be_visible()
    for path, write in (("/reseller/catalogue/requests", "Approve"),
                        ("/reseller/catalogue/ip-pools", "Add an IP pool"),
                        ("/reseller/catalogue/nas", "Register a NAS"),
                        ("/reseller/catalogue/equipment", "Add a device")):
        page.goto(live_server.url(ABC, path))
        expect(page.locator("main h1")).to_be_visible()
        expect(page.get_by_role("button", name=write, exact=True)).to_have_count(0)
        expect(page.get_by_role("link", name=write, exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Change")).to_have_count(0)
    page.goto(live_server.url(ABC, "/reseller/catalogue/requests"))
    expect(page.locator(f"#request-{pending}")).to_contain_text("Readonly lane")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")  # the sign-out form's: a real one
    for path in (f"/reseller/catalogue/requests/{pending}/approve", "/reseller/catalogue/ip-pools/new",
                 "/reseller/catalogue/prices/new", "/reseller/catalogue/nas/new"):
        assert forged_post(page, path, token) == 403, path
    assert request_status(db, "ABC_ISP", pending)[0] == "Pending"
    assert page.goto(live_server.url(ABC, "/reseller/catalogue/prices")).status == 403


def test_another_resellers_admin_never_sees_abcs_pools_or_nas(page, live_server, demo, db):
    from app.services import ip_pools
    from app.services import nas as nas_service
    from tenants import tenant_context

    with db.session() as s, tenant_context(tenant("ABC_ISP")):
        pool_id = ip_pools.create_pool(s, name="ABC only", cidr="100.64.40.0/28").id
        nas_id = nas_service.create(s, name="ABC only router", network="198.51.100.40", secret="abc-only-secret",
                                    tenant_id=tenant("ABC_ISP").id, actor="test").id
    sign_in_team(page, live_server, XYZ, "admin@xyz-networks.example")
    page.goto(live_server.url(XYZ, "/reseller/catalogue/ip-pools"))
    expect(page.get_by_role("heading", name="IP pools", level=1)).to_be_visible()
    expect(page.get_by_text("ABC only")).to_have_count(0)
    assert page.goto(live_server.url(XYZ, f"/reseller/catalogue/ip-pools/{pool_id}")).status == 404
    page.goto(live_server.url(XYZ, "/reseller/catalogue/nas"))
    expect(page.get_by_text("ABC only router")).to_have_count(0)
    assert page.goto(live_server.url(XYZ, f"/reseller/catalogue/nas/{nas_id}/edit")).status == 404
    assert page.goto(live_server.url(XYZ, f"/reseller/catalogue/nas/{nas_id}/delete")).status == 404
    page.goto(live_server.url(XYZ, "/reseller/catalogue"))
    expect(page.get_by_text("VOICE-300", exact=True)).to_have_count(0)  # ABC's plan, not authorised for XYZ


def test_every_word_of_the_section_is_in_swahili():
    from app.portals.reseller import catalogue, catalogue_forms, catalogue_network, notifications
    from app.services.branding import i18n
    from tests.portals.words import TEMPLATES, untranslated

    templates = sorted((TEMPLATES / "reseller/catalogue").glob("*.html")) + sorted(
        (TEMPLATES / "reseller/notifications").glob("*.html"))
    said = [v for module in (catalogue, catalogue_forms, catalogue_network, notifications)
            for k, v in vars(module).items() if k.isupper() and isinstance(v, str) and " " in v]
    said += [w for module in (catalogue_forms, catalogue_network, notifications) for k, v in vars(module).items()
             if k.endswith("WORDS") and isinstance(v, dict) for w in v.values()]
    said += [label for _endpoint, label in catalogue_network.SECTIONS]
    said += [c.title for spec in (catalogue.PLANS, catalogue.RULES) for c in spec.columns]
    said += [str(choice.label) for form in (catalogue_forms.PriceRuleForm, catalogue_forms.NasForm)
             for name in ("service_type", "vendor", "markup_type") if hasattr(form, name)
             for choice in getattr(form, name).kwargs["choices"]]
    said += [e for form in (catalogue_forms.PoolForm, catalogue_forms.EquipmentModelForm,
                            catalogue_forms.EquipmentItemForm, catalogue_forms.NasForm)
             for field in vars(form).values() if hasattr(field, "kwargs")
             for v in field.kwargs.get("validators") or () for e in [getattr(v, "message", None)] if e]
    assert untranslated(templates, said) == []
    words = i18n.translations("sw")
    plurals = [("%(num)s change request waits for a decision.", "%(num)s change requests wait for a decision."),
               ("%(num)s customer could not be billed.", "%(num)s customers could not be billed.")]
    for one, many in plurals:
        assert words.ngettext(one, many, 2) != many


def test_the_apis_preview_gives_the_steps_the_page_shows(client, demo, db):
    """GET /reseller/api/prices/preview explains its price with the same steps (app/services/pricing.py `steps`)."""
    from tests.web.forms import submit

    submit(client, "/reseller/login", ABC, identifier=VIEWER, password=demo_password())
    home = plan_id(db, "HOME-20")
    answer = client.get(f"/reseller/api/prices/preview?plan_id={home}&category=company", headers={"Host": ABC})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    steps = body["steps"]
    assert [s["step"] for s in steps][:2] == ["wholesale", "markup"] and steps[-1]["step"] == "price"
    assert steps[0]["amount"] == "2500.00" and steps[1]["change"] == "625.00" and steps[1]["amount"] == "3125.00"
    assert steps[-1]["amount"] == body["price"]
    running = Decimal(steps[0]["amount"])
    for step in steps[1:-1]:
        running += Decimal(step["change"])
        assert Decimal(step["amount"]) == running  # each step adds up to the next
    assert running == Decimal(body["price"])


def demo_password() -> str:
    from app.services import demo

    return demo.DEMO_PASSWORD
