"""A copy of everything held about a customer, for them to download (000 "Export Options: Customer data export
upon request"; §12.2 "Personal data access").

The export can be large (years of sessions and usage, every invoice as a PDF), so a request only records it
and the worker builds it (`build`, the `build_data_export` job queued after the request commits). It is one
at a time: a request while one is waiting or being built answers with that one (a unique index holds it
against two requests racing); a new request retires the previous file, so a customer has one copy at most.
The file is a ZIP under the tenant's own folder (`tenants.storage.tenant_path`), offered for `KEEP_FOR`
(7 days) and then removed by the daily sweep (housekeeping.py); the customer is e-mailed when it is ready,
with a link to the page that downloads it, never to the file itself: the download needs the customer's
sign-in.

`build` is idempotent: a build already Ready, or one its twin is running (the row is locked), is skipped; a
crash half-way leaves a temporary file that the next attempt replaces, and the row is marked Ready only
after the finished file has been renamed into place. A build that fails is retried by the worker and, after
`MAX_ATTEMPTS`, marked Failed (the customer may ask again). Asking, downloading and what the export holds are
the customer's: support staff signed in as the customer can see that an export exists, not make or take one.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import clock
from app.db import Database
from app.models.privacy import DataExport
from app.services import activity, settings
from app.services.after_commit import AfterCommit
from app.services.auth.principal import Principal
from app.services.branding import storage
from app.services.customers import get as get_customer
from app.services.errors import NotFound, ServiceError
from app.services.privacy import archive, mail, not_for_support
from tenants import Tenant, current_tenant, tenant_context
from tenants.storage import tenant_path

log = logging.getLogger(__name__)

KEEP_FOR = timedelta(days=7)
MAX_ATTEMPTS = 3
OPEN = ("Queued", "Building")


class ExportExpired(ServiceError):
    status = 410
    slug = "export-expired"
    title = "The export has expired"


@dataclass(frozen=True)
class Download:
    path: Path
    filename: str
    size: int


def folder() -> Path:
    """The current tenant's privacy folder (`<data>/tenants/<schema>/privacy`)."""
    return tenant_path(storage.root() / "tenants", "privacy")


def _file(stored_name: str) -> Path:
    return tenant_path(storage.root() / "tenants", "privacy", stored_name)


def latest(session: Session, customer_id: int) -> DataExport | None:
    return session.execute(select(DataExport).where(DataExport.customer_id == customer_id)
                           .order_by(DataExport.id.desc()).limit(1)).scalar_one_or_none()


def _open(session: Session, customer_id: int) -> DataExport | None:
    return session.execute(select(DataExport).where(DataExport.customer_id == customer_id,
                                                    DataExport.status.in_(OPEN))).scalar_one_or_none()


def request_export(session: Session, customer_id: int, *, actor: Principal) -> tuple[DataExport, bool]:
    """Ask for a new export; returns it and whether it is new (False: the one already on its way)."""
    not_for_support(actor, "a copy of your data")
    get_customer(session, customer_id, for_update=True)
    waiting = _open(session, customer_id)
    if waiting is not None:
        return waiting, False
    retire(session, customer_id)
    made = DataExport(customer_id=customer_id, status="Queued", requested_by=actor.actor)
    try:
        with session.begin_nested():
            session.add(made)
            session.flush()
    except IntegrityError:  # another request made one between our look and our insert
        return _open(session, customer_id), False
    activity.record(session, actor, customer_id, "privacy.export_requested", export_id=made.id)
    queue_after_commit(session, made.id)
    return made, True


def retire(session: Session, customer_id: int) -> int:
    """Expire the customer's ready exports and remove their files once this transaction commits."""
    rows = session.execute(select(DataExport).where(DataExport.customer_id == customer_id,
                                                    DataExport.status.in_(("Ready", *OPEN)))
                           .with_for_update()).scalars().all()
    for row in rows:
        row.status = "Expired"
        if row.stored_name:
            _removals.add(session, row.stored_name)
    return len(rows)


def download(session: Session, customer_id: int, *, actor: Principal) -> Download:
    """The ready export's file, while it is offered."""
    not_for_support(actor, "Downloading a copy of your data")
    row = latest(session, customer_id)
    if row is None or row.status in OPEN or row.status == "Failed":
        raise NotFound("no export is ready: ask for one, or wait until it is ready")
    if row.status == "Expired" or (row.expires_at is not None and row.expires_at <= clock.now()):
        raise ExportExpired("the export was removed after 7 days: ask for a new one")
    path = _file(row.stored_name)
    if not path.is_file():
        raise ExportExpired("the export's file is no longer there: ask for a new one")
    row.downloaded_at = clock.now()
    customer = get_customer(session, customer_id)
    day = clock.today(settings.zone(session)).isoformat()
    return Download(path, f"my-data-{customer.portal_id}-{day}.zip", path.stat().st_size)


def status_of(row: DataExport | None) -> dict | None:
    """What the customer is told of an export (never the file's name on disk, nor the error's text)."""
    if row is None:
        return None
    ready = row.status == "Ready" and (row.expires_at is None or row.expires_at > clock.now())
    return {"id": row.id, "status": row.status if row.status != "Ready" or ready else "Expired",
            "requested_at": row.requested_at, "finished_at": row.finished_at,
            "expires_at": row.expires_at if ready else None, "size": row.size if ready else None,
            "sha256": row.sha256 if ready else None, "ready": ready}


# -- the worker's part -------------------------------------------------------------------------------------

def build(db: Database, export_id: int, *, max_attempts: int = MAX_ATTEMPTS) -> str:
    """Build one export (in the current tenant): "ready", "failed" or "skipped"; a failure with attempts left
    is raised, for the worker to retry."""
    with db.session() as session:
        row = session.execute(select(DataExport).where(DataExport.id == export_id)
                              .with_for_update(skip_locked=True)).scalar_one_or_none()
        if row is None or row.status not in OPEN:
            return "skipped"
        row.status, row.started_at, row.attempts = "Building", clock.now(), row.attempts + 1
        customer_id, attempts = row.customer_id, row.attempts
    stored_name = f"export-{export_id}-{secrets.token_hex(8)}.zip"
    temporary = None
    try:
        target = folder()
        target.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target, prefix=".export-", suffix=".tmp")
        with os.fdopen(handle, "wb") as out, db.session() as session:
            customer = get_customer(session, customer_id)
            archive.write(session, customer, out, clock.today(settings.zone(session)))
        digest, size = _sha256(Path(temporary))
        os.replace(temporary, _file(stored_name))
        temporary = None
        return _finish(db, export_id, customer_id, stored_name, digest, size)
    except Exception as exc:
        with contextlib.suppress(OSError):  # the disk may be what failed
            if temporary:
                Path(temporary).unlink(missing_ok=True)
            _file(stored_name).unlink(missing_ok=True)
        final = attempts >= max_attempts
        with db.session() as session:
            row = session.get(DataExport, export_id)
            if row is not None and row.status == "Building":
                row.status = "Failed" if final else "Queued"
                row.error = f"{type(exc).__name__}: {exc}"[:2000]
                row.finished_at = clock.now() if final else None
        log.exception("data export %s failed (attempt %s of %s)", export_id, attempts, max_attempts)
        if final:
            return "failed"
        raise


def _finish(db: Database, export_id: int, customer_id: int, stored_name: str, digest: str, size: int) -> str:
    """Offer the finished file, and tell the customer, in one transaction: the row says Ready only if the
    e-mail is written too."""
    with db.session() as session:
        row = session.execute(select(DataExport).where(DataExport.id == export_id).with_for_update()
                              ).scalar_one_or_none()
        if row is None or row.status != "Building":  # retired or erased while it was being built
            _file(stored_name).unlink(missing_ok=True)
            return "skipped"
        now = clock.now()
        row.status, row.finished_at, row.expires_at = "Ready", now, now + KEEP_FOR
        row.stored_name, row.size, row.sha256, row.error = stored_name, size, digest, None
        customer = get_customer(session, customer_id)
        mail.notify(session, customer, "export_ready", export_url=mail.page_url(session, mail.EXPORT_PAGE),
                    expires_on=clock.today(settings.zone(session)) + KEEP_FOR, size=size)
    return "ready"


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


# -- after the commit: the job, and files no longer wanted ------------------------------------------------

def dispatch(tenant: Tenant | None, export_id: int) -> None:
    """Send `build_data_export` in the tenant (the actor module is imported at the first send, as the other
    services' jobs are)."""
    from worker.actors import privacy as actors

    with tenant_context(tenant):
        actors.build_data_export.send(export_id)


def _remove(stored_name: str) -> None:
    _file(stored_name).unlink(missing_ok=True)


_jobs = AfterCommit("privacy-exports", lambda export_id: dispatch(current_tenant(), export_id),
                    "data export job (the daily privacy sweep sends it again)")
_removals = AfterCommit("privacy-export-files", _remove, "removal of a retired data export")


def remove_after_commit(session: Session, stored_name: str) -> None:
    _removals.add(session, stored_name)


def queue_after_commit(session: Session, export_id: int) -> None:
    _jobs.add(session, export_id)

