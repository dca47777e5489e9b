"""The usage evidence of a dispute: for each disputed line's service, its daily usage over the 30 days before
the invoice was issued (the reseller's calendar), copied into the dispute when it is opened.

Why a copy and not a query when someone looks: usage is purged after 24 months and the reseller's view of it
may be corrected later; a dispute is judged on what was measured when the customer objected, and both sides
must see the same figures for as long as the dispute is kept. Days without traffic are copied as zero, so the
table always covers the 30 days.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.arrangements import InvoiceDisputeUsage
from app.models.billing import Invoice
from app.services.billing import invoices
from app.services.settings import zone
from app.services.usage import rollup, views

DAYS = 30


def window(session: Session, invoice: Invoice) -> tuple[date, date]:
    """The 30 days before the invoice's issue day, both ends included."""
    issued = invoices.local_date(invoice.issued_at, zone(session))
    return issued - timedelta(days=DAYS), issued - timedelta(days=1)


def freeze(session: Session, dispute_id: int, invoice: Invoice, service_ids: list[int]) -> int:
    """Copy the window's usage of each service into the dispute; returns the rows written."""
    start, end = window(session, invoice)
    rows = [InvoiceDisputeUsage(dispute_id=dispute_id, service_id=service_id, day=d["day"], upload=d["upload"],
                                download=d["download"])
            for service_id in sorted(set(service_ids)) for d in rollup.daily(session, service_id, start, end)]
    session.add_all(rows)
    session.flush()
    return len(rows)


def of_dispute(session: Session, dispute_id: int) -> list[dict]:
    """Per service, oldest day first: the days (octets and megabytes) and their totals, and what a reader looks
    for first (summary): how many days, the busiest one (None when nothing was used) and the days without
    traffic. The figures of the days add up to the totals in octets; shown in megabytes, rounded each, they may
    differ from the total by a tenth now and then."""
    found: dict[int, list[InvoiceDisputeUsage]] = {}
    for row in session.execute(select(InvoiceDisputeUsage).where(InvoiceDisputeUsage.dispute_id == dispute_id)
                               .order_by(InvoiceDisputeUsage.service_id, InvoiceDisputeUsage.day)).scalars():
        found.setdefault(row.service_id, []).append(row)
    out = []
    for service_id, days in found.items():
        upload = sum(d.upload for d in days)
        download = sum(d.download for d in days)
        out.append({"service_id": service_id, "start": days[0].day, "end": days[-1].day,
                    "days": [{"day": d.day, "upload": d.upload, "download": d.download,
                              "upload_mb": views.mb(d.upload), "download_mb": views.mb(d.download),
                              "total_mb": views.mb(d.upload + d.download)} for d in days],
                    "totals": {"upload": upload, "download": download, "total": upload + download,
                               "upload_mb": views.mb(upload), "download_mb": views.mb(download),
                               "total_mb": views.mb(upload + download)},
                    "summary": summary(days)})
    return out


def summary(days: list[InvoiceDisputeUsage]) -> dict:
    """The count of days, the busiest (most traffic both ways, the earliest of equals) and the days without any."""
    busiest = max(days, key=lambda d: (d.upload + d.download, -d.day.toordinal()), default=None)
    if busiest is not None and busiest.upload + busiest.download == 0:
        busiest = None
    return {"days": len(days), "quiet_days": sum(1 for d in days if d.upload + d.download == 0),
            "busiest": None if busiest is None else {
                "day": busiest.day, "total": busiest.upload + busiest.download,
                "total_mb": views.mb(busiest.upload + busiest.download)}}
