"""Junk must not hurt: the parser only ever says "malformed", and a few thousand random and mutated
datagrams on both ports leave the server answering the next good request."""

from __future__ import annotations

import random
import socket

from hypothesis import given, settings
from hypothesis import strategies as st

from radius import packet as rp
from tests.radius.conftest import SECRET, access_request, udp_exchange


@settings(max_examples=1500, deadline=None)
@given(st.binary(min_size=0, max_size=300))
def test_the_parser_only_raises_malformed(data):
    try:
        parsed = rp.parse(data)
    except rp.Malformed:
        return
    assert len(parsed.raw) >= rp.MIN_LENGTH
    rp.message_authenticator_ok(parsed, b"secret")
    rp.request_authenticator_ok(parsed, b"secret")


def _mutations(rng: random.Random, seed: bytes):
    """Bit flips, truncations, extensions, lying length fields and attribute lengths, shuffled attributes."""
    data = bytearray(seed)
    choice = rng.randrange(7)
    if choice == 0:
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif choice == 1:
        data = data[:rng.randrange(len(data))]
    elif choice == 2:
        data += rng.randbytes(rng.randint(1, 200))
    elif choice == 3:
        data[2:4] = rng.randrange(65536).to_bytes(2, "big")
    elif choice == 4 and len(data) > 21:
        data[rng.randrange(20, len(data))] = rng.choice((0, 1, 2, 255))
    elif choice == 5:
        data[0] = rng.randrange(256)
    else:
        return rng.randbytes(rng.randint(0, 600))
    return bytes(data)


def test_random_and_mutated_packets_do_not_stop_the_server(radius_server, set_nas, subscriber):
    set_nas(require_message_authenticator=False)  # the laxer path: more of the junk gets past the first check
    sub = subscriber("Active")
    rng = random.Random(20240709)
    seeds = [access_request(sub.username, sub.password, ident=i, message_authenticator=bool(i % 2))
             for i in range(8)]
    seeds += [rp.sign_request(rp.ACCOUNTING_REQUEST, i, rp.encode_attributes(
        [("Acct-Status-Type", "Interim-Update"), ("Acct-Session-Id", f"f{i}"), ("User-Name", sub.username),
         ("Acct-Input-Octets", i * 1000), ("Acct-Input-Gigawords", 1)]), SECRET.encode()) for i in range(4)]
    errors_before = radius_server.stats["error"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        for n in range(4000):
            port = radius_server.auth_port if n % 3 else radius_server.acct_port
            sock.sendto(_mutations(rng, rng.choice(seeds)), ("127.0.0.1", port))
    good = udp_exchange(radius_server.auth_port, access_request(sub.username, sub.password, ident=200), timeout=5.0)
    assert good is not None and rp.parse(good).code == rp.ACCESS_ACCEPT
    assert radius_server.stats["error"] == errors_before  # every bad packet was a clean drop, not an exception
    assert all(thread.is_alive() for thread in radius_server._threads)
