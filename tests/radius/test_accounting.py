"""Accounting through the running server and the store: a response only once the record is stored,
retransmissions and reordering never counting twice, 64-bit counters, Accounting-On/Off, unknown users
acknowledged but not stored, and no response at all while the database is down."""

from __future__ import annotations

import itertools
import secrets

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.db import Database
from radius import accounting
from radius.directory import directory_for
from tests.radius.accounting_fixtures import (  # noqa: F401  (fixtures)
    ACCOUNTING_ON,
    INTERIM,
    START,
    STOP,
    acct_nas,
    acct_packet,
    acct_request,
    is_accounting_response,
    send_to_server,
    store,
)

_n = itertools.count(1)


def test_retransmissions_make_one_session_row_and_count_once(db, radius_server, store, subscriber):  # noqa: F811
    sub = subscriber()
    start = acct_request(sub.username, "sess-1", START, ident=11)
    for _ in range(3):  # the same datagram again: answered each time (from the reply cache after the first)
        assert is_accounting_response(send_to_server(radius_server, start, source_port=42001))
    # the router gives up on the first ID and sends the Start again under a new one: still the same session
    assert is_accounting_response(send_to_server(radius_server, acct_request(sub.username, "sess-1", START,
                                                                             ident=12), source_port=42001))
    interim = acct_request(sub.username, "sess-1", INTERIM, octets_in=1000, octets_out=5000, session_time=60,
                           ident=13)
    for _ in range(2):
        assert is_accounting_response(send_to_server(radius_server, interim, source_port=42002))
    assert is_accounting_response(send_to_server(radius_server, acct_request(
        sub.username, "sess-1", INTERIM, octets_in=1000, octets_out=5000, session_time=60, ident=14)))
    stop = acct_request(sub.username, "sess-1", STOP, octets_in=1500, octets_out=9000, session_time=90,
                        cause="User-Request", ident=15)
    assert is_accounting_response(send_to_server(radius_server, stop))
    assert is_accounting_response(send_to_server(radius_server, acct_request(
        sub.username, "sess-1", STOP, octets_in=1500, octets_out=9000, session_time=90, cause="User-Request")))

    rows = store.sessions(sub.tenant)
    assert len(rows) == 1
    row = rows[0]
    assert (row.status, row.terminate_cause, row.service_id) == ("Closed", "User-Request", sub.service_id)
    assert (row.input_octets, row.output_octets, row.session_time) == (1500, 9000, 90)
    assert store.usage_total(sub.tenant, sub.service_id) == (1500, 9000)


def test_octets_with_gigawords_are_64_bit(store, subscriber):  # noqa: F811
    sub = subscriber()
    big_in, big_out = 5 * 2**32 + 123, 70 * 2**32 + 456_789  # 21 GB up, 300 GB down
    assert store(acct_packet(sub.username, "giga", INTERIM, octets_in=big_in, octets_out=big_out,
                             session_time=3600)) == [True]
    row = store.sessions(sub.tenant)[0]
    assert (row.input_octets, row.output_octets) == (big_in, big_out)
    assert store.usage_total(sub.tenant, sub.service_id) == (big_in, big_out)


@pytest.fixture
def shuffled_subscriber(subscriber):  # noqa: F811
    return subscriber()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 10**9)), min_size=1, max_size=6),
       stop=st.booleans(), order=st.randoms(use_true_random=False), duplicates=st.lists(st.integers(0, 20), max_size=8),
       batch_size=st.integers(1, 5))
def test_shuffled_and_duplicated_packets_give_the_right_totals(store, shuffled_subscriber, steps, stop,  # noqa: F811
                                                               order, duplicates, batch_size):
    """Whatever order the Start, Interims and Stop arrive in, however often, and however they are batched,
    the session ends with the last counters and daily usage grows by exactly them."""
    sub = shuffled_subscriber
    session_id = f"h-{secrets.token_hex(6)}"
    before = store.usage_total(sub.tenant, sub.service_id)
    counters = list(itertools.accumulate(steps, lambda a, b: (a[0] + b[0], a[1] + b[1])))
    packets = [acct_packet(sub.username, session_id, START)]
    packets += [acct_packet(sub.username, session_id, INTERIM, octets_in=i, octets_out=o, session_time=10 * n)
                for n, (i, o) in enumerate(counters, start=1)]
    final_in, final_out = counters[-1]
    if stop:
        packets.append(acct_packet(sub.username, session_id, STOP, octets_in=final_in, octets_out=final_out,
                                   session_time=10 * len(counters) + 5, cause="Idle-Timeout"))
    packets += [packets[d % len(packets)] for d in duplicates]
    order.shuffle(packets)
    for start in range(0, len(packets), batch_size):
        assert all(store(*packets[start:start + batch_size], check_fair_use=False))

    rows = store.sessions(sub.tenant, acct_session_id=session_id)
    assert len(rows) == 1
    assert (rows[0].input_octets, rows[0].output_octets) == (final_in, final_out)
    assert rows[0].status == ("Closed" if stop else "Open")
    after = store.usage_total(sub.tenant, sub.service_id)
    assert (after[0] - before[0], after[1] - before[1]) == (final_in, final_out)


def test_unknown_users_and_customers_the_nas_may_not_serve_are_acknowledged_not_stored(db, acct_nas,  # noqa: F811
                                                                                       subscriber, make_tenant):
    sub = subscriber()
    other = make_tenant("OTHER")
    nas = acct_nas(tenant=other)  # a NAS of another reseller
    before = dict(accounting.STATS)
    results = accounting.store_batch(db, [
        (nas, acct_packet("NOSUCH999", "x-1", START)),
        (nas, acct_packet(sub.username, "x-2", START)),
    ])
    assert results == [True, True]  # the router stops sending them …
    assert accounting.STATS["unknown_user"] == before.get("unknown_user", 0) + 1
    assert accounting.STATS["not_served"] == before.get("not_served", 0) + 1
    from tests.radius.accounting_fixtures import Store

    assert Store(db, nas).sessions(sub.tenant) == []  # … and nothing is stored


def test_malformed_requests_get_no_response(db, store):  # noqa: F811
    no_status = accounting.store_batch(db, [(store.nas, acct_packet("X", "y", START)),
                                            (store.nas, _without_status())])
    assert no_status == [True, False]


def _without_status():
    from radius import packet as rp

    attrs = rp.encode_attributes([("User-Name", "someone"), ("Acct-Session-Id", "abc")])
    return rp.parse(rp.sign_request(rp.ACCOUNTING_REQUEST, 3, attrs, b"x", message_authenticator=False))


def test_accounting_on_closes_the_routers_open_sessions_in_every_tenant(store, subscriber):  # noqa: F811
    first, second = subscriber(), subscriber()
    assert store(acct_packet(first.username, "on-1", START), acct_packet(second.username, "on-2", START),
                 acct_packet(first.username, "on-3", INTERIM, octets_in=10, octets_out=20)) == [True] * 3
    assert store(acct_packet(None, None, ACCOUNTING_ON)) == [True]
    for sub in (first, second):
        rows = store.sessions(sub.tenant)
        assert rows and all(r.status == "Closed" and r.terminate_cause == "NAS-Reboot" for r in rows)
    # a session that starts after the reboot is open, and a late Stop of an old one still counts its octets
    assert store(acct_packet(first.username, "on-4", START), acct_packet(
        first.username, "on-3", STOP, octets_in=15, octets_out=25, cause="NAS-Reboot")) == [True, True]
    by_id = {r.acct_session_id: r for r in store.sessions(first.tenant)}
    assert by_id["on-4"].status == "Open"
    assert (by_id["on-3"].status, by_id["on-3"].input_octets) == ("Closed", 15)
    assert store.usage_total(first.tenant, first.service_id) == (15, 25)


def test_with_the_database_down_no_accounting_response_goes_out(db, radius_server, store,  # noqa: F811
                                                                subscriber, monkeypatch):
    """The caches are warm (the NAS and the subscriber are known) but PostgreSQL refuses connections: the
    store reports nothing stored and the server stays silent; once it is back, the router's retry is
    stored and answered."""
    sub = subscriber()
    assert store(acct_packet(sub.username, "warm", START)) == [True]  # the directory now knows the subscriber
    down = Database.from_url("postgresql://postgres@127.0.0.1:1/refused", pool_size=1)
    warm = directory_for(db)
    monkeypatch.setattr(accounting, "directory_for", lambda _db: warm)
    monkeypatch.setattr(radius_server, "db", down)
    request = acct_request(sub.username, "down-1", INTERIM, octets_in=100, octets_out=200, ident=77)
    assert accounting.store_batch(down, [(store.nas, acct_packet(sub.username, "down-0", START))]) == [False]
    assert send_to_server(radius_server, request, source_port=42077, timeout=1.0) is None
    monkeypatch.setattr(radius_server, "db", db)
    assert is_accounting_response(send_to_server(radius_server, request, source_port=42077))
    assert [r.acct_session_id for r in store.sessions(sub.tenant)] == ["warm", "down-1"]
    down.engine.dispose()
