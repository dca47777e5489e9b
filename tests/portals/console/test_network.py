"""The console's NAS pages: staff register a router for a reseller with a generated secret (shown once, never
again), find it by the reseller's code or by an address it covers, change it (an empty secret keeps the one
set) and remove it through a confirmation; a duplicate or mistyped address is told next to the field, with
what was typed kept; every change is audited as the API's are; the API's search is the page's."""

from __future__ import annotations

import csv
import io
import itertools
import random
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models.nas import NasClient
from app.models.public import AuditEvent
from app.services import demo as demo_seed
from app.services import nas as nas_service
from app.services.auth.crypto import decrypt
from tests.portals.console.console_rig import CONSOLE, staff_client
from tests.portals.signin import sign_in_staff
from tests.portals.words import TEMPLATES, untranslated
from tests.web.forms import csrf_of

pytestmark = pytest.mark.browser

_n = itertools.count(random.randrange(0, 200) * 250)


def _address() -> str:
    """An address of the shared-address range no other test registers (the NAS table is the platform's)."""
    n = next(_n)
    return f"100.{100 + n // 62500 % 27}.{n // 250 % 250}.{n % 250 + 1}"


def _url(live_server, path: str) -> str:
    return live_server.url(CONSOLE, path)


def _post(client, url: str, **fields):
    shown = client.get(url, headers={"Host": CONSOLE})
    assert shown.status_code == 200, (url, shown.status_code)
    data = {"csrf_token": csrf_of(shown.get_data(as_text=True)), "vendor": "generic", "coa_port": "3799",
            "require_message_authenticator": "y", **fields}
    return client.post(url, headers={"Host": CONSOLE}, data={k: v for k, v in data.items() if v is not None})


def _router(db, network: str):
    with db.session() as s:
        found = nas_service.find_by_network(s, network)
        if found is not None:
            s.expunge(found)
        return found


def _forget(db, *networks: str) -> None:
    with db.session() as s:
        for network in networks:
            found = nas_service.find_by_network(s, network)
            if found is not None:
                nas_service.delete(s, found)


def _events(db, nas_id: int) -> list[tuple[str, dict]]:
    with db.session() as s:
        rows = s.execute(select(AuditEvent).where(AuditEvent.action.like("nas.%"))
                         .order_by(AuditEvent.id)).scalars().all()
        return [(e.action, e.detail) for e in rows if e.detail.get("nas_id") == nas_id]


def test_staff_add_a_resellers_nas_with_a_generated_secret_then_change_and_remove_it(page, live_server, db, demo,
                                                                                      staff, make_tenant, look):
    owner = make_tenant("NASO", name="Rift Valley Links")
    address, taken = _address(), _address()
    with db.session() as s:
        nas_service.create(s, name="Eldoret core", network=taken, secret="platform-secret-1", actor="test")
    try:
        sign_in_staff(page, live_server)
        page.get_by_role("navigation", name="Sections").first.get_by_role("link", name="NAS").click()
        expect(page.get_by_role("heading", name="NAS", level=1)).to_be_visible()
        page.get_by_role("link", name="Add a NAS").first.click()
        expect(page.get_by_role("heading", name="Add a NAS", level=1)).to_be_visible()

        page.get_by_label("Owner").select_option(label=f"Rift Valley Links ({owner.code})")
        page.get_by_label("Name", exact=True).fill("Nakuru tower")
        page.get_by_label("Address or network").fill("100.100.300.1")
        page.get_by_label("Secret", exact=True).fill("tower-secret-2026")
        page.get_by_label("The same secret again").fill("tower-secret-2027")
        page.get_by_role("button", name="Save the NAS").click()
        expect(page.locator("#network-error")).to_have_text("Enter an IP address like 192.0.2.1, or a network like "
                                                            "192.0.2.0/29.")
        expect(page.locator("#secret_again-error")).to_have_text("The two secrets are not the same.")
        expect(page.get_by_label("Name", exact=True)).to_have_value("Nakuru tower")  # what was typed is kept
        expect(page.get_by_label("Owner")).to_have_value(owner.code)
        expect(page.get_by_label("Secret", exact=True)).to_have_value("")  # a secret is never drawn back
        assert "tower-secret-2026" not in page.content()
        look(page, "console-nas-form")

        page.get_by_label("Address or network").fill(taken)  # the platform's NAS has it: told next to the field
        page.get_by_label("Generate a secret").check()
        page.get_by_role("button", name="Save the NAS").click()
        expect(page.locator("#network-error")).to_have_text("A NAS with this address or network is already "
                                                            "registered.")
        expect(page.get_by_label("Generate a secret")).to_be_checked()

        page.get_by_label("Address or network").fill(address)
        page.get_by_role("button", name="Save the NAS").click()
        expect(page.get_by_role("heading", name="Nakuru tower is registered")).to_be_visible()
        secret = page.locator("#generated-secret").inner_text().strip()
        assert len(secret) == 32
        look(page, "console-nas-secret")
        made = _router(db, address)
        assert made.tenant_id == owner.id and decrypt(made.secret_encrypted) == secret

        page.get_by_role("link", name="Go to the NAS").click()
        expect(page.get_by_role("heading", name="Nakuru tower", level=1)).to_be_visible()
        details = page.locator(".summary-list")
        expect(details).to_contain_text(f"Rift Valley Links ({owner.code})")
        expect(details).to_contain_text("The customers of Rift Valley Links and of its sub-resellers")
        assert secret not in page.content()  # shown once, never again
        look(page, "console-nas")

        page.goto(_url(live_server, "/console/nas"))
        page.get_by_label("Name, address or reseller code").fill(owner.code.lower())
        page.get_by_role("button", name="Search").click()
        table = page.get_by_role("table", name=re.compile("NAS of the platform"))
        row = table.locator("tbody tr", has=page.get_by_role("link", name="Nakuru tower"))
        expect(row).to_have_count(1)
        expect(table.locator("tbody tr")).to_have_count(1)
        expect(row.locator("td[data-label='Address or network']")).to_have_text(address)
        expect(row.locator("td[data-label='Owner']")).to_have_text(owner.code)
        expect(row.locator("td[data-label='Status']")).to_have_text("Active")
        look(page, "console-nas-list")
        page.get_by_label("Name, address or reseller code").fill(taken)
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_role("link", name="Eldoret core")).to_be_visible()
        expect(page.get_by_role("link", name="Nakuru tower")).to_have_count(0)

        page.goto(_url(live_server, f"/console/nas/{made.id}"))
        page.get_by_role("link", name="Change").click()
        expect(page.get_by_label("New secret", exact=True)).to_have_value("")
        expect(page.get_by_label("Address or network")).to_have_value(address)
        page.get_by_label("CoA port").fill("port")
        page.get_by_role("button", name="Save the NAS").click()
        expect(page.locator("#coa_port-error")).to_have_text("Enter a whole number, like 10.")  # told once
        look(page, "console-nas-edit")
        page.get_by_label("CoA port").fill("3800")
        page.get_by_label("Type", exact=True).select_option("mikrotik")
        page.get_by_role("button", name="Save the NAS").click()  # an empty secret keeps the one set
        expect(page.get_by_text("The NAS is changed.")).to_be_visible()
        expect(page.locator(".summary-list")).to_contain_text("3800")
        expect(page.locator(".summary-list")).to_contain_text("MikroTik")
        changed = _router(db, address)
        assert (changed.coa_port, changed.vendor, decrypt(changed.secret_encrypted)) == (3800, "mikrotik", secret)

        page.get_by_role("link", name="Remove").click()
        expect(page.get_by_role("heading", name=f"Remove the NAS Nakuru tower ({address})?")).to_be_visible()
        look(page, "console-nas-delete")
        page.get_by_role("link", name="Cancel").click()
        expect(page.get_by_role("heading", name="Nakuru tower", level=1)).to_be_visible()
        page.get_by_role("link", name="Remove").click()
        page.get_by_role("button", name="Remove the NAS").click()
        expect(page.get_by_text("The NAS is removed.")).to_be_visible()
        expect(page.get_by_role("heading", name="NAS", level=1)).to_be_visible()
        assert _router(db, address) is None
        assert [a for a, _ in _events(db, made.id)] == ["nas.create", "nas.update", "nas.delete"]
        assert _events(db, made.id)[1][1]["fields"] == ["coa_port", "vendor"]
    finally:
        _forget(db, address, taken)


def test_a_changed_secret_is_typed_twice_or_generated_and_never_drawn_back(client, db, demo, staff):
    address = _address()
    staff_client(client)
    try:
        made = _post(client, "/console/nas/new", name="Thika platform", network=address, secret="first-secret-1",
                     secret_again="first-secret-1")
        assert made.status_code == 303
        router = _router(db, address)
        assert router.tenant_id is None and decrypt(router.secret_encrypted) == "first-secret-1"
        edit = f"/console/nas/{router.id}/edit"
        shown = client.get(edit, headers={"Host": CONSOLE}).get_data(as_text=True)
        assert "first-secret-1" not in shown and 'value="Thika platform"' in shown

        both = _post(client, edit, name="Thika platform", network=address, secret="second-secret", generate="y")
        assert both.status_code == 422
        assert "Either type a secret or tick" in both.get_data(as_text=True)
        once = _post(client, edit, name="Thika platform", network=address, secret="second-secret")
        assert once.status_code == 422 and "Type the shared secret again." in once.get_data(as_text=True)
        typed = _post(client, edit, name="Thika platform", network=address, secret="second-secret",
                      secret_again="second-secret")
        assert typed.status_code == 303
        assert decrypt(_router(db, address).secret_encrypted) == "second-secret"

        generated = _post(client, edit, name="Thika platform", network=address, generate="y")
        assert generated.status_code == 200 and generated.headers["Cache-Control"] == "no-store"
        secret = re.search(r'id="generated-secret">([^<]+)<', generated.get_data(as_text=True)).group(1)
        assert decrypt(_router(db, address).secret_encrypted) == secret
        assert secret not in client.get(f"/console/nas/{router.id}", headers={"Host": CONSOLE}).get_data(as_text=True)

        same = _post(client, edit, name="Thika platform", network=address, coa_port="3799")
        assert same.status_code == 303  # nothing changed: nothing sent, nothing audited
        assert [a for a, _ in _events(db, router.id)] == ["nas.create", "nas.update", "nas.update"]
        assert [d["fields"] for a, d in _events(db, router.id) if a == "nas.update"] == [["secret"], ["secret"]]

        broad = _post(client, edit, name="", network="8.0.0.0/5")
        page = broad.get_data(as_text=True)
        assert broad.status_code == 422 and 'id="name-error"' in page and "Enter a name for the router." in page
        wide = _post(client, edit, name="Thika platform", network="8.0.0.0/5")
        assert wide.status_code == 422 and "too broad" in wide.get_data(as_text=True)  # the service's own rule
        assert 'value="8.0.0.0/5"' in wide.get_data(as_text=True)
        assert str(_router(db, address).network) == f"{address}/32"
    finally:
        _forget(db, address)


def test_a_resellers_nas_may_not_cover_another_owners_address(client, db, demo, staff, make_tenant):
    owner = make_tenant("NASC", name="Coast Wireless")
    address = _address()
    with db.session() as s:
        nas_service.create(s, name="Mombasa platform", network=address, secret="platform-secret", actor="test")
    staff_client(client)
    try:
        wider = address.rsplit(".", 1)[0] + ".0/24"
        clash = _post(client, "/console/nas/new", owner=owner.code, name="Coast pop", network=wider,
                      secret="coast-secret", secret_again="coast-secret")
        assert clash.status_code == 409
        text = clash.get_data(as_text=True)
        assert re.search(r'id="network-error">It overlaps the network of a NAS another owner registered', text)
        assert f'value="{wider}"' in text and "coast-secret" not in text
        nobody = _post(client, "/console/nas/new", owner="NO_SUCH_CODE", name="x", network=_address(),
                       secret="12345678", secret_again="12345678")
        assert nobody.status_code == 422 and 'id="owner-error"' in nobody.get_data(as_text=True)
        assert client.get("/console/nas/999999999", headers={"Host": CONSOLE}).status_code == 404
    finally:
        _forget(db, address)


def test_the_list_exports_and_the_api_searches_the_same_way(app, client, db, demo, staff, make_tenant):
    owner = make_tenant("NASE", name="Lake Links")
    first, second = _address(), _address()
    with db.session() as s:
        nas_service.create(s, name="=Kisumu link", network=first, secret="kisumu-secret", tenant_id=owner.id,
                           vendor="cisco", actor="test")
        nas_service.create(s, name="Kisumu spare", network=second, secret="kisumu-spare", actor="test")
    staff_client(client)
    try:
        exported = client.get(f"/console/nas?q={owner.code}&format=csv", headers={"Host": CONSOLE})
        assert exported.status_code == 200 and exported.headers["Cache-Control"] == "private, no-store"
        rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
        assert rows[0] == ["Owner", "Name", "Address or network", "Type", "Status", "Registered", "Last heard"]
        assert rows[1][:5] == [owner.code, "'=Kisumu link", first, "Cisco", "Active"]
        assert rows[1][6] == ""  # RADIUS has not answered it yet
        assert not any("kisumu-secret" in cell for row in rows for cell in row)
        xlsx = client.get(f"/console/nas?q={owner.code}&format=xlsx", headers={"Host": CONSOLE})
        assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"

        token = app.test_client().post("/console/auth/login", headers={"Host": CONSOLE}, json={
            "email": demo_seed.STAFF["email"], "password": demo_seed.DEMO_PASSWORD}).get_json()["token"]
        api = {"Host": CONSOLE, "Authorization": f"Bearer {token}"}
        for q, names in ((owner.code.lower(), ["=Kisumu link"]), (second, ["Kisumu spare"]),
                         ("kisumu", ["=Kisumu link", "Kisumu spare"])):
            listed = client.get("/console/api/nas", query_string={"q": q}, headers=api).get_json()
            assert [n["name"] for n in listed] == names, q
            page = client.get("/console/nas", query_string={"q": q}, headers={"Host": CONSOLE}).get_data(as_text=True)
            assert all(name in page for name in names)
        assert client.get("/console/api/nas", query_string={"q": "x" * 101}, headers=api).status_code == 422
    finally:
        _forget(db, first, second)


def test_only_staff_open_the_nas_pages(app, client, db, demo):
    team = client.post("/reseller/auth/login", headers={"Host": "abc.test.example"},
                       json={"username": "admin@abc-internet.example", "password": demo_seed.DEMO_PASSWORD})
    token = team.get_json()["token"]
    for path in ("/console/nas", "/console/nas/new", "/console/nas/1", "/console/nas/1/edit"):
        answer = client.get(path, headers={"Host": CONSOLE, "Authorization": f"Bearer {token}"})
        assert answer.status_code in (401, 403), (path, answer.status_code)
    assert app.test_client().get("/console/nas", headers={"Host": CONSOLE}).status_code == 302  # to its sign-in
    forged = app.test_client().post("/console/nas/new", headers={"Host": CONSOLE}, data={"name": "x"})
    assert forged.status_code in (302, 401, 403)
    with db.session() as s:
        assert s.execute(select(NasClient).where(NasClient.name == "x")).first() is None


def test_every_word_of_the_nas_pages_is_in_swahili(app):
    from app.portals import nas_forms
    from app.portals.console import network, network_forms
    from app.services.branding import i18n

    said = [c.title for c in network.ROUTERS.columns] + [network.ROUTERS.title]
    said += [v for module in (network, network_forms, nas_forms) for k, v in vars(module).items()
             if k.isupper() and isinstance(v, str) and " " in v]
    said += list(nas_forms.VENDORS.values())
    with app.test_request_context():
        form = network_forms.NewNasForm(meta={"csrf": False}).offer_owners([])
        for field in form:
            said += [m for v in field.validators for m in [getattr(v, "message", None)] if isinstance(m, str)]
            said += [str(c.label) for c in getattr(field, "choices", None) or [] if hasattr(c, "label")]
    assert untranslated(sorted((TEMPLATES / "console/network").glob("*.html")), said) == []
    assert i18n.translations("sw").gettext("Add a NAS") == "Ongeza NAS"
