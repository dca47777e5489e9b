"""Buckets drawn by real accounting: a promotion, then top-ups, then the plan's allowance, each megabyte
once however the router repeats or reorders its packets; fair use's thresholds and Limited state over
the buckets; the usage API's cycle showing them; and the calls of a voice service drawn from its minutes."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.models.billing import UsageBucket
from app.models.usage import UsageRecord
from app.services.billing import topups
from tenants import tenant_context
from tests.radius.accounting_fixtures import INTERIM, START, STOP, acct_nas, acct_packet, store  # noqa: F401
from tests.radius.test_fup import announced, status
from tests.radius.test_usage_api import user_headers

MB = 2**20


def report(store, sub, session_id: str, megabytes: int, kind: str = INTERIM, **kwargs) -> None:  # noqa: F811
    assert all(store(acct_packet(sub.username, session_id, kind, octets_in=megabytes * MB // 10,
                                 octets_out=megabytes * MB - megabytes * MB // 10, session_time=60, **kwargs)))


def by_source(db, sub, kind: str = "data") -> dict[str, tuple[Decimal, Decimal]]:
    """(total, remaining) of the service's buckets of `kind`, by source."""
    with tenant_context(sub.tenant), db.session() as s:
        rows = s.execute(select(UsageBucket).where(UsageBucket.service_id == sub.service_id,
                                                   UsageBucket.kind == kind)).scalars()
        return {b.source: (b.total, b.remaining) for b in rows}


def buy(db, sub, **kwargs):
    with tenant_context(sub.tenant), db.session() as s:
        return topups.buy(s, sub.service_id, **kwargs).bucket.id


def test_accounting_draws_the_promotion_then_the_top_up_then_the_plan_and_never_twice(db, store, subscriber):  # noqa: F811
    sub = subscriber(data_allowance_mb=100)
    buy(db, sub, kind="data", amount="20", price="0", source="promotion")
    buy(db, sub, kind="data", amount="30", price="15.00", validity_days=30)
    assert all(store(acct_packet(sub.username, "d-1", START)))

    report(store, sub, "d-1", 30)
    report(store, sub, "d-1", 30)  # retransmitted
    assert by_source(db, sub) == {"promotion": (20, 0), "topup": (30, 20), "plan": (100, 100)}

    report(store, sub, "d-2", 20)  # a second session of the same service
    report(store, sub, "d-1", 60)
    report(store, sub, "d-1", 45)  # late and out of order: the counters only grow
    report(store, sub, "d-1", 60, kind=STOP, cause="User-Request")
    assert by_source(db, sub) == {"promotion": (20, 0), "topup": (30, 0), "plan": (100, 70)}  # 80 MB, once
    assert status(db, sub)[0] == "Active" and announced(db, sub) == []  # 30 % of the plan's allowance


def test_thresholds_count_what_reached_the_plan_and_a_top_up_holds_off_the_limit(client, db, store, subscriber):  # noqa: F811
    sub = subscriber(data_allowance_mb=100)
    buy(db, sub, kind="data", amount="50", price="20.00")
    assert all(store(acct_packet(sub.username, "t-1", START)))

    report(store, sub, "t-1", 80)  # 50 from the top-up, 30 from the plan
    assert announced(db, sub) == []
    report(store, sub, "t-1", 140)
    assert announced(db, sub) == [75, 90] and status(db, sub)[0] == "Active"
    report(store, sub, "t-1", 150)  # every data bucket is empty now
    assert announced(db, sub) == [75, 90, 100]
    assert status(db, sub) == ("Limited", topups.FUP_REASON)

    report(store, sub, "t-1", 160)  # at the reduced speed, with nothing left: owed to no later top-up
    buy(db, sub, kind="data", amount="20", price="10.00", validity_days=7)
    assert status(db, sub)[0] == "Active"
    report(store, sub, "t-1", 165)
    with tenant_context(sub.tenant), db.session() as s:
        tops = sorted((b.total, b.remaining) for b in s.execute(select(UsageBucket).where(
            UsageBucket.service_id == sub.service_id, UsageBucket.source == "topup")).scalars())
    assert tops == [(Decimal("20"), Decimal("15")), (Decimal("50"), Decimal("0"))]

    cycle = client.get(f"/reseller/api/services/{sub.service_id}/usage",
                       headers=user_headers(client, db, sub.tenant)).get_json()["cycle"]
    assert (cycle["used_mb"], cycle["percent"], cycle["remaining_mb"], cycle["topup_drawn_mb"],
            cycle["uncovered_mb"], cycle["state"]) == ("165.000", "110.0", "15.000", "55.000", "10.000", "exceeded")
    shown = [(b["kind"], b["source"], b["weight"], b["size"], b["used"], b["usable"], b["expires_at"] is not None)
             for b in cycle["buckets"]]
    assert shown == [("data", "topup", 20, "20.000", "5.000", True, True),
                     ("data", "topup", 20, "50.000", "50.000", False, False),
                     ("data", "plan", 30, "100.000", "100.000", False, True)]


def test_the_calls_of_a_voice_service_draw_its_minutes_once(db, store, subscriber):  # noqa: F811
    sub = subscriber(kind="voice", voice_minutes=10)
    buy(db, sub, kind="voice", amount="3", price="30.00")

    def call(session_id: str, kind: str, seconds: int) -> None:
        assert all(store(acct_packet(sub.username, session_id, kind, session_time=seconds,
                                     octets_in=seconds * 1000, octets_out=seconds * 1000)))

    call("c-1", START, 0)
    call("c-1", INTERIM, 60)
    call("c-1", INTERIM, 60)  # retransmitted
    call("c-1", STOP, 150)
    call("c-1", INTERIM, 60)  # a late Interim after the Stop
    assert by_source(db, sub, "voice") == {"topup": (3, Decimal("0.5")), "plan": (10, 10)}
    call("c-2", STOP, 90)
    assert by_source(db, sub, "voice") == {"topup": (3, 0), "plan": (10, 9)}
    with tenant_context(sub.tenant), db.session() as s:
        calls = sorted((r.source, r.quantity, r.drawn, r.uncovered) for r in s.execute(
            select(UsageRecord).where(UsageRecord.service_id == sub.service_id)).scalars())
    assert calls == [("radius", Decimal("1.5"), Decimal("1.5"), 0), ("radius", Decimal("2.5"), Decimal("2.5"), 0)]
