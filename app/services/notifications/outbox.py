"""The outbox: a message is a row written in the transaction of the event that causes it.

Why a row and not a direct send: the e-mail must exist exactly when the event does. The row commits or
rolls back with the lockout, the reset token or the new account; only once the transaction has
committed is the send job enqueued (nothing is enqueued for a rollback, so no mail describes an event
that never happened). The job then sends the row, marks it sent and commits; a row already sent is never
sent again, so running a job twice, or re-enqueueing everything still pending after a crash (`flush`),
is harmless.

Where the row lives follows the tenant context, as everything else does: a tenant's `outbox` (in its
schema, found through the transaction's `search_path`) when a tenant is current, `public.platform_outbox`
for the master ISP's staff otherwise. Outbox ids are per schema, so the same id exists in many tenants:
the job carries the tenant (the worker's tenant middleware puts it in the message), and a job can only
ever see the rows of the tenant it runs in.

The message is rendered when it is queued, not when it is sent, so what goes out is what the event saw
(a name or a brand changed a minute later does not rewrite it). `channel` is always `email` for now;
other channels will be other senders of the same rows.
"""

from __future__ import annotations

import json
import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.utils import formataddr, parseaddr

import jinja2
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Outbox, PlatformOutbox
from app.models.base import utcnow
from app.models.reports import OutboxAttachment
from app.services import branding
from app.services.after_commit import AfterCommit
from app.services.branding import rendering
from app.services.errors import Invalid
from app.services.notifications import smtp
from tenants import Tenant, current_tenant, tenant_context
from tenants.themes import BASE_CHAIN, ThemeChain

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6  # the worker's actors allow 5 retries: 6 attempts in all

OutboxRow = Outbox | PlatformOutbox


class DeliveryFailed(Exception):
    """The server could not take the message now; it stays pending and the job is retried."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


# -- rendering ----------------------------------------------------------------------------------------

def render(template: str, context: dict, chain: ThemeChain = BASE_CHAIN) -> Rendered:
    """Subject, text and HTML of `email/<template>` drawn through a theme chain; the subject is one line
    whatever the template does. Undefined names fail loudly (see branding/rendering.py)."""
    environment = rendering.environment("mail", chain)

    def one(suffix: str) -> str:
        return environment.get_template(f"email/{template}{suffix}").render(context)

    try:
        html_template = environment.get_template(f"email/{template}.html")
    except jinja2.TemplateNotFound:  # a text-only e-mail; an error inside an HTML template still raises
        html = None
    else:
        html = html_template.render(context)
    return Rendered(subject=" ".join(one(".subject.txt").split()), text=one(".txt"), html=html)


def branded_context(session: Session, tenant: Tenant | None) -> tuple[dict, ThemeChain]:
    """What every e-mail of a tenant is drawn with: its brand (logo and links on its primary host), its
    language and time zone; and the theme chain to draw it through."""
    brand = branding.brand_of(session, tenant.id if tenant is not None else None)
    host = rendering.primary_host(session, tenant.id) if tenant is not None else None
    base = _public_base(host)
    return rendering.render_context(brand, rendering.locale_of(session), base), brand.themes


def _public_base(host: str | None) -> str:
    if host is None:
        return ""
    from app.config import Settings

    return Settings.from_env().public_url(host)


# -- queueing -----------------------------------------------------------------------------------------

def queue_email(session: Session, *, to: str, template: str, context: dict,
                attachments: Sequence[tuple[str, str, bytes]] = ()) -> OutboxRow:
    """Write the e-mail into the current tenant's outbox (the platform's without a tenant), in the
    session's transaction; it is enqueued for sending when, and only if, that transaction commits.
    `attachments` ((file name, content type, content) each) are kept beside a tenant's row."""
    tenant = current_tenant()
    if attachments and tenant is None:
        raise Invalid("attachments are sent with a tenant's e-mail only")
    address = _recipient(to)
    branded, chain = branded_context(session, tenant)
    values = {**context, **branded}
    rendered = render(template, values, chain)
    row = _model(tenant)(channel="email", template=template, to_address=address, subject=rendered.subject,
                         body_text=rendered.text, body_html=rendered.html, context=_jsonable(values))
    session.add(row)
    session.flush()  # the id is what the job will carry
    for filename, content_type, content in attachments:
        session.add(OutboxAttachment(outbox_id=row.id, filename=filename, content_type=content_type, content=content))
    _committed.add(session, row.id)
    return row


def _model(tenant: Tenant | None) -> type[OutboxRow]:
    return Outbox if tenant is not None else PlatformOutbox


def _recipient(to: str) -> str:
    name, address = parseaddr(to)
    if "@" not in address or any(c in to for c in "\r\n"):
        raise Invalid(f"{to!r} is not an e-mail address")
    return formataddr((name, address)) if name else address


def _jsonable(values: dict) -> dict:
    """The context as stored for the record: dates and the like as text."""
    return json.loads(json.dumps(values, default=str))


# The rows are in the database for good only after the commit: then they go to the worker. A failure there
# (Redis down) must not look like a failed commit to the caller, whose event did happen: the row stays
# pending and `backhaul outbox flush` (or the scheduler's daily flush) picks it up.
_committed = AfterCommit("outbox", lambda outbox_id: dispatch(current_tenant(), outbox_id),
                         "outbox row (`backhaul outbox flush` will send it)")


def dispatch(tenant: Tenant | None, outbox_id: int) -> None:
    """Enqueue the send job of one row, inside the tenant's context (the tenant travels in the message).

    The worker's actors are imported here, at the first send, rather than at the top: the services stay
    importable (and testable) without a broker, and a process that never sends mail never builds one.
    This is the one place where a service reaches into `worker/`.
    """
    from worker.actors import email as actors

    actor = actors.send_tenant_email if tenant is not None else actors.send_platform_email
    with tenant_context(tenant):
        actor.send(outbox_id)


def flush(session: Session, *, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Enqueue again every row of the current outbox still pending after `older_than` (a crash between
    commit and enqueue, a Redis outage, a job lost); sending is idempotent, so a duplicate is harmless.
    Returns how many were enqueued."""
    tenant = current_tenant()
    model = _model(tenant)
    ids = session.execute(
        select(model.id).where(model.status == "pending", model.created_at < utcnow() - older_than)
        .order_by(model.id)
    ).scalars().all()
    for outbox_id in ids:
        dispatch(tenant, outbox_id)
    return len(ids)


# -- sending ------------------------------------------------------------------------------------------

def send_pending(session: Session, outbox_id: int, *, settings: Settings, max_attempts: int = MAX_ATTEMPTS) -> str:
    """Send one row of the current outbox if it is still pending; returns "sent", "skipped" or "failed".

    The row is locked (SKIP LOCKED: a second job for the same row, running at the same moment, skips it
    rather than waiting to send it again) and the outcome is committed here, because the SMTP
    conversation is outside the transaction and its result must be durable before anything else
    happens. A failure the server may get over raises DeliveryFailed, after recording the attempt, for
    the worker to retry with backoff; the last attempt, or a permanent refusal, marks the row failed.
    """
    model = _model(current_tenant())
    row = session.execute(
        select(model).where(model.id == outbox_id).with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is None or row.status != "pending":
        session.commit()
        return "skipped"
    try:
        smtp.send(_message(row, settings), settings.smtp_url)
    except (OSError, smtplib.SMTPException, smtp.NotConfigured) as exc:
        return _record_failure(session, row, exc, max_attempts)
    row.status, row.sent_at, row.attempts, row.last_error = "sent", utcnow(), row.attempts + 1, None
    if row.template in CARRIES_SECRETS:
        _redact(row)
    session.commit()
    return "sent"


# Messages whose body holds a live credential (a reset link): once delivered, the database keeps no copy.
CARRIES_SECRETS = frozenset({"security/password_reset"})
REDACTED = "[removed after delivery: it contained a single-use link]"


def _redact(row: OutboxRow) -> None:
    row.body_text = REDACTED
    row.body_html = None
    row.context = {k: v for k, v in row.context.items() if k not in ("reset_url", "token")}


def _record_failure(session: Session, row: OutboxRow, exc: BaseException, max_attempts: int) -> str:
    row.attempts += 1
    row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    final = row.attempts >= max_attempts or smtp.is_permanent(exc)
    if final:
        row.status = "failed"
    session.commit()
    if final:
        log.error("outbox %s to %s failed for good after %s attempt(s): %s", row.id, row.to_address,
                  row.attempts, row.last_error)
        return "failed"
    raise DeliveryFailed(f"outbox {row.id}: attempt {row.attempts} of {max_attempts}: {row.last_error}") from exc


def _message(row: OutboxRow, settings: Settings):
    """The e-mail of a row. A tenant's mail comes from its brand's sender name and address (white label;
    the platform's address when the brand sets none, which a reseller's own address needs SPF/DKIM for).
    Its Message-ID is fixed per row, so a rare duplicate can be recognised."""
    name, address = parseaddr(settings.mail_from)
    tenant = current_tenant()
    brand = row.context.get("brand") if isinstance(row.context.get("brand"), dict) else {}
    if tenant is not None:
        sender = formataddr((brand.get("email_sender_name") or brand.get("name") or name,
                             brand.get("email_sender_address") or address))
    else:
        sender = settings.mail_from
    scope = tenant.code.lower().replace("_", "-") if tenant is not None else "platform"
    domain = address.rpartition("@")[2] or "localhost"
    files = [] if tenant is None else [
        (a.filename, a.content_type, a.content) for a in Session.object_session(row).execute(
            select(OutboxAttachment).where(OutboxAttachment.outbox_id == row.id).order_by(OutboxAttachment.id)
        ).scalars()]
    return smtp.build_message(sender=sender, to=row.to_address, subject=row.subject, text=row.body_text,
                              html=row.body_html, message_id=f"<outbox.{row.id}.{scope}@{domain}>",
                              attachments=files)
