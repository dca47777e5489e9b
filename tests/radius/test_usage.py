"""Daily usage (the portal's charts and billing read it), stale sessions, and the daily upkeep job."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import insert, select, update

from app import clock
from app.models.usage import RadiusSession, UsageDaily
from app.services import usage
from app.services.errors import Invalid
from app.services.settings import put_setting
from app.services.usage import sessions, thresholds
from tenants import tenant_context
from tests.radius.accounting_fixtures import INTERIM, START, STOP, acct_nas, acct_packet, store  # noqa: F401


def test_usage_is_rolled_up_per_day_of_the_resellers_calendar(db, store, subscriber):  # noqa: F811
    sub = subscriber()
    with tenant_context(sub.tenant), db.session() as s:
        put_setting(s, "timezone", "Africa/Nairobi")  # UTC+3
    now = int(clock.now().timestamp())
    nairobi_today = (clock.now() + timedelta(hours=3)).date()
    two_days_ago = now - 2 * 86400
    assert all(store(
        acct_packet(sub.username, "d-1", START, event_timestamp=two_days_ago - 60),
        acct_packet(sub.username, "d-1", INTERIM, octets_in=1000, octets_out=4000, event_timestamp=two_days_ago),
    ))
    assert all(store(acct_packet(sub.username, "d-1", INTERIM, octets_in=1500, octets_out=10000,
                                 event_timestamp=now)))
    with tenant_context(sub.tenant), db.session() as s:
        days = usage.daily(s, sub.service_id, nairobi_today - timedelta(days=3), nairobi_today)
    assert [d["day"] for d in days] == [nairobi_today - timedelta(days=n) for n in (3, 2, 1, 0)]
    assert [(d["upload"], d["download"]) for d in days] == [(0, 0), (1000, 4000), (0, 0), (500, 6000)]


def test_a_daily_usage_query_is_bounded_and_ordered(db, subscriber):  # noqa: F811
    sub = subscriber()
    with tenant_context(sub.tenant), db.session() as s:
        with pytest.raises(Invalid):
            usage.daily(s, sub.service_id, date(2026, 2, 1), date(2026, 1, 1))
        with pytest.raises(Invalid):
            usage.daily(s, sub.service_id, date(2020, 1, 1), date(2026, 1, 1))


def test_stale_sessions_are_closed_and_reopened_by_a_late_interim(db, store, subscriber):  # noqa: F811
    sub = subscriber()
    long_ago = int(clock.now().timestamp()) - 3 * 3600
    assert all(store(acct_packet(sub.username, "stale-1", START, event_timestamp=long_ago),
                     acct_packet(sub.username, "fresh-1", START)))
    with tenant_context(sub.tenant), db.session() as s:
        assert sessions.close_stale(s) == 1  # 3 hours without accounting: more than 3 × 900 s
    by_id = {r.acct_session_id: r for r in store.sessions(sub.tenant)}
    assert (by_id["stale-1"].status, by_id["stale-1"].terminate_cause) == ("Closed", sessions.STALE)
    assert by_id["fresh-1"].status == "Open"
    # the router was only unreachable: its next Interim reopens the session, a Stop closes it for good
    assert all(store(acct_packet(sub.username, "stale-1", INTERIM, octets_in=10, octets_out=10)))
    assert store.sessions(sub.tenant, acct_session_id="stale-1")[0].status == "Open"
    assert all(store(acct_packet(sub.username, "stale-1", STOP, octets_in=20, octets_out=20, cause="User-Request"),
                     acct_packet(sub.username, "stale-1", INTERIM, octets_in=15, octets_out=15)))
    row = store.sessions(sub.tenant, acct_session_id="stale-1")[0]
    assert (row.status, row.terminate_cause, row.input_octets) == ("Closed", "User-Request", 20)


@pytest.fixture
def worker_db(db, monkeypatch):
    import worker.broker

    monkeypatch.setattr(worker.broker, "database", lambda: db)


def test_the_daily_job_closes_stale_sessions_and_purges_by_retention(db, store, subscriber, worker_db):  # noqa: F811
    from worker.actors.usage import usage_daily

    sub = subscriber()
    assert all(store(acct_packet(sub.username, "old-1", START), acct_packet(sub.username, "old-2", START)))
    today = clock.today()
    with tenant_context(sub.tenant), db.session() as s:
        put_setting(s, "radius", {"session_retention_days": 30})
        s.execute(update(RadiusSession).where(RadiusSession.acct_session_id == "old-1").values(
            status="Closed", stopped_at=clock.now() - timedelta(days=31)))
        s.execute(update(RadiusSession).where(RadiusSession.acct_session_id == "old-2").values(
            updated_at=clock.now() - timedelta(hours=2)))
        s.execute(insert(UsageDaily).values([
            {"service_id": sub.service_id, "day": today - timedelta(days=800), "upload": 1, "download": 1},
            {"service_id": sub.service_id, "day": today - timedelta(days=400), "upload": 2, "download": 2}]))
    with tenant_context(sub.tenant):
        done = usage_daily.fn(today.isoformat())
        again = usage_daily.fn(today.isoformat())
    assert (done["stale_closed"], done["sessions_purged"], done["usage_purged"]) == (1, 1, 1)
    assert (again["stale_closed"], again["sessions_purged"], again["usage_purged"]) == (0, 0, 0)
    remaining = store.sessions(sub.tenant)
    assert [(r.acct_session_id, r.status, r.terminate_cause) for r in remaining] == [
        ("old-2", "Closed", sessions.STALE)]
    with tenant_context(sub.tenant), db.session() as s:
        s.execute(update(RadiusSession).where(RadiusSession.acct_session_id == "old-2").values(
            stopped_at=clock.now() - timedelta(days=40)))
        kept = s.execute(select(UsageDaily.day).where(UsageDaily.service_id == sub.service_id)).scalars().all()
    assert kept == [today - timedelta(days=400)]  # 24 months are kept
    with tenant_context(sub.tenant):
        assert usage_daily.fn(today.isoformat())["sessions_purged"] == 1
    assert store.sessions(sub.tenant) == []


def test_customer_thresholds_are_validated_and_replaced(db, subscriber):  # noqa: F811
    sub = subscriber()
    with tenant_context(sub.tenant), db.session() as s:
        assert thresholds.set_for_service(s, sub.service_id, [50, 80, 50]) == [50, 80]
        assert thresholds.set_for_service(s, sub.service_id, [60]) == [60]
        assert thresholds.of_service(s, sub.service_id) == [60]
        assert thresholds.for_services(s, [sub.service_id]) == {sub.service_id: [60, 75, 90, 100]}
        for bad in ([0], [101], ["50"], [True], list(range(1, 13))):
            with pytest.raises(Invalid):
                thresholds.set_for_service(s, sub.service_id, bad)


def test_demo_usage_is_seeded_once_and_read_back_by_the_chart(db, subscriber):  # noqa: F811
    from app.services.usage.demo import seed_usage

    sub = subscriber()
    today = date(2026, 11, 22)
    with tenant_context(sub.tenant), db.session() as s:
        assert seed_usage(s, sub.service_id, days=30, today=today) == 30
        assert seed_usage(s, sub.service_id, days=30, today=today) == 0
        days = usage.daily(s, sub.service_id, today - timedelta(days=30), today - timedelta(days=1))
    assert len(days) == 30 and all(d["download"] > d["upload"] > 0 for d in days)
