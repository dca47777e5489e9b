"""Fair use driven by real accounting: one notification per threshold crossed, Limited at 100 %, a data
top-up lifting it at once (and being drawn on), and the billing-cycle date restoring the service."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from app import clock
from app.models import Outbox
from app.models.usage import CoaRequest, FupState
from app.services import services
from app.services.billing import buckets, topups
from app.services.usage import fup, thresholds
from tenants import tenant_context
from tests.radius.accounting_fixtures import INTERIM, START, acct_nas, acct_packet, store  # noqa: F401

MB = 2**20


def announced(db, sub) -> list[int]:
    with tenant_context(sub.tenant), db.session() as s:
        rows = s.execute(select(Outbox).where(Outbox.template == fup.TEMPLATE).order_by(Outbox.id)).scalars()
        return [row.context["percent"] for row in rows if row.context["service_id"] == sub.service_id]


def status(db, sub) -> tuple[str, str | None]:
    with tenant_context(sub.tenant), db.session() as s:
        service = services.get(s, sub.service_id)
        return service.status, service.status_reason


def used(store, sub, megabytes: int, session_id: str = "f-1") -> None:  # noqa: F811
    """The router reports the session's download so far (upload is a small share of it)."""
    assert all(store(acct_packet(sub.username, session_id, INTERIM, octets_in=megabytes * MB // 10,
                                 octets_out=megabytes * MB - megabytes * MB // 10, session_time=60)))


def test_thresholds_limit_top_up_and_cycle_reset(db, store, subscriber):  # noqa: F811
    sub = subscriber(data_allowance_mb=100)
    assert all(store(acct_packet(sub.username, "f-1", START)))

    used(store, sub, 80)
    used(store, sub, 80)  # the same figures again: nothing new
    assert announced(db, sub) == [75]
    used(store, sub, 95)
    assert announced(db, sub) == [75, 90]
    assert status(db, sub)[0] == "Active"

    used(store, sub, 100)
    assert announced(db, sub) == [75, 90, 100]
    assert status(db, sub) == ("Limited", topups.FUP_REASON)
    with tenant_context(sub.tenant), db.session() as s:  # the router is to be told (radius/coa.py)
        coa = s.execute(select(CoaRequest).where(CoaRequest.service_id == sub.service_id)).scalars().all()
        assert [(c.kind, c.status) for c in coa] == [("CoA", "Pending")]

    with tenant_context(sub.tenant), db.session() as s:
        bought = topups.buy(s, sub.service_id, kind="data", amount="50", price="10.00")
        assert bought.restored
    assert status(db, sub)[0] == "Active"

    used(store, sub, 120)  # 20 MB beyond the allowance come out of the top-up
    assert status(db, sub)[0] == "Active"
    with tenant_context(sub.tenant), db.session() as s:
        assert buckets.balances(s, sub.service_id)["data"]["remaining"] == 30
    used(store, sub, 150)  # the top-up is used up too
    assert status(db, sub) == ("Limited", topups.FUP_REASON)
    assert announced(db, sub) == [75, 90, 100]  # each threshold once per cycle

    with tenant_context(sub.tenant), db.session() as s:
        state = s.execute(select(FupState).where(FupState.service_id == sub.service_id)).scalar_one()
        next_cycle = datetime.combine(state.cycle_end + timedelta(days=1), time(12), UTC)
        assert fup.reset_due(s, now=clock.now()) == []  # still this cycle: the limit stays
        assert fup.reset_due(s, now=next_cycle) == [sub.service_id]
        assert fup.reset_due(s, now=next_cycle) == []
    assert status(db, sub) == ("Active", fup.RESET_REASON)


def test_customer_thresholds_are_announced_once_and_unlimited_plans_are_left_alone(db, store, subscriber):  # noqa: F811
    sub = subscriber(data_allowance_mb=1000)
    with tenant_context(sub.tenant), db.session() as s:
        thresholds.set_for_service(s, sub.service_id, [50])
    used(store, sub, 400)
    assert announced(db, sub) == []
    used(store, sub, 500)
    used(store, sub, 600)
    assert announced(db, sub) == [50]

    unlimited = subscriber()
    used(store, unlimited, 10**6)
    assert announced(db, unlimited) == []
    assert status(db, unlimited)[0] == "Active"
    with tenant_context(unlimited.tenant), db.session() as s:
        assert fup.status(s, unlimited.service_id) is None
        assert s.execute(select(FupState).where(FupState.service_id == unlimited.service_id)).first() is None


def test_a_service_limited_by_dunning_is_not_restored_by_the_cycle_reset(db, store, subscriber):  # noqa: F811
    sub = subscriber(data_allowance_mb=100)
    with tenant_context(sub.tenant), db.session() as s:
        services.limit(s, sub.service_id, reason="unpaid invoice")
        later = clock.now() + timedelta(days=40)
        assert fup.reset_due(s, now=later) == []
    assert status(db, sub) == ("Limited", "unpaid invoice")
