"""A report's file over many tenants written by the worker (app/services/reports/export_jobs.py): on the real Redis,
by a real Dramatiq worker; the file is the one the request would have written, its progress counts the tenants,
asking again gives the same job, a job done is not run again, and nobody else (another member, another reseller's
member with the same user id, staff) reads it or its file."""

from __future__ import annotations

import json

import pytest
import redis as redis_lib
from dramatiq import Worker

from app import clock
from app.models.base import utcnow
from app.services.reports import export, export_jobs, reports, scope
from app.services.reports.periods import DateRange
from tenants import tenant_context
from tests.reports.test_reports import UTC_ZONE
from tests.resellers.conftest import add_customer


def drain(broker) -> None:
    """Run the export jobs sent so far on a real worker, then stop it."""
    runner = Worker(broker, worker_threads=1, worker_timeout=100)
    runner.start()
    try:
        broker.join("bulk", timeout=30_000)
        runner.join()
    finally:
        runner.stop()


def _month() -> DateRange:
    today = clock.today()
    return DateRange(today.replace(day=1), today, UTC_ZONE)


def _ask(client, owner, where, fmt="csv", name="customers_by_status"):
    return export_jobs.create(client, owner, name=name, range_=_month(), filters={}, fmt=fmt,
                              root=where.root.code if where.root else None, consolidated=where.consolidated,
                              total=len(where.tenants), back="/reseller/reports")


def test_a_team_members_file_is_written_by_the_worker_tenant_by_tenant(db, tree, export_broker):
    add_customer(db, tree.grandchild.tenant, "Second")
    client = export_broker.client
    with db.session() as s:
        where = scope.of_tenant(s, tree.root.tenant, consolidated=True)
    owner = export_jobs.Owner.team(tree.root.tenant, 7)
    job_id, new = _ask(client, owner, where)
    assert new and _ask(client, owner, where) == (job_id, False)  # asked again: the same job, not a second pass
    assert export_jobs.read(client, owner, job_id)["state"] == "queued"
    assert export_jobs.file(client, owner, job_id) is None

    export_jobs.queue(owner, tree.root.tenant, job_id)
    drain(export_broker)
    job = export_jobs.read(client, owner, job_id)
    assert (job["state"], job["done"], job["total"]) == ("done", 4, 4)
    content, content_type, filename = export_jobs.file(client, owner, job_id)
    expected = export.render(reports.run(db, where, "customers_by_status", _month(), {}, now=utcnow()), "csv")
    assert (content, content_type, filename) == expected
    assert tree.grandchild.code in {line.split(",")[0] for line in content.decode().splitlines()}

    with tenant_context(tree.root.tenant):
        assert export_jobs.run(db, client, owner, job_id) == "done"  # a retried message: nothing runs twice
    assert export_jobs.file(client, owner, job_id)[0] == content

    for stranger in (export_jobs.Owner.team(tree.root.tenant, 8), export_jobs.Owner.team(tree.child.tenant, 7),
                     export_jobs.Owner.staff(7)):
        assert export_jobs.read(client, stranger, job_id) is None
        assert export_jobs.file(client, stranger, job_id) is None


def test_a_staff_members_file_covers_the_reseller_they_chose_and_notes_progress(db, tree, export_broker):
    client = export_broker.client
    with db.session() as s:
        where = scope.of_platform(s, tree.child.code)
    owner = export_jobs.Owner.staff(3)
    job_id, _ = _ask(client, owner, where, fmt="xlsx", name="revenue")
    seen = []
    original = client.set

    def watching(key, value, *args, **kwargs):
        if key.endswith(job_id) and isinstance(value, str):
            seen.append(json.loads(value)["done"])
        return original(key, value, *args, **kwargs)

    client.set = watching
    try:
        assert export_jobs.run(db, client, owner, job_id) == "done"  # a platform job runs without a tenant
    finally:
        client.set = original
    assert seen == [0, 1, 2, 2]  # started, each tenant, done
    content, content_type, filename = export_jobs.file(client, owner, job_id)
    assert content_type == export.CONTENT_TYPES["xlsx"] and filename.startswith("revenue_") and content[:2] == b"PK"


def test_only_a_scope_of_many_tenants_is_a_job(db, tree, monkeypatch):
    with db.session() as s:
        alone = scope.of_tenant(s, tree.root.tenant)
        tree_scope = scope.of_tenant(s, tree.root.tenant, consolidated=True)
    assert not export_jobs.needs_job(alone) and not export_jobs.needs_job(tree_scope)
    monkeypatch.setattr(export_jobs, "INLINE_TENANTS", 3)
    assert export_jobs.needs_job(tree_scope) and not export_jobs.needs_job(alone)


def test_an_unknown_format_is_refused_and_nothing_is_kept(redis_url, db, tree):
    client = redis_lib.Redis.from_url(redis_url)
    with db.session() as s:
        where = scope.of_tenant(s, tree.root.tenant)
    with pytest.raises(ValueError, match="unknown format"):
        _ask(client, export_jobs.Owner.team(tree.root.tenant, 1), where, fmt="pdf")
    assert export_jobs.read(client, export_jobs.Owner.team(tree.root.tenant, 1), "nonexistent") is None
