"""The `backhaul` command as an operator uses it."""

import re

import click
import pytest
from click.testing import CliRunner

from app.cli import main
from tenants import registry


@pytest.fixture(autouse=True)
def _rebind_registry(db):
    yield
    registry.bind(db.engine)  # each CLI invocation binds its own engine; give the suite's back


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def _commands(group: click.Group, path=()):
    for name, cmd in group.commands.items():
        yield (*path, name)
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*path, name))


def test_help_on_every_level():
    assert run("--help").exit_code == 0
    paths = list(_commands(main))
    assert ("tenants", "create") in paths and ("db", "upgrade") in paths and ("demo", "seed") in paths
    assert ("run",) in paths
    for path in paths:
        result = run(*path, "--help")
        assert result.exit_code == 0, path
        assert "Usage:" in result.output


def test_tenant_lifecycle():
    created = run("tenants", "create", "CLI_ISP", "--name", "CLI Internet", "--host", "portal.cli-isp.example",
                  "--customer-limit", "10")
    assert created.exit_code == 0, created.output
    assert "t_cli_isp" in created.output and "portal.cli-isp.example" in created.output
    sub = run("tenants", "create", "CLI_SUB", "--name", "CLI Sub", "--parent", "CLI_ISP")
    assert sub.exit_code == 0, sub.output

    listing = run("tenants", "list").output
    assert "CLI_ISP" in listing and "CLI_SUB" in listing

    shown = run("tenants", "show", "CLI_SUB").output
    assert "CLI_ISP" in shown and "cli-sub.test.example" in shown

    assert "suspended" in run("tenants", "suspend", "CLI_ISP", "--reason", "audit").output
    assert "Suspended" in run("tenants", "show", "CLI_ISP").output
    assert run("tenants", "activate", "CLI_ISP").exit_code == 0

    refused = run("tenants", "delete", "CLI_ISP", "--yes")
    assert refused.exit_code == 1 and "sub-resellers" in refused.output
    assert run("tenants", "delete", "CLI_SUB", "--yes").exit_code == 0
    assert run("tenants", "delete", "CLI_ISP", input="n\n").exit_code == 1  # not confirmed
    assert run("tenants", "delete", "CLI_ISP", "--yes").exit_code == 0
    assert "no tenant with code 'CLI_ISP'" in run("tenants", "show", "CLI_ISP").output


def test_clear_errors():
    bad = run("tenants", "create", 'X"; DROP SCHEMA public;--', "--name", "Evil")
    assert bad.exit_code == 1 and "invalid tenant code" in bad.output
    assert run("tenants", "create", "DUP_ISP", "--name", "Dup").exit_code == 0
    dup = run("tenants", "create", "DUP_ISP", "--name", "Dup")
    assert dup.exit_code == 1 and "already exists" in dup.output
    orphan = run("tenants", "create", "ORPHAN", "--name", "Orphan", "--parent", "NOPE_ISP")
    assert orphan.exit_code == 1 and "NOPE_ISP" in orphan.output


def test_db_upgrade_twice_is_a_no_op():
    first = run("db", "upgrade", "--jobs", "2", "-q")
    assert first.exit_code == 0, first.output
    second = run("db", "upgrade", "-q")
    assert "public: up to date; tenant schemas upgraded: 0" in second.output


def test_demo_seed_is_idempotent(client):
    first = run("demo", "seed")
    assert first.exit_code == 0, first.output
    second = run("demo", "seed")
    assert second.exit_code == 0
    for portal_id in ("ABC000001", "XYZ000003", "ABE000002"):
        assert portal_id in second.output
    assert "ABC000005" not in second.output  # nothing created twice
    # every address the summary prints opens a page: the portals' front pages and the sign-in pages
    printed = set(re.findall(r"http://([a-z0-9.-]+)(/[a-z/]*)", second.output))
    assert ("abc.test.example", "/login") in printed and ("abc.test.example", "/reseller/login") in printed
    assert ("console.test.example", "/console/login") in printed
    for host, path in printed:
        assert client.get(path, headers={"Host": host}).status_code == 200, (host, path)
    body = client.get("/api/v1/portal", headers={"Host": "east.abc.test.example"}).get_json()
    assert body["tenant"]["code"] == "ABC_EAST" and body["title"] == "ABC East Connect"
    listing = run("tenants", "list").output
    assert "ABC_ISP" in listing and "XYZ_NET" in listing
    # the demo's money: this month billed once, the first customer paid by M-PESA, the rest still owing
    from app.models.billing import Invoice, Payment
    from tenants import tenant_context
    from tenants.registry import directory

    db = client.application.extensions["backhaul"].db
    from app.models import Customer
    from app.services.demo import RESELLERS

    demo_emails = [row[4] for row in RESELLERS[0]["customers"]]  # the portal tests add customers of their own
    with db.session() as s, tenant_context(directory().by_code("ABC_ISP")):
        invoices = (s.query(Invoice.customer_id, Invoice.status).join(Customer, Customer.id == Invoice.customer_id)
                    .filter(Customer.email.in_(demo_emails)).order_by(Invoice.id).all())
        assert len(invoices) == len({c for c, _ in invoices}) >= 3  # one per billed customer, run twice
        assert invoices[0].status == "Paid" and {st for _, st in invoices[1:]} == {"Issued"}
        assert s.query(Payment).join(Customer, Customer.id == Payment.customer_id).filter(
            Payment.method == "mpesa", Customer.email.in_(demo_emails)).count() == 1
