"""Registering NAS clients: the console manages every NAS, a reseller only its own; the secret is write-only
and encrypted at rest; bad input is a 422, a clash a 409; the CLI does the same; a change reaches RADIUS."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select

from app.cli import main
from app.models.nas import NasClient
from app.services.auth.crypto import decrypt
from tests.auth.conftest import PASSWORD, accounts, bearer, reseller_login, staff  # noqa: F401
from tests.radius.conftest import radclient

CONSOLE = "console.test.example"


@pytest.fixture(autouse=True)
def _no_nas(db):
    with db.session() as s:
        s.execute(delete(NasClient))
    yield
    with db.session() as s:
        s.execute(delete(NasClient))


@pytest.fixture
def staff_headers(app, staff):  # noqa: F811
    token = app.test_client().post("/console/auth/login", json={"email": staff, "password": PASSWORD},
                                   headers={"Host": CONSOLE}).get_json()["token"]
    return bearer(token, CONSOLE)


def _reseller(app, acc) -> dict:
    return bearer(reseller_login(app.test_client(), acc).get_json()["token"], acc.host)


def test_console_registers_platform_and_tenant_nas_and_never_returns_the_secret(db, client, staff_headers,
                                                                               accounts):  # noqa: F811
    acc = accounts()
    made = client.post("/console/api/nas", json={"name": "core", "network": "192.0.2.1", "secret": "Sup3r-secret",
                                                 "vendor": "mikrotik"}, headers=staff_headers)
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["network"] == "192.0.2.1/32" and body["tenant_id"] is None
    assert body["require_message_authenticator"] is True and "secret" not in body
    other = client.post("/console/api/nas", json={"name": "pop", "network": "198.51.100.0/28", "secret": "x" * 16,
                                                  "tenant_id": acc.tenant.id}, headers=staff_headers)
    assert other.status_code == 201, other.get_json()
    listed = client.get("/console/api/nas", headers=staff_headers).get_json()
    assert [n["network"] for n in listed] == ["192.0.2.1/32", "198.51.100.0/28"]
    assert all("secret" not in n for n in listed)
    with db.session() as s:
        row = s.get(NasClient, body["id"])
        assert "Sup3r-secret" not in row.secret_encrypted and decrypt(row.secret_encrypted) == "Sup3r-secret"

    changed = client.patch(f"/console/api/nas/{body['id']}", json={"secret": "An0ther-secret", "vendor": "cisco"},
                           headers=staff_headers)
    assert changed.status_code == 200 and changed.get_json()["vendor"] == "cisco"
    with db.session() as s:
        assert decrypt(s.get(NasClient, body["id"]).secret_encrypted) == "An0ther-secret"
    assert client.delete(f"/console/api/nas/{body['id']}", headers=staff_headers).status_code == 204
    assert client.get(f"/console/api/nas/{body['id']}", headers=staff_headers).status_code == 404


@pytest.mark.parametrize(("field", "value"), [
    ("network", "not-an-address"), ("network", "10.0.0.1/24"), ("network", "0.0.0.0/0"),
    ("secret", "short"), ("vendor", "juniper"), ("coa_port", 70000),
])
def test_bad_input_is_refused_with_a_problem(client, staff_headers, field, value):
    body = {"name": "r", "network": "192.0.2.9", "secret": "long-enough-secret", field: value}
    reply = client.post("/console/api/nas", json=body, headers=staff_headers)
    assert reply.status_code == 422, reply.get_json()
    assert reply.content_type == "application/problem+json"


def test_the_same_network_twice_is_a_conflict(client, staff_headers):
    body = {"name": "r", "network": "192.0.2.0/30", "secret": "long-enough-secret"}
    assert client.post("/console/api/nas", json=body, headers=staff_headers).status_code == 201
    again = client.post("/console/api/nas", json=body, headers=staff_headers)
    assert again.status_code == 409 and again.content_type == "application/problem+json"


def test_a_reseller_sees_and_changes_only_its_own(app, client, staff_headers, accounts):  # noqa: F811
    mine, theirs = accounts(), accounts()
    headers = _reseller(app, mine)
    made = client.post("/reseller/api/nas", json={"name": "tower", "network": "203.0.113.8/29",
                                                  "secret": "tower-secret-1"}, headers=headers)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["tenant_id"] == mine.tenant.id
    platform = client.post("/console/api/nas", json={"name": "core", "network": "192.0.2.1",
                                                     "secret": "core-secret-1"}, headers=staff_headers).get_json()
    foreign = client.post("/reseller/api/nas", json={"name": "t", "network": "198.51.100.1",
                                                     "secret": "their-secret-1"}, headers=_reseller(app, theirs))
    assert foreign.status_code == 201
    assert [n["network"] for n in client.get("/reseller/api/nas", headers=headers).get_json()] == ["203.0.113.8/29"]
    for nas_id in (platform["id"], foreign.get_json()["id"]):
        assert client.get(f"/reseller/api/nas/{nas_id}", headers=headers).status_code == 404
        assert client.patch(f"/reseller/api/nas/{nas_id}", json={"name": "mine now"}, headers=headers).status_code \
            == 404
        assert client.delete(f"/reseller/api/nas/{nas_id}", headers=headers).status_code == 404
    # nor may it take over an address another owner's NAS covers
    grab = client.post("/reseller/api/nas", json={"name": "grab", "network": "192.0.2.1",
                                                  "secret": "grab-secret-1"}, headers=headers)
    assert grab.status_code == 409
    assert client.delete(f"/reseller/api/nas/{made.get_json()['id']}", headers=headers).status_code == 204


def test_a_read_only_team_member_cannot_register_a_nas(app, client, accounts):  # noqa: F811
    acc = accounts(role="Readonly")
    headers = _reseller(app, acc)
    assert client.get("/reseller/api/nas", headers=headers).status_code == 200
    reply = client.post("/reseller/api/nas", json={"name": "x", "network": "203.0.113.1",
                                                   "secret": "tower-secret-1"}, headers=headers)
    assert reply.status_code == 403


def test_cli_add_list_remove(db, accounts):  # noqa: F811
    acc = accounts()
    runner = CliRunner()
    added = runner.invoke(main, ["nas", "add", "192.0.2.77", "--secret", "cli-secret-1", "--vendor", "cisco",
                                 "--tenant", acc.tenant.code])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(main, ["nas", "list"])
    assert "192.0.2.77/32" in listed.output and acc.tenant.code in listed.output and "cli-secret" not in listed.output
    assert runner.invoke(main, ["nas", "add", "192.0.2.77", "--secret", "cli-secret-1"]).exit_code != 0
    assert runner.invoke(main, ["nas", "remove", "192.0.2.77"]).exit_code == 0
    with db.session() as s:
        assert s.execute(select(NasClient)).first() is None


def test_a_new_secret_reaches_the_running_server(client, staff_headers, radius_server):
    """No restart: the NOTIFY of the change drops the server's NAS cache."""
    made = client.post("/console/api/nas", json={"name": "lo", "network": "127.0.0.1", "secret": "first-secret"},
                       headers=staff_headers).get_json()
    status = "Message-Authenticator=0x00"
    assert radclient(radius_server.auth_port, status, kind="status", secret="first-secret").code == "Access-Accept"
    client.patch(f"/console/api/nas/{made['id']}", json={"secret": "second-secret"}, headers=staff_headers)
    for _ in range(50):
        if radclient(radius_server.auth_port, status, kind="status", secret="second-secret",
                     timeout=0.2).code == "Access-Accept":
            break
    else:
        pytest.fail("the server kept the old secret")
    assert radclient(radius_server.auth_port, status, kind="status", secret="first-secret").code is None


def test_the_demo_nas_is_seeded_once(db):
    from radius.demo import seed_demo

    assert seed_demo(db) == seed_demo(db) == {"nas": "127.0.0.1", "secret": "testing123"}
    with db.session() as s:
        rows = s.execute(select(NasClient)).scalars().all()
    assert [(str(r.network), r.tenant_id, decrypt(r.secret_encrypted)) for r in rows] == \
        [("127.0.0.1/32", None, "testing123")]
