"""The privacy work of each tenant's day (`privacy_daily`, sent by the scheduler):

- exports past their 7 days are expired and their files removed: a copy of everything about a person does
  not stay on disk because nobody came back for it;
- an export still Queued an hour after it was asked for (its job lost: Redis down at the commit), or still
  Building well past the job's time limit (the worker killed), is sent to the worker again; building is
  idempotent, so a duplicate costs work and changes nothing;
- temporary files of builds that were cut short are removed;
- the e-mail that told a customer their account was deleted went to the address just erased: once it has
  been sent (or has failed for good), its outbox row is scrubbed like the customer's other e-mails.

Running it twice, or on a day it missed, does the same.
"""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app import clock
from app.models import Outbox
from app.models.privacy import DataExport, DeletionRequest
from app.services.privacy import erasure, exports

LOST_AFTER = timedelta(hours=1)
STALE_BUILD = timedelta(hours=2)  # twice the job's time limit (worker/actors/privacy.py)
TEMPORARY_FILES_AFTER = timedelta(days=1)


def sweep(session: Session) -> dict[str, int]:
    now = clock.now()
    done = {"expired": 0, "resent": 0, "temporary_files": 0, "scrubbed": 0}
    for row in session.execute(select(DataExport).where(DataExport.status == "Ready", DataExport.expires_at <= now)
                               .with_for_update(skip_locked=True)).scalars():
        row.status = "Expired"
        if row.stored_name:
            exports.remove_after_commit(session, row.stored_name)
        done["expired"] += 1
    lost = session.execute(select(DataExport.id).where(or_(
        (DataExport.status == "Queued") & (DataExport.requested_at < now - LOST_AFTER),
        (DataExport.status == "Building") & (DataExport.started_at < now - STALE_BUILD)))).scalars().all()
    for export_id in lost:
        exports.queue_after_commit(session, export_id)
        done["resent"] += 1
    done["temporary_files"] = _remove_temporary_files()
    for request in session.execute(select(DeletionRequest).where(DeletionRequest.final_outbox_id.is_not(None))
                                   .with_for_update(skip_locked=True)).scalars():
        row = session.get(Outbox, request.final_outbox_id)
        if row is not None and row.status == "pending":
            continue
        if row is not None:
            row.to_address, row.subject, row.body_text, row.body_html, row.context = (
                "[removed]", "[removed]", erasure.SCRUBBED, None, {})
        request.final_outbox_id = None
        done["scrubbed"] += 1
    return done


def _remove_temporary_files() -> int:
    folder = exports.folder()
    if not folder.is_dir():
        return 0
    cutoff = time.time() - TEMPORARY_FILES_AFTER.total_seconds()  # file times are the file system's own clock
    removed = 0
    for path in folder.glob(".export-*.tmp"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed
