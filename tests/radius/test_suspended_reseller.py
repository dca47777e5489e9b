"""A suspended reseller's customers at the RADIUS door: the platform's policy (radius/runner.py Options,
`BACKHAUL_RADIUS_SUSPENDED_RESELLER`) rejects their sign-ins by default, with a log line and a Reply-Message,
and so for the customers of a sub-reseller below a suspended one; reactivating lets them in again at the
next sign-in; the "accept" policy keeps them online."""

from __future__ import annotations

import logging

import pytest

from app.services import tenants as tenant_svc
from radius.runner import Options, suspended_policy
from tests.radius.conftest import wait_for
from tests.radius.test_auth import auth


def _set_status(db, tenant, status: str) -> None:
    with db.session() as s:
        tenant_svc.set_status(s, tenant.code, status, reason="test", actor="test")


def _rejected_because(server, username: str, words: str) -> bool:
    reply = auth(server, username)
    return reply.code == "Access-Reject" and words in " ".join(reply.attributes.get("Reply-Message", []))


def test_a_suspended_parent_takes_its_sub_resellers_customers_offline_until_reactivated(
        db, radius_server, set_nas, subscriber, make_shop, make_tenant, caplog):
    caplog.set_level(logging.INFO, logger="radius")
    parent = make_tenant("RPARENT")
    child_shop = make_shop("RCHILD", parent_code=parent.code)
    set_nas()
    sub = subscriber("Active", shop=child_shop)
    assert auth(radius_server, sub.username).code == "Access-Accept"

    _set_status(db, parent, "Suspended")
    assert wait_for(lambda: auth(radius_server, sub.username).code == "Access-Reject")
    assert _rejected_because(radius_server, sub.username, "suspended")
    assert any(parent.code in r.getMessage() and "policy" in r.getMessage() for r in caplog.records)

    _set_status(db, parent, "Active")
    assert wait_for(lambda: auth(radius_server, sub.username).code == "Access-Accept")


def test_the_accept_policy_keeps_a_suspended_resellers_customers_online(db, radius_server, set_nas, subscriber,
                                                                         make_shop):
    shop = make_shop("RACCEPT")
    set_nas()
    sub = subscriber("Active", shop=shop)
    _set_status(db, shop.tenant, "Suspended")
    assert wait_for(lambda: auth(radius_server, sub.username).code == "Access-Reject")
    radius_server.access.suspended_reseller = "accept"
    try:
        assert auth(radius_server, sub.username).code == "Access-Accept"
    finally:
        radius_server.access.suspended_reseller = "reject"
        _set_status(db, shop.tenant, "Active")


def test_the_policy_is_read_from_the_environment_and_a_wrong_value_is_refused():
    assert Options.from_env({}).suspended_reseller == "reject"
    assert Options.from_env({"BACKHAUL_RADIUS_SUSPENDED_RESELLER": "Accept"}).suspended_reseller == "accept"
    with pytest.raises(ValueError, match="reject, accept"):
        suspended_policy("sometimes")
