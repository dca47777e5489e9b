"""BlastRADIUS and the rest of what a RADIUS server must get right: Message-Authenticator required on
Access-Requests (missing or wrong: no reply) and on every reply (first); the accounting Request
Authenticator; Proxy-State echoed byte for byte; retransmissions answered from the reply cache."""

from __future__ import annotations

import socket
import subprocess

import pytest

from radius import packet as rp
from radius import server as server_module
from tests.radius.conftest import RADCLIENT, SECRET, access_request, radclient, udp_exchange

MA = "Message-Authenticator=0x00"


def _pairs(sub, *extra: str) -> str:
    return ",".join([f'User-Name="{sub.username}"', f'User-Password="{sub.password}"', *extra])


def test_no_message_authenticator_no_reply(radius_server, set_nas, subscriber):
    set_nas(require_message_authenticator=True)
    sub = subscriber("Active")
    assert radclient(radius_server.auth_port, _pairs(sub)).code is None
    assert radclient(radius_server.auth_port, _pairs(sub, MA)).code == "Access-Accept"


def test_a_wrong_message_authenticator_gets_no_reply_even_from_a_legacy_nas(radius_server, set_nas, subscriber):
    set_nas(require_message_authenticator=False)
    sub = subscriber("Active")
    good = bytearray(access_request(sub.username, sub.password))
    at = rp.parse(bytes(good)).ma_offset
    good[at] ^= 0xFF
    assert udp_exchange(radius_server.auth_port, bytes(good)) is None
    # signed with another secret: same
    assert udp_exchange(radius_server.auth_port, access_request(sub.username, sub.password, secret="other-secret")) \
        is None


def test_a_legacy_nas_may_leave_it_out(radius_server, set_nas, subscriber):
    set_nas(require_message_authenticator=False)
    sub = subscriber("Active")
    assert radclient(radius_server.auth_port, _pairs(sub)).code == "Access-Accept"


def test_every_reply_carries_a_valid_message_authenticator_first(radius_server, set_nas, subscriber):
    set_nas()
    sub = subscriber("Active")
    for password in (sub.password, "wrong-password"):
        request = access_request(sub.username, password)
        raw = udp_exchange(radius_server.auth_port, request)
        reply = rp.parse(raw)
        assert reply.attributes[0][0] == rp.MESSAGE_AUTHENTICATOR
        assert rp.reply_authenticator_ok(raw, rp.parse(request).authenticator, SECRET.encode())


def _supports_blast_check() -> bool:
    usage = subprocess.run([RADCLIENT, "-h"], capture_output=True, text=True).stdout + \
        subprocess.run([RADCLIENT, "-h"], capture_output=True, text=True).stderr
    return any(line.strip().startswith("-b") for line in usage.splitlines())


def test_radclient_blastradius_check(radius_server, set_nas, subscriber):
    """`radclient -b` (FreeRADIUS ≥ 3.2.5) refuses replies without Message-Authenticator. Older radclients
    lack the flag; then radclient's own output must show the attribute in the reply, and our check above
    proves it first and valid."""
    set_nas()
    sub = subscriber("Active")
    if _supports_blast_check():
        reply = radclient(radius_server.auth_port, _pairs(sub, MA), flags=("-b",))
    else:
        reply = radclient(radius_server.auth_port, _pairs(sub, MA))
        assert "Message-Authenticator" in reply.attributes, reply.output
    assert reply.code == "Access-Accept", reply.output


def test_proxy_state_is_echoed_byte_identical_in_order(radius_server, set_nas, subscriber):
    set_nas()
    sub = subscriber("Active")
    reply = radclient(radius_server.auth_port, _pairs(sub, MA, "Proxy-State=0x0102ff00", "Proxy-State=0xdeadbeef"))
    assert reply.code == "Access-Accept"
    assert reply.attributes["Proxy-State"] == ["0x0102ff00", "0xdeadbeef"]
    states = [b"\x00\x00binary\xff", b"second"]
    request = access_request(sub.username, "wrong-password", extra=[("Proxy-State", s) for s in states])
    raw = udp_exchange(radius_server.auth_port, request)
    assert rp.parse(raw).code == rp.ACCESS_REJECT and rp.parse(raw).all(rp.PROXY_STATE) == states


def test_a_retransmission_is_answered_from_the_cache_not_processed_again(radius_server, set_nas, subscriber):
    set_nas()
    sub = subscriber("Active")
    request = access_request(sub.username, sub.password, ident=99)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(1.0)
        before = radius_server.stats["auth processed"]
        replies = []
        for _ in range(3):
            sock.sendto(request, ("127.0.0.1", radius_server.auth_port))
            replies.append(sock.recv(4096))
    assert replies[0] == replies[1] == replies[2]
    assert radius_server.stats["auth processed"] - before == 1
    # radclient retransmitting the same packet (-c 3 reuses the ID and authenticator? no: new ones) is processed
    # anew; the same bytes from another source port are another request
    assert udp_exchange(radius_server.auth_port, request) == replies[0]
    assert radius_server.stats["auth processed"] - before == 2


# -- accounting ------------------------------------------------------------------------------------------
@pytest.fixture
def store(monkeypatch):
    """Stand in for radius.accounting (another module's job) to see what the server hands it."""
    calls: list[list] = []
    result: dict = {"value": True}

    def store_batch(db, items):
        calls.append(items)
        if isinstance(result["value"], Exception):
            raise result["value"]
        return [result["value"]] * len(items)

    monkeypatch.setattr(server_module, "_store_batch", lambda: store_batch)
    return calls, result


def _acct(status: str = "Start", ident: int = 1, session_id: str = "s-1", secret: str = SECRET, **extra) -> bytes:
    attrs = rp.encode_attributes([("Acct-Status-Type", status), ("Acct-Session-Id", session_id),
                                  ("User-Name", "X"), ("Proxy-State", b"ps1"), *extra.items()])
    return rp.sign_request(rp.ACCOUNTING_REQUEST, ident, attrs, secret.encode(), message_authenticator=False)


def test_accounting_is_answered_only_once_stored(radius_server, set_nas, store):
    set_nas()
    calls, result = store
    request = _acct(ident=3)
    raw = udp_exchange(radius_server.acct_port, request)
    assert raw is not None and len(calls) == 1
    reply = rp.parse(raw)
    assert reply.code == rp.ACCOUNTING_RESPONSE and reply.all(rp.PROXY_STATE) == [b"ps1"]
    assert reply.attributes[0][0] == rp.MESSAGE_AUTHENTICATOR
    assert rp.reply_authenticator_ok(raw, rp.parse(request).authenticator, SECRET.encode())
    result["value"] = False  # not stored: no response
    assert udp_exchange(radius_server.acct_port, _acct(ident=4, session_id="s-2")) is None
    result["value"] = RuntimeError("database down")  # failed: no response, the server lives on
    assert udp_exchange(radius_server.acct_port, _acct(ident=5, session_id="s-3")) is None
    result["value"] = True
    assert udp_exchange(radius_server.acct_port, _acct(ident=6, session_id="s-4")) is not None


def test_accounting_with_a_wrong_request_authenticator_is_dropped(radius_server, set_nas, store):
    set_nas()
    calls, _ = store
    assert udp_exchange(radius_server.acct_port, _acct(secret="not-the-secret")) is None
    tampered = bytearray(_acct(ident=8))
    tampered[-1] ^= 1
    assert udp_exchange(radius_server.acct_port, bytes(tampered)) is None
    assert calls == []


def test_accounting_retransmissions_are_stored_once(radius_server, set_nas, store):
    set_nas()
    calls, _ = store
    request = _acct(ident=9, session_id="dup")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(1.0)
        for _ in range(3):
            sock.sendto(request, ("127.0.0.1", radius_server.acct_port))
        replies = [sock.recv(4096) for _ in range(1)]
        for _ in range(2):
            sock.sendto(request, ("127.0.0.1", radius_server.acct_port))
            replies.append(sock.recv(4096))
    assert len({*replies}) == 1
    assert sum(len(items) for items in calls) == 1


def test_radclient_accounting(radius_server, set_nas, store):
    set_nas()
    calls, _ = store
    reply = radclient(radius_server.acct_port, 'Acct-Status-Type=Start,Acct-Session-Id="abc",User-Name="X"',
                      kind="acct")
    assert reply.code == "Accounting-Response", reply.output
    nas, request = calls[0][0]
    assert request.value("Acct-Session-Id") == "abc" and nas.secret == SECRET.encode()


def test_a_slow_lookup_neither_holds_up_cached_subscribers_nor_runs_twice(radius_server, set_nas, subscriber,
                                                                          monkeypatch):
    """A subscriber not in memory is looked up in the server's pool: meanwhile cached ones are answered, and
    the NAS's retransmissions of the waiting request are not processed again."""
    import threading
    import time

    set_nas()
    cached, fresh = subscriber("Active"), subscriber("Active")
    assert rp.parse(udp_exchange(radius_server.auth_port, access_request(cached.username, cached.password))).code \
        == rp.ACCESS_ACCEPT
    slow_lookup = radius_server.directory.service
    release = threading.Event()

    def service(sub, *, cached_only=False):
        if sub.username == fresh.username and not cached_only:
            release.wait(5.0)  # the database is slow for this one
        return slow_lookup(sub, cached_only=cached_only)

    monkeypatch.setattr(radius_server.directory, "service", service)
    before = radius_server.stats["auth processed"]
    waiting = access_request(fresh.username, fresh.password, ident=42)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(3.0)
        sock.sendto(waiting, ("127.0.0.1", radius_server.auth_port))
        started = time.monotonic()
        quick = udp_exchange(radius_server.auth_port, access_request(cached.username, cached.password, ident=43))
        assert quick is not None and rp.parse(quick).code == rp.ACCESS_ACCEPT and time.monotonic() - started < 1.0
        sock.sendto(waiting, ("127.0.0.1", radius_server.auth_port))  # the NAS retransmits
        sock.sendto(waiting, ("127.0.0.1", radius_server.auth_port))
        time.sleep(0.2)
        release.set()
        answer = sock.recv(4096)
        assert rp.parse(answer).code == rp.ACCESS_ACCEPT and rp.parse(answer).id == 42
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(4096)  # one answer for the three copies
        sock.sendto(waiting, ("127.0.0.1", radius_server.auth_port))  # a later retransmission: from the cache
        assert sock.recv(4096) == answer
    assert radius_server.stats["auth processed"] - before == 2
