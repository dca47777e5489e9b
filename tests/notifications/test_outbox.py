"""The e-mail outbox end to end: a row in the event's transaction, a Dramatiq job after the commit, a
real SMTP server at the other end."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from app.models import Outbox, PlatformOutbox
from app.services.notifications import flush, queue_email, send_pending
from tenants import current_tenant, tenant_context
from tests.notifications.conftest import RunningWorker, SmtpServer, free_port, queued_count, wait_for

WELCOME = {"portal_id": "ACM000001", "portal_url": "https://portal.acme.example/", "name": "Ann Example"}
LOCKOUT = {"at": datetime(2025, 3, 4, 5, 6, tzinfo=UTC), "ip": "203.0.113.7"}


def _row(db, model, outbox_id, tenant=None):
    with tenant_context(tenant), db.session() as session:
        return session.get(model, outbox_id)


def _queue(db, tenant, to="ann@example.net", template="welcome", context=WELCOME) -> int:
    with tenant_context(tenant), db.session() as session:
        return queue_email(session, to=to, template=template, context=context).id


def test_a_tenant_email_is_delivered_with_the_tenants_brand(db, make_tenant, mail_worker, smtp_server):
    tenant = make_tenant("MAILA", name="Acme Fibre")
    outbox_id = _queue(db, tenant)

    [message] = wait_for(lambda: smtp_server.inbox.to("ann@example.net"), what="the welcome e-mail")
    assert message["Subject"] == "Welcome to Acme Fibre"
    assert message["From"].addresses[0].display_name == "Acme Fibre"
    assert message["From"].addresses[0].addr_spec == "no-reply@test.example"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Welcome to Acme Fibre" in text and "ACM000001" in text and "https://portal.acme.example/" in text
    assert "Acme Fibre" in html and "ACM000001" in html
    assert smtp_server.inbox.envelopes == [("no-reply@test.example", ["ann@example.net"])]

    mail_worker.drain()
    row = _row(db, Outbox, outbox_id, tenant)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert row.sent_at is not None and row.context["brand"]["name"] == "Acme Fibre"


def test_the_commit_may_come_after_the_tenant_context_is_left(db, make_tenant, mail_worker, smtp_server):
    """The tenant is captured with the row: `with db.session() as s, tenant_context(t)` commits outside."""
    tenant = make_tenant("MAILB", name="Late Commit Net")
    with db.session() as session, tenant_context(tenant):
        queue_email(session, to="late@example.net", template="security/lockout", context=LOCKOUT)
    [message] = wait_for(lambda: smtp_server.inbox.to("late@example.net"), what="the lockout e-mail")
    assert message["Subject"] == "Your Late Commit Net account has been locked"
    assert "203.0.113.7" in message.get_body(("plain",)).get_content()


def test_a_rolled_back_transaction_queues_and_sends_nothing(db, make_tenant, mail_broker):
    tenant = make_tenant("MAILC")
    with pytest.raises(RuntimeError), tenant_context(tenant), db.session() as session:
        queue_email(session, to="never@example.net", template="welcome", context=WELCOME)
        raise RuntimeError("the event failed")
    with tenant_context(tenant), db.session() as session:
        assert session.scalar(select(func.count()).select_from(Outbox)) == 0
    assert queued_count(mail_broker) == 0

    _queue(db, tenant, to="kept@example.net")  # the same path, committed: exactly one job
    assert queued_count(mail_broker) == 1


def test_a_rolled_back_savepoint_takes_only_its_own_e_mail(db, make_tenant, mail_broker):
    tenant = make_tenant("MAILD")
    with tenant_context(tenant), db.session() as session:
        kept = queue_email(session, to="kept@example.net", template="welcome", context=WELCOME)
        savepoint = session.begin_nested()
        queue_email(session, to="dropped@example.net", template="welcome", context=WELCOME)
        savepoint.rollback()
        with session.begin_nested():  # a released savepoint is committed with its transaction
            inner = queue_email(session, to="inner@example.net", template="welcome", context=WELCOME)
        assert queued_count(mail_broker) == 0  # nothing before the outermost commit
    with tenant_context(tenant), db.session() as session:
        addresses = session.scalars(select(Outbox.to_address).order_by(Outbox.id)).all()
    assert addresses == ["kept@example.net", "inner@example.net"]
    assert queued_count(mail_broker) == 2
    assert {kept.id, inner.id} == set(_job_ids(mail_broker))


def _job_ids(broker) -> list[int]:
    from dramatiq import Message

    raw = broker.client.hvals(f"{broker.namespace}:email.msgs")
    return [Message.decode(data).args[0] for data in raw]


def test_platform_email_goes_through_the_platform_outbox(db, settings, mail_worker, smtp_server):
    assert current_tenant() is None
    context = {"reset_url": "https://console.test.example/reset?token=abc123", "ip": "198.51.100.2"}
    with db.session() as session:
        outbox_id = queue_email(session, to="ops@isp.example", template="security/password_reset",
                                context=context).id

    [message] = wait_for(lambda: smtp_server.inbox.to("ops@isp.example"), what="the reset e-mail")
    assert message["Subject"] == "Reset your Backhaul password"
    assert message["From"] == settings.mail_from == "Backhaul <no-reply@test.example>"
    text = message.get_body(("plain",)).get_content()
    assert "https://console.test.example/reset?token=abc123" in text
    assert "1 hour" in text and "If this wasn't you, ignore this e-mail" in text
    mail_worker.drain()
    row = _row(db, PlatformOutbox, outbox_id)
    assert row.status == "sent"
    # once delivered, the database keeps no usable copy of the single-use link
    assert "abc123" not in row.body_text and row.body_html is None and "reset_url" not in row.context


def test_sending_the_same_row_twice_delivers_it_once(db, make_tenant, mail_broker, smtp_server):
    from worker.actors.email import send_tenant_email

    tenant = make_tenant("MAILE")
    outbox_id = _queue(db, tenant, to="once@example.net")
    with tenant_context(tenant):
        send_tenant_email.send(outbox_id)  # a duplicate job, as a flush after a crash would make
        assert queued_count(mail_broker) == 2
        send_tenant_email(outbox_id)  # and the actor run directly, synchronously
        send_tenant_email(outbox_id)

    running = RunningWorker(mail_broker)
    running.worker.start()
    try:
        running.drain()
    finally:
        running.worker.stop()
    assert len(smtp_server.inbox.to("once@example.net")) == 1
    row = _row(db, Outbox, outbox_id, tenant)
    assert (row.status, row.attempts) == ("sent", 1)


def _send_mail_to(monkeypatch, url: str) -> None:
    """Point the worker's SMTP setting elsewhere (on top of what the `mail_broker` fixture set)."""
    import worker.broker

    base = worker.broker.settings()
    monkeypatch.setattr(worker.broker, "settings", lambda: dataclasses.replace(base, smtp_url=url))


def test_a_server_that_is_down_is_retried_until_it_is_back(db, make_tenant, mail_worker, monkeypatch):
    later = SmtpServer(port=free_port())  # nothing listens there yet
    _send_mail_to(monkeypatch, later.url)
    tenant = make_tenant("MAILF", name="Retry Net")
    outbox_id = _queue(db, tenant, to="retry@example.net")

    row = wait_for(lambda: (r := _row(db, Outbox, outbox_id, tenant)).attempts >= 1 and r,
                   what="a failed first attempt")
    assert row.status == "pending" and "Connection refused" in row.last_error

    later.start()
    try:
        [message] = wait_for(lambda: later.inbox.to("retry@example.net"), what="the retried e-mail")
        assert message["Subject"] == "Welcome to Retry Net"
        mail_worker.drain()
    finally:
        later.stop()
    row = _row(db, Outbox, outbox_id, tenant)
    assert row.status == "sent" and row.attempts >= 2


def test_the_last_failed_attempt_marks_the_row_failed(db, make_tenant, mail_worker, monkeypatch):
    from worker.actors.email import send_tenant_email

    monkeypatch.setitem(send_tenant_email.options, "max_retries", 1)
    _send_mail_to(monkeypatch, f"smtp://127.0.0.1:{free_port()}")
    tenant = make_tenant("MAILG")
    outbox_id = _queue(db, tenant, to="gone@example.net")

    row = wait_for(lambda: (r := _row(db, Outbox, outbox_id, tenant)).status == "failed" and r,
                   what="the row to fail")
    assert row.attempts == 2 and row.last_error
    mail_worker.drain()  # and the job is not retried any further


def test_a_refused_recipient_fails_at_once(db, make_tenant, mail_worker, smtp_server):
    tenant = make_tenant("MAILH")
    outbox_id = _queue(db, tenant, to="nobody@refuse.example")
    row = wait_for(lambda: (r := _row(db, Outbox, outbox_id, tenant)).status != "pending" and r,
                   what="the row to fail")
    assert (row.status, row.attempts) == ("failed", 1)
    assert "550" in row.last_error


def test_one_tenants_row_is_neither_visible_nor_sendable_as_another(db, make_tenant, settings, mail_broker,
                                                                    smtp_server):
    a, b = make_tenant("MAILI", name="Alpha Net"), make_tenant("MAILJ", name="Bravo Net")
    a_id = _queue(db, a, to="alice@example.net")
    mail = dataclasses.replace(settings, smtp_url=smtp_server.url)

    with tenant_context(b), db.session() as session:
        assert session.get(Outbox, a_id) is None
        assert session.scalars(select(Outbox)).all() == []
        assert send_pending(session, a_id, settings=mail) == "skipped"
    assert smtp_server.inbox.messages == []
    assert _row(db, Outbox, a_id, a).status == "pending"

    b_id = _queue(db, b, to="bob@example.net")  # ids are per schema: the same number in both tenants
    assert b_id == a_id
    with tenant_context(b), db.session() as session:
        assert send_pending(session, b_id, settings=mail) == "sent"
    [to_bob] = smtp_server.inbox.messages
    assert to_bob["To"] == "bob@example.net" and to_bob["Subject"] == "Welcome to Bravo Net"
    assert _row(db, Outbox, a_id, a).status == "pending"  # Alpha's row with that id is untouched

    with tenant_context(a), db.session() as session:
        assert send_pending(session, a_id, settings=mail) == "sent"
    assert [m["To"] for m in smtp_server.inbox.messages] == ["bob@example.net", "alice@example.net"]
    assert smtp_server.inbox.messages[1]["Subject"] == "Welcome to Alpha Net"


def test_jobs_for_the_same_id_in_two_tenants_each_send_their_own_row(db, make_tenant, mail_worker,
                                                                       smtp_server):
    a, b = make_tenant("MAILK", name="Kilo Net"), make_tenant("MAILL", name="Lima Net")
    assert _queue(db, a, to="kilo@example.net") == _queue(db, b, to="lima@example.net")
    wait_for(lambda: len(smtp_server.inbox.messages) == 2, what="both e-mails")
    subjects = {m["To"]: m["Subject"] for m in smtp_server.inbox.messages}
    assert subjects == {"kilo@example.net": "Welcome to Kilo Net", "lima@example.net": "Welcome to Lima Net"}


def test_flush_enqueues_what_is_still_pending_after_a_minute(db, make_tenant, mail_broker, smtp_server):
    tenant = make_tenant("MAILM")
    stale, sent, fresh = (_queue(db, tenant, to=f"{n}@example.net") for n in ("stale", "sent", "fresh"))
    mail_broker.flush_all()  # as if Redis had lost the jobs
    with tenant_context(tenant), db.session() as session:
        session.execute(update(Outbox).where(Outbox.id.in_([stale, sent]))
                        .values(created_at=func.now() - timedelta(minutes=5)))
        session.execute(update(Outbox).where(Outbox.id == sent).values(status="sent"))

    with tenant_context(tenant), db.session() as session:
        assert flush(session) == 1
    assert _job_ids(mail_broker) == [stale]


def test_the_flush_command_enqueues_pending_rows_of_every_tenant(db, make_tenant, mail_worker, smtp_server):
    from click.testing import CliRunner

    from app.cli import main
    from tenants import registry

    tenant = make_tenant("MAILN")
    outbox_id = _queue(db, tenant, to="flushed@example.net")
    mail_worker.drain()
    smtp_server.inbox.messages.clear()
    with tenant_context(tenant), db.session() as session:  # as if it had never been sent
        session.execute(update(Outbox).where(Outbox.id == outbox_id).values(status="pending", attempts=0))
    try:
        result = CliRunner().invoke(main, ["outbox", "flush", "--older-than", "0"], catch_exceptions=False)
    finally:
        registry.bind(db.engine)  # the command binds its own engine; give the suite's back
    assert result.exit_code == 0, result.output
    assert f"{tenant.code}: 1 message(s) enqueued again" in result.output
    wait_for(lambda: smtp_server.inbox.to("flushed@example.net"), what="the flushed e-mail")
