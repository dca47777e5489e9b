"""Billing jobs: billing runs, the daily bill of customers whose billing day it is, invoice PDFs.

All three are tenant-scoped (the tenant travels in the message, worker/middleware.py) and idempotent:

- `run_billing(run_id)`: does or resumes a billing run (app/services/billing/runs.py). A job for a run
  another worker is doing leaves at once; a job killed half-way is simply sent again (from the API or the
  CLI) and carries on; the billing keys make a customer billed once whatever happens.
- `bill_customers_due(on_iso)`: the daily scheduler sends it per tenant with the tenant's local date;
  customers whose billing day that is are billed for that month, under the same billing keys as a
  full run of the month, so the two never bill anyone twice.
- `render_invoice_pdf(invoice_id)`: draws the PDF into the cache after an issue (pdfs.py); a PDF already
  drawn for the same document is not drawn again.

No automatic retries for runs: a run that failed is visible (status `failed`, errors per customer) and is
started again by a person, which resumes it. PDFs retry a few times (a full disk, a brand being edited).
"""

from __future__ import annotations

from datetime import date

import dramatiq

from app.services.billing import pdfs, runs
from worker import broker as runtime


@dramatiq.actor(broker=runtime.broker, queue_name="billing", max_retries=0, time_limit=6 * 3600 * 1000)
def run_billing(run_id: int, batch_size: int = runs.BATCH) -> None:
    runs.run(runtime.database(), run_id, batch_size=batch_size)


@dramatiq.actor(broker=runtime.broker, queue_name="billing", max_retries=3, time_limit=3600 * 1000)
def bill_customers_due(on_iso: str) -> None:
    runs.bill_due(runtime.database(), date.fromisoformat(on_iso))


@dramatiq.actor(broker=runtime.broker, queue_name="documents", max_retries=3, min_backoff=2_000,
                time_limit=120_000)
def render_invoice_pdf(invoice_id: int) -> None:
    with runtime.database().session() as session:
        pdfs.invoice_pdf(session, invoice_id)
