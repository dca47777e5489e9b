"""Documents a customer sends with a dispute (a photo of the router, a bank statement, a screenshot of a
speed test): PDF, PNG, JPEG, CSV or plain text, 5 MB each, 5 per dispute, added while the dispute is being
looked at.

The kind is read from the bytes, never from the name or the browser's word: a file that says it is a PDF and
is a web page is refused, so nothing the reseller's team opens can run in their browser. Files are stored under
the tenant's own folder (`tenants.storage.tenant_path`) by content hash: one tenant's file is never reachable
through another's name, and the same file sent twice is kept once.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.arrangements import DISPUTE_ACTIVE, InvoiceDispute, InvoiceDisputeAttachment
from app.services.branding import storage
from app.services.errors import Conflict, Invalid, NotFound
from app.services.ids import valid_id
from tenants.storage import tenant_path

MAX_FILE = 5 * 1024 * 1024
MAX_FILES = 5
FOLDER = "invoice-disputes"
KINDS = "PDF, PNG, JPEG, CSV or plain text"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


class UnsupportedFile(Invalid):
    slug = "unsupported-file"
    title = "This kind of file is not accepted"


def sniff(data: bytes) -> tuple[str, str]:
    """(extension, content type) from the bytes themselves."""
    if data.startswith(b"%PDF-"):
        return "pdf", "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png", "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg", "image/jpeg"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text and not text.lstrip().startswith("<"):  # no HTML, no SVG
        return "txt", "text/plain"
    raise UnsupportedFile(f"file: {KINDS} only", field="file")


def _root() -> Path:
    return storage.root() / "tenants"


def path_of(stored_name: str) -> Path:
    return tenant_path(_root(), FOLDER, stored_name)


def clean_name(file_name: str | None, extension: str) -> str:
    name = _SAFE_NAME.sub("_", (file_name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip(" .")[:150]
    return name or f"document.{extension}"


def check(files: list[tuple[str | None, bytes]], already: int = 0) -> None:
    """Refuse what cannot be kept before anything is written: too many, empty, too big, or of another kind."""
    if already + len(files) > MAX_FILES:
        raise Invalid(f"file: a dispute holds at most {MAX_FILES} documents", field="file", limit=MAX_FILES)
    for _name, data in files:
        if not data:
            raise Invalid("file: the file is empty", field="file")
        if len(data) > MAX_FILE:
            raise Invalid(f"file: {len(data):,} bytes; the most allowed is {MAX_FILE:,}", field="file",
                          limit=MAX_FILE)
        sniff(data)


def add(session: Session, dispute: InvoiceDispute, file_name: str | None, data: bytes, *,
        actor: str) -> InvoiceDisputeAttachment:
    """Keep one document of a dispute that is still being looked at (the caller holds its row locked)."""
    if dispute.status not in DISPUTE_ACTIVE:
        raise Conflict(f"dispute #{dispute.id} is {dispute.status}: documents are added while it is being looked at")
    count = session.execute(select(func.count()).where(InvoiceDisputeAttachment.dispute_id == dispute.id)
                            ).scalar_one()
    check([(file_name, data)], count)
    extension, content_type = sniff(data)
    name = clean_name(file_name, extension)
    if extension == "txt" and name.lower().endswith(".csv"):
        content_type = "text/csv"
    stored = f"{hashlib.sha256(data).hexdigest()[:40]}.{extension}"
    path = path_of(stored)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".part")
        temporary.write_bytes(data)
        temporary.replace(path)
    row = InvoiceDisputeAttachment(dispute_id=dispute.id, file_name=name, stored_name=stored,
                                   content_type=content_type, size=len(data), uploaded_by=actor)
    session.add(row)
    session.flush()
    return row


def of_disputes(session: Session, dispute_ids: list[int]) -> dict[int, list[InvoiceDisputeAttachment]]:
    found: dict[int, list[InvoiceDisputeAttachment]] = {i: [] for i in dispute_ids}
    if dispute_ids:
        for row in session.execute(select(InvoiceDisputeAttachment)
                                   .where(InvoiceDisputeAttachment.dispute_id.in_(dispute_ids))
                                   .order_by(InvoiceDisputeAttachment.id)).scalars():
            found[row.dispute_id].append(row)
    return found


def read(session: Session, dispute_id: int, attachment_id: int) -> tuple[InvoiceDisputeAttachment, bytes]:
    row = session.execute(select(InvoiceDisputeAttachment).where(
        InvoiceDisputeAttachment.id == attachment_id, InvoiceDisputeAttachment.dispute_id == dispute_id)
    ).scalar_one_or_none() if valid_id(attachment_id) else None
    if row is None:
        raise NotFound(f"no document #{attachment_id} on dispute #{dispute_id}")
    try:
        return row, path_of(row.stored_name).read_bytes()
    except FileNotFoundError:
        raise NotFound(f"the file of document #{attachment_id} is missing") from None
