"""CoA and Disconnect (RFC 5176) received by a test NAS: a UDP listener that checks the Request
Authenticator and the Message-Authenticator under the shared secret and answers ACK or NAK."""

from __future__ import annotations

import hashlib
import hmac
import socket
import struct
import threading

import pytest
from dramatiq import Worker
from sqlalchemy import select

from app.models.usage import CoaRequest
from app.services import services
from radius import coa
from radius import packet as rp
from tenants import tenant_context
from tests.brokers import bound_broker
from tests.radius.accounting_fixtures import START, STOP, acct_nas, acct_packet  # noqa: F401
from tests.radius.conftest import SECRET, wait_for


class TestNas:
    """A router's dynamic-authorization port: verifies what it gets and answers as told."""

    __test__ = False

    def __init__(self, secret: str = SECRET):
        self.secret = secret.encode()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received: list[rp.Packet] = []
        self.rejected = 0
        self.answer = "ACK"
        self.error_cause: int | None = None
        self.silent = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> TestNas:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()

    def valid(self, data: bytes, request: rp.Packet) -> bool:
        expected = hashlib.md5(data[:4] + bytes(16) + data[20:] + self.secret).digest()  # noqa: S324 - RFC 5176
        if not hmac.compare_digest(expected, request.authenticator) or request.ma_offset is None:
            return False
        zeroed = data[:4] + bytes(16) + data[20:request.ma_offset] + bytes(16) + data[request.ma_offset + 16:]
        return hmac.compare_digest(hmac.new(self.secret, zeroed, "md5").digest(),
                                   data[request.ma_offset:request.ma_offset + 16])

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, source = self.sock.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            request = rp.parse(data)
            if not self.valid(data, request):
                self.rejected += 1
                continue
            self.received.append(request)
            if self.silent:
                continue
            ack = request.code == rp.DISCONNECT_REQUEST and rp.DISCONNECT_ACK or rp.COA_ACK
            nak = request.code == rp.DISCONNECT_REQUEST and rp.DISCONNECT_NAK or rp.COA_NAK
            attrs = struct.pack("!BBI", 101, 6, self.error_cause) if self.answer == "NAK" and self.error_cause else b""
            self.sock.sendto(rp.sign_reply(ack if self.answer == "ACK" else nak, request.id, request.authenticator,
                                           attrs, self.secret), source)


@pytest.fixture
def test_nas():
    nas = TestNas().start()
    yield nas
    nas.stop()


@pytest.fixture
def live(db, acct_nas, test_nas, subscriber):  # noqa: F811
    """An Active subscriber with one open session on a NAS whose CoA port is the test listener."""
    from tests.radius.accounting_fixtures import Store

    store = Store(db, acct_nas(coa_port=test_nas.port))  # noqa: F811
    sub = subscriber(limited_download_kbps=1024, limited_upload_kbps=512)
    assert all(store(acct_packet(sub.username, "coa-1", START, framed_ip="10.9.8.7")))
    sub.store = store  # the same NAS row for later accounting
    return sub


def requests_of(db, sub) -> list[CoaRequest]:
    with tenant_context(sub.tenant), db.session() as s:
        return list(s.execute(select(CoaRequest).where(CoaRequest.service_id == sub.service_id)
                              .order_by(CoaRequest.id)).scalars())


def send_all(db, sub, **kwargs) -> list[str]:
    out = []
    for row in requests_of(db, sub):
        with tenant_context(sub.tenant), db.session() as s:
            out.append(coa.send(s, row.id, **kwargs))
    return out


def test_limiting_sends_a_coa_with_the_reduced_rate_and_the_ack_is_recorded(db, live, test_nas):
    with tenant_context(live.tenant), db.session() as s:
        services.limit(s, live.service_id, reason="FUP: allowance used up")
    assert send_all(db, live) == ["ACK"]
    [request] = test_nas.received
    assert request.code == rp.COA_REQUEST
    assert request.string(rp.USER_NAME) == live.username
    assert request.value("Acct-Session-Id") == "coa-1"
    assert request.value("Framed-IP-Address") == "10.9.8.7"
    assert request.value("Mikrotik-Rate-Limit") == "512k/1024k"
    [row] = requests_of(db, live)
    assert (row.kind, row.status, row.result, row.attempts) == ("CoA", "Done", "ACK", 1)
    assert row.attributes["Mikrotik-Rate-Limit"] == ["512k/1024k"]
    assert send_all(db, live) == ["skipped"]  # done is done: a second job sends nothing
    assert len(test_nas.received) == 1


def test_a_plan_upgrade_sends_the_new_rate(db, live, test_nas, make_plan):
    from app.services import catalogue, service_requests

    faster = make_plan(download_kbps=50000, upload_kbps=10000)
    with db.session() as s:
        catalogue.authorise(s, faster.id, live.tenant.id)
    with tenant_context(live.tenant), db.session() as s:
        service_requests.create(s, live.service_id, "upgrade", {"plan_id": faster.id})
    assert send_all(db, live) == ["ACK"]
    [request] = test_nas.received
    assert request.code == rp.COA_REQUEST
    assert request.value("Mikrotik-Rate-Limit") == "10000k/50000k"
    assert requests_of(db, live)[0].trigger.startswith("plan ")


def test_suspension_disconnects_and_a_nak_is_recorded_with_its_error_cause(db, live, test_nas):
    test_nas.answer, test_nas.error_cause = "NAK", 503  # Session-Context-Not-Found
    with tenant_context(live.tenant), db.session() as s:
        services.suspend(s, live.service_id, reason="unpaid")
    assert send_all(db, live) == ["NAK"]
    [request] = test_nas.received
    assert request.code == rp.DISCONNECT_REQUEST  # the default policy rejects a suspended customer
    assert request.value("Mikrotik-Rate-Limit") is None
    [row] = requests_of(db, live)
    assert (row.kind, row.status, row.result, row.error_cause) == ("Disconnect", "Done", "NAK", 503)


def test_a_suspension_under_the_payment_page_policy_is_a_coa_into_the_payment_page(db, live, test_nas):
    from app.services.settings import put_setting

    with tenant_context(live.tenant), db.session() as s:
        put_setting(s, "radius", {"suspended_action": "payment_page"})
    with tenant_context(live.tenant), db.session() as s:
        services.suspend(s, live.service_id, reason="unpaid")
    assert send_all(db, live) == ["ACK"]
    [request] = test_nas.received
    assert request.code == rp.COA_REQUEST
    assert request.value("Mikrotik-Address-List") == "backhaul-payment-page"


def test_no_answer_is_retried_then_failed_and_ended_sessions_are_not_bothered(db, live, test_nas):
    test_nas.silent = True
    with tenant_context(live.tenant), db.session() as s:
        services.limit(s, live.service_id, reason="FUP: allowance used up")
    [row] = requests_of(db, live)
    for attempt in (1, 2):
        with tenant_context(live.tenant), db.session() as s, pytest.raises(coa.Unanswered):
            coa.send(s, row.id, timeout=0.2, max_attempts=3)
        assert requests_of(db, live)[0].attempts == attempt
    with tenant_context(live.tenant), db.session() as s:
        assert coa.send(s, row.id, timeout=0.2, max_attempts=3) == "failed"
    [row] = requests_of(db, live)
    assert (row.status, row.attempts, row.result) == ("Failed", 3, None)
    assert "no answer" in row.last_error
    assert len(test_nas.received) == 3  # each attempt reached the router

    with tenant_context(live.tenant), db.session() as s:
        services.restore(s, live.service_id, reason="top-up")  # a request for the still-open session …
    assert all(live.store(acct_packet(live.username, "coa-1", STOP, cause="User-Request")))  # … which then ends
    pending = requests_of(db, live)[-1]
    with tenant_context(live.tenant), db.session() as s:
        assert coa.send(s, pending.id) == "skipped"
    assert (requests_of(db, live)[-1].status, requests_of(db, live)[-1].attempts) == ("Done", 0)
    with tenant_context(live.tenant), db.session() as s:
        services.limit(s, live.service_id, reason="FUP: allowance used up")
    assert len(requests_of(db, live)) == 2  # no open session, nothing to tell the router
    assert len(test_nas.received) == 3


@pytest.fixture
def coa_worker(db, redis_url, monkeypatch):
    """A Dramatiq worker in this process, on a broker of its own, running `send_coa` (fast retries)."""
    from worker.actors import usage as actors

    monkeypatch.setattr(coa, "TIMEOUT", 0.3)
    with bound_broker(redis_url, monkeypatch, "coa", (actors.send_coa,), db=db,
                      options={"min_backoff": 100, "max_backoff": 200}) as broker:
        running = Worker(broker, worker_threads=1, worker_timeout=100)
        running.start()
        yield running
        running.stop()


def test_termination_reaches_the_router_through_the_worker(db, live, test_nas, coa_worker):
    """The whole path: the status change's event, the request row, the job enqueued after the commit, a
    Dramatiq worker sending the Disconnect-Request and recording the ACK."""
    with tenant_context(live.tenant), db.session() as s:
        services.terminate(s, live.service_id, reason="moved away")
    assert wait_for(lambda: [r.status for r in requests_of(db, live)] == ["Done"], timeout=10)
    [request] = test_nas.received
    assert request.code == rp.DISCONNECT_REQUEST
    [row] = requests_of(db, live)
    assert (row.kind, row.result, row.trigger) == ("Disconnect", "ACK", "status Active → Terminated: moved away")


def test_the_worker_retries_a_router_that_did_not_answer(db, live, test_nas, coa_worker):
    test_nas.silent = True
    with tenant_context(live.tenant), db.session() as s:
        services.limit(s, live.service_id, reason="FUP: allowance used up")
    assert wait_for(lambda: requests_of(db, live)[0].attempts >= 1, timeout=10)
    test_nas.silent = False
    assert wait_for(lambda: requests_of(db, live)[0].status == "Done", timeout=15)
    [row] = requests_of(db, live)
    assert (row.result, row.kind) == ("ACK", "CoA") and row.attempts >= 2
    assert "no answer" in row.last_error  # what the failed attempt met stays on record


def test_requests_left_pending_are_enqueued_again(db, live, monkeypatch):
    from datetime import timedelta

    from sqlalchemy import update

    from app.models.base import utcnow

    with tenant_context(live.tenant), db.session() as s:
        services.limit(s, live.service_id, reason="FUP: allowance used up")
    resent: list[int] = []
    monkeypatch.setattr(coa, "_dispatch", resent.append)
    [row] = requests_of(db, live)
    with tenant_context(live.tenant), db.session() as s:
        assert coa.resend_pending(s) == []  # a fresh request is the worker's to send
        s.execute(update(CoaRequest).where(CoaRequest.id == row.id).values(created_at=utcnow() - timedelta(hours=1)))
        assert coa.resend_pending(s) == [row.id]
    assert resent == [row.id]
