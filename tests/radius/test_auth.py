"""Authentication as a router sees it, driven by radclient: the reply for each service status, for two
tenants and the platform NAS; a tenant's NAS refused for another tenant's customer; PAP and CHAP against
the network password (never the portal one); changes seen without a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from types import SimpleNamespace

import pytest

from app.services import ip_pools, services
from app.services.settings import put_setting
from tenants import tenant_context
from tests.radius.conftest import PASSWORD, free_udp_ports, radclient, wait_for


def auth(server, user: str, password: str = PASSWORD, *, chap: bool = False, **kwargs):
    secret = "Message-Authenticator=0x00"
    credential = f'CHAP-Password="{password}"' if chap else f'User-Password="{password}"'
    return radclient(server.auth_port, f'User-Name="{user}",{credential},{secret}', **kwargs)


def test_active_service_is_accepted_with_the_plans_rate_on_mikrotik(radius_server, set_nas, subscriber):
    set_nas(vendor="mikrotik")
    sub = subscriber("Active", download_kbps=20000, upload_kbps=5000, burst_download_kbps=40000,
                     burst_upload_kbps=10000, burst_threshold_download_kbps=16000,
                     burst_threshold_upload_kbps=4000, burst_time_seconds=8)
    reply = auth(radius_server, sub.username)
    assert reply.code == "Access-Accept", reply.output
    assert reply.attributes["Mikrotik-Rate-Limit"] == ["5000k/20000k 10000k/40000k 4000k/16000k 8/8"]
    assert reply.attributes["Acct-Interim-Interval"] == ["900"]
    assert "Mikrotik-Address-List" not in reply.attributes


def test_wrong_password_and_unknown_user_are_rejected_alike(radius_server, set_nas, subscriber):
    set_nas()
    sub = subscriber("Active")
    wrong = auth(radius_server, sub.username, "not-the-password")
    unknown = auth(radius_server, "NOSUCH000001")
    assert wrong.code == unknown.code == "Access-Reject"
    assert wrong.attributes["Reply-Message"] == unknown.attributes["Reply-Message"]


def test_the_portal_password_is_not_the_network_password(db, radius_server, set_nas, subscriber):
    from app.services.auth import users

    set_nas()
    sub = subscriber("Active")
    with db.session() as s, tenant_context(sub.tenant):
        customer_id = services.get(s, sub.service_id).customer_id
        users.set_portal_password(s, customer_id, "Portal#Pass-99")
    assert auth(radius_server, sub.username, "Portal#Pass-99").code == "Access-Reject"
    assert auth(radius_server, sub.username).code == "Access-Accept"


def test_realm_and_lower_case_portal_id_are_accepted(radius_server, set_nas, subscriber):
    set_nas()
    sub = subscriber("Active")
    assert auth(radius_server, f"{sub.username.lower()}@isp.example").code == "Access-Accept"


def test_chap(radius_server, set_nas, subscriber):
    set_nas()
    sub = subscriber("Active")
    assert auth(radius_server, sub.username, chap=True).code == "Access-Accept"
    assert auth(radius_server, sub.username, "wrong-password", chap=True).code == "Access-Reject"


def test_limited_gets_the_reduced_rate_and_the_payment_page_list(radius_server, set_nas, subscriber):
    set_nas(vendor="mikrotik")
    sub = subscriber("Limited", limited_download_kbps=1024, limited_upload_kbps=512)
    reply = auth(radius_server, sub.username)
    assert reply.code == "Access-Accept", reply.output
    assert reply.attributes["Mikrotik-Rate-Limit"] == ["512k/1024k"]
    assert reply.attributes["Mikrotik-Address-List"] == ["backhaul-payment-page"]


def test_suspended_follows_the_resellers_policy(db, radius_server, set_nas, subscriber):
    set_nas(vendor="mikrotik")
    rejected = subscriber("Suspended")
    reply = auth(radius_server, rejected.username)
    assert reply.code == "Access-Reject"
    assert "suspended" in reply.attributes["Reply-Message"][0]

    walled = subscriber("Suspended")
    with db.session() as s, tenant_context(walled.tenant):
        put_setting(s, "radius", {"suspended_action": "payment_page", "payment_page_address_list": "unpaid"})
    radius_server.access._policies.clear()  # the policy is cached for 30 s; this test does not wait
    reply = auth(radius_server, walled.username)
    assert reply.code == "Access-Accept", reply.output
    assert reply.attributes["Mikrotik-Address-List"] == ["unpaid"]
    assert reply.attributes["Mikrotik-Rate-Limit"] == ["256k/512k"]


@pytest.mark.parametrize(("status", "message"), [("Pending", "not active"), ("Terminated", "ended")])
def test_pending_and_terminated_are_rejected_with_a_reply_message(radius_server, set_nas, subscriber, status, message):
    set_nas()
    sub = subscriber(status)
    reply = auth(radius_server, sub.username)
    assert reply.code == "Access-Reject", reply.output
    assert message in reply.attributes["Reply-Message"][0]


def test_cisco_gets_its_avpairs_and_the_static_address(db, radius_server, set_nas, make_shop, make_plan, subscriber):
    set_nas(vendor="cisco")
    shop = make_shop("CIS", plan=make_plan(download_kbps=10000, upload_kbps=2000))
    with db.session() as s, tenant_context(shop.tenant):
        ip_pools.create_pool(s, name="statics", cidr="100.64.10.0/29")
    sub = subscriber("Active", shop=shop, static_ip=True)
    reply = auth(radius_server, sub.username)
    assert reply.code == "Access-Accept", reply.output
    assert reply.attributes["Framed-IP-Address"][0].startswith("100.64.10.")
    pairs = reply.attributes["Cisco-AVPair"]
    assert any("rate-limit input 2000000" in p for p in pairs) and any("rate-limit output 10000000" in p for p in pairs)


def test_two_tenants_and_the_platform_nas(radius_server, set_nas, subscriber, make_tenant):
    a, b = subscriber("Active"), subscriber("Active")
    assert a.tenant.id != b.tenant.id
    set_nas(tenant=None)  # the platform's NAS serves everyone
    assert auth(radius_server, a.username).code == "Access-Accept"
    assert auth(radius_server, b.username).code == "Access-Accept"

    set_nas(tenant=a.tenant)  # tenant A's NAS: its own customers only
    assert auth(radius_server, a.username).code == "Access-Accept"
    refused = auth(radius_server, b.username)
    assert refused.code == "Access-Reject", refused.output


def test_a_tenants_nas_serves_its_sub_resellers(radius_server, set_nas, subscriber, make_shop, make_tenant):
    parent = make_tenant("PAR")
    child_shop = make_shop("KID", parent_code=parent.code)
    sub = subscriber("Active", shop=child_shop)
    set_nas(tenant=parent)
    assert auth(radius_server, sub.username).code == "Access-Accept"
    set_nas(tenant=child_shop.tenant)
    assert auth(radius_server, sub.username).code == "Access-Accept"
    other = make_tenant("OTH")
    set_nas(tenant=other)
    assert auth(radius_server, sub.username).code == "Access-Reject"


def test_a_status_change_is_seen_without_a_restart(db, radius_server, set_nas, subscriber):
    """The cached subscriber goes on the NOTIFY the change sends when it commits."""
    set_nas()
    sub = subscriber("Active")
    assert auth(radius_server, sub.username).code == "Access-Accept"
    with db.session() as s, tenant_context(sub.tenant):
        services.suspend(s, sub.service_id, reason="test")
    assert wait_for(lambda: radius_server.directory._services.get((sub.tenant.id, sub.username)) is None)
    assert auth(radius_server, sub.username).code == "Access-Reject"
    with db.session() as s, tenant_context(sub.tenant):
        services.set_network_credentials(s, sub.service_id, password="brand-New-pass")
        services.restore(s, sub.service_id, reason="paid")
    assert wait_for(lambda: radius_server.directory._services.get((sub.tenant.id, sub.username)) is None)
    assert auth(radius_server, sub.username).code == "Access-Reject"
    assert auth(radius_server, sub.username, "brand-New-pass").code == "Access-Accept"


def test_an_unknown_nas_gets_no_reply(radius_server, set_nas, subscriber):
    set_nas(network="192.0.2.0/24")  # 127.0.0.1 is no NAS now
    sub = subscriber("Active")
    reply = auth(radius_server, sub.username)
    assert reply.code is None


def test_backhaul_radius_serves_from_several_processes(set_nas, subscriber, test_env):
    """The command itself: two processes sharing the ports (SO_REUSEPORT), each answering from its own caches;
    a second server on the same ports is refused with a clear message."""
    set_nas()
    sub = subscriber("Active")
    auth_port, acct_port = free_udp_ports()
    command = [sys.executable, "-c", "from app.cli import main; main()", "radius", "--host", "127.0.0.1",
               "--auth-port", str(auth_port), "--acct-port", str(acct_port)]
    proc = subprocess.Popen([*command, "--processes", "2"], env={**os.environ, **test_env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        server = SimpleNamespace(auth_port=auth_port)
        assert wait_for(lambda: radclient(auth_port, "Message-Authenticator=0x00", kind="status",
                                          timeout=0.3).code == "Access-Accept", timeout=20)
        for _ in range(4):  # radclient picks a new source port each time: both processes get asked
            # the Status-Server above may have been answered by one process alone: the other's first answer needs
            # its first database lookup, which a loaded machine can hold past radclient's usual second
            assert auth(server, sub.username, timeout=5.0).code == "Access-Accept"
        second = subprocess.run(command, env={**os.environ, **test_env}, capture_output=True, text=True, timeout=30)
        assert second.returncode != 0 and "in use" in second.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)


def test_mschapv2_matches_rfc_2759s_worked_example():
    from radius import mschap

    authenticator = bytes.fromhex("5B5D7C7D7B3F2F3E3C2C602132262628")
    peer = bytes.fromhex("21402324255E262A28295F2B3A337C7E")
    challenge = mschap.challenge_hash(peer, authenticator, "User")
    assert challenge.hex().upper() == "D02E4386BCE91226"
    password_hash = mschap.nt_password_hash("clientPass")
    assert password_hash.hex().upper() == "44EBBA8D5312B8D611474411F56989AE"
    response = mschap.nt_response(challenge, password_hash)
    assert response.hex().upper() == "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF"
    assert mschap.authenticator_response(password_hash, response, challenge) == \
        "S=407A5589115FD0D6209F510FE9C04566932CDA56"
    assert mschap.md4(b"abc").hex() == "a448017aaf21d8525fc10ae87aa6729d"  # RFC 1320's test suite


def test_mschapv2_sign_in(radius_server, set_nas, subscriber):
    """As a router relays a PPP MS-CHAPv2 exchange: Accept with MS-CHAP2-Success that proves the server knew
    the password; a wrong password gets a Reject with MS-CHAP-Error."""
    import os as _os

    from radius import mschap
    from radius import packet as rp
    from tests.radius.conftest import SECRET, udp_exchange

    set_nas()
    sub = subscriber("Active")

    def exchange(password: str):
        authenticator_challenge, peer_challenge = _os.urandom(16), _os.urandom(16)
        challenge = mschap.challenge_hash(peer_challenge, authenticator_challenge, sub.username)
        response = mschap.nt_response(challenge, mschap.nt_password_hash(password))
        value = b"\x05\x00" + peer_challenge + bytes(8) + response
        attrs = rp.encode_attributes([("User-Name", sub.username), ("MS-CHAP-Challenge", authenticator_challenge),
                                      ("MS-CHAP2-Response", value)])
        raw = udp_exchange(radius_server.auth_port, rp.sign_request(rp.ACCESS_REQUEST, 1, attrs, SECRET.encode()))
        expected = mschap.authenticator_response(mschap.nt_password_hash(sub.password), response, challenge)
        return rp.parse(raw), expected

    accepted, expected = exchange(sub.password)
    assert accepted.code == rp.ACCESS_ACCEPT
    assert accepted.value("MS-CHAP2-Success") == b"\x05" + expected.encode()
    assert accepted.value("Mikrotik-Rate-Limit")
    rejected, _ = exchange("wrong-password")
    assert rejected.code == rp.ACCESS_REJECT
    assert rejected.value("MS-CHAP-Error").startswith("\x05E=691")
    assert rejected.value("MS-CHAP2-Success") is None


def test_a_starting_process_preloads_its_subscribers(db, subscriber):
    """So that a restart under load does not meet every router's next sign-in with a database query."""
    from radius.directory import Directory

    live, ended = subscriber("Active"), subscriber("Terminated")
    directory = Directory(db, listen=False)
    assert directory.preload() >= 1
    assert (live.tenant.id, live.username) in directory._services
    assert (ended.tenant.id, ended.username) not in directory._services
    found = directory.resolve(live.username)
    assert found.tenant.id == live.tenant.id and directory.service(found).password == live.password


def test_a_broken_policy_setting_costs_that_setting_not_the_sign_ins(db, radius_server, set_nas, subscriber):
    set_nas()
    sub = subscriber("Active")
    with db.session() as s, tenant_context(sub.tenant):
        put_setting(s, "radius", {"session_timeout": "soon", "interim_interval": -5, "suspended_action": "explode",
                                  "payment_page_rate_kbps": "fast"})
    radius_server.access._policies.clear()
    reply = auth(radius_server, sub.username)
    assert reply.code == "Access-Accept", reply.output
    assert reply.attributes["Acct-Interim-Interval"] == ["900"] and "Session-Timeout" not in reply.attributes


def test_a_plans_new_speed_is_sent_without_a_restart(db, radius_server, set_nas, subscriber):
    from app.services import catalogue

    set_nas(vendor="mikrotik")
    sub = subscriber("Active", download_kbps=10000, upload_kbps=2000)
    assert auth(radius_server, sub.username).attributes["Mikrotik-Rate-Limit"] == ["2000k/10000k"]
    with db.session() as s, tenant_context(sub.tenant):
        plan_id = services.get(s, sub.service_id).plan_id
    with db.session() as s:
        catalogue.update_plan(s, plan_id, download_kbps=30000, upload_kbps=6000)
    assert wait_for(lambda: auth(radius_server, sub.username).attributes.get("Mikrotik-Rate-Limit")
                    == ["6000k/30000k"])


def test_a_policy_change_takes_effect_within_its_cache_time(db, radius_server, set_nas, subscriber, monkeypatch):
    from radius import auth as auth_module

    monkeypatch.setattr(auth_module, "POLICY_TTL", 0.3)
    set_nas(vendor="mikrotik")
    sub = subscriber("Suspended")
    assert auth(radius_server, sub.username).code == "Access-Reject"
    with db.session() as s, tenant_context(sub.tenant):
        put_setting(s, "radius", {"suspended_action": "payment_page", "session_timeout": 3600})
    assert wait_for(lambda: auth(radius_server, sub.username).code == "Access-Accept")
    reply = auth(radius_server, sub.username)
    assert reply.attributes["Session-Timeout"] == ["3600"]
    assert reply.attributes["Mikrotik-Address-List"] == ["backhaul-payment-page"]
