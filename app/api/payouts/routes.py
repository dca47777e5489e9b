"""Commission payouts and disputes: what a reseller sees and disputes under /reseller/api/commissions, and
what the master ISP decides under /console/api/resellers/<code>/ (the payout schedule, approving and paying
payouts, settling disputes).

Console views run without a tenant: each enters the reseller's tenant context and works in a transaction
of its own on that reseller's schema (its payouts, lines and disputes live there), and answers from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import g
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from app.api.payouts import schemas as s
from app.api.payouts.access import mine
from app.models.payouts import CommissionDispute, Payout
from app.services import tenants as tenant_svc
from app.services.auth.principal import USER
from app.services.commissions import disputes, payouts, statement
from app.web import db_session, downloads, state
from app.web.auth import requires
from tenants import tenant_context

blp = Blueprint("commission_payouts", __name__, url_prefix="/reseller/api/commissions",
                description="Commission payouts, statements, the payout schedule and disputes")
console_blp = Blueprint("commission_payouts_console", __name__, url_prefix="/console/api/resellers",
                        description="Resellers' commission payouts, payout schedules and disputes")
BLUEPRINTS = [blp, console_blp]
KINDS = (USER,)
STAFF = ("staff",)
PDF = {"responses": {"200": {"description": "the commission statement", "content": {
    "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}}
FILE = {"responses": {"200": {"description": "the document as uploaded", "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}}
_PAYOUT = tuple(s.PayoutOut().fields)
_LINE = tuple(s.PayoutLineOut().fields)
_ADJUSTMENT = tuple(s.CommissionAdjustmentOut().fields)


# -- presenting ---------------------------------------------------------------------------------------------

def payout_out(session: Session, payout: Payout, *, with_lines: bool = False) -> dict:
    out = {name: getattr(payout, name) for name in _PAYOUT}
    if with_lines:
        out["lines"] = [{name: getattr(line, name) for name in _LINE} for line in payouts.lines(session, payout.id)]
    return out


def disputes_out(session: Session, rows: list[CommissionDispute]) -> list[dict]:
    ids = [d.id for d in rows]
    lines, files = disputes.disputed_lines(session, ids), disputes.attachments(session, ids)
    return [{**{c: getattr(d, c) for c in ("id", "payout_id", "status", "message", "disputed_amount",
                                           "adjusted_amount", "adjustment_line_id", "resolution_note", "opened_by",
                                           "resolved_by", "resolved_at", "created_at")},
             "lines": [{"line_id": r.line_id, "amount": r.amount, "previous_status": r.previous_status}
                       for r in lines[d.id]],
             "attachments": [{c: getattr(a, c) for c in ("id", "file_name", "content_type", "size", "uploaded_by",
                                                         "created_at")} for a in files[d.id]]}
            for d in rows]


def schedule_out(found: payouts.Schedule, *, mask: bool) -> dict:
    return {"frequency": found.frequency, "processing_day": found.processing_day,
            "minimum_threshold": found.minimum_threshold, "method": found.method, "currency": found.currency,
            "dispute_window_days": found.dispute_window_days,
            "details": payouts.masked(found.details) if mask else found.details, "configured": found.configured,
            "updated_at": found.updated_at, "updated_by": found.updated_by}


def history_out(session: Session, payout_id: int) -> list[dict]:
    payouts.get(session, payout_id)
    return [{name: getattr(row, name) for name in _ADJUSTMENT} for row in payouts.history(session, payout_id=payout_id)]


def _page(rows: list[dict], total: int, args: dict) -> dict:
    return {"items": rows, "total": total, "page": args["page"], "per_page": args["per_page"]}


# -- the reseller's side -----------------------------------------------------------------------------------

@blp.route("/payouts")
@requires("finance.view", kinds=KINDS)
@blp.arguments(s.PayoutListArgs, location="query")
@blp.response(200, s.PayoutPage)
def list_payouts(args):
    """Your commission payouts, newest period first, a page at a time, with the total."""
    session = mine()
    rows, total = payouts.list_payouts(session, **args)
    return _page([payout_out(session, p) for p in rows], total, args)


@blp.route("/payouts/<int:payout_id>")
@requires("finance.view", kinds=KINDS)
@blp.response(200, s.PayoutDetailOut)
def get_payout(payout_id):
    """One payout with its lines: earnings, reversals, adjustments and what was brought forward."""
    session = mine()
    return payout_out(session, payouts.get(session, payout_id), with_lines=True)


@blp.route("/payouts/<int:payout_id>/statement")
@requires("finance.view", kinds=KINDS)
@blp.doc(**PDF)
def payout_statement(payout_id):
    """The payout's commission statement as a PDF in your brand."""
    return downloads.pdf(*statement.statement_pdf(mine(), payout_id))


@blp.route("/payouts/<int:payout_id>/history")
@requires("finance.view", kinds=KINDS)
@blp.response(200, s.CommissionAdjustmentOut(many=True))
def payout_history(payout_id):
    """The audit trail of a payout: built, disputed lines, settlements and adjustments, approval, payment —
    each with who, when, before and after, and why."""
    return history_out(mine(), payout_id)


@blp.route("/payout-schedule")
@requires("finance.view", kinds=KINDS)
@blp.response(200, s.PayoutScheduleOut)
def get_schedule():
    """When and how the master ISP pays you (payment details show their last four characters)."""
    return schedule_out(payouts.schedule(mine()), mask=True)


@blp.route("/disputes", methods=["POST"])
@requires("finance.billing", kinds=KINDS)
@blp.arguments(s.CommissionDisputeIn)
@blp.response(201, s.CommissionDisputeOut)
def open_dispute(body):
    """Dispute lines of one statement, within its window (5 business days after it was issued unless your
    schedule says otherwise): the lines are held out of any unpaid payout until the master ISP settles it."""
    session = mine()
    dispute = disputes.open_dispute(session, body["line_ids"], body["message"], actor=g.principal.actor)
    return disputes_out(session, [dispute])[0]


@blp.route("/disputes")
@requires("finance.view", kinds=KINDS)
@blp.arguments(s.DisputeListArgs, location="query")
@blp.response(200, s.CommissionDisputePage)
def list_disputes(args):
    """Your disputes, newest first."""
    session = mine()
    rows, total = disputes.list_disputes(session, **args)
    return _page(disputes_out(session, rows), total, args)


@blp.route("/disputes/<int:dispute_id>")
@requires("finance.view", kinds=KINDS)
@blp.response(200, s.CommissionDisputeOut)
def get_dispute(dispute_id):
    """One dispute: its lines, documents and how it was settled."""
    session = mine()
    return disputes_out(session, [disputes.get(session, dispute_id)])[0]


@blp.route("/disputes/<int:dispute_id>/attachments", methods=["POST"])
@requires("finance.billing", kinds=KINDS)
@blp.arguments(s.DisputeFileIn, location="files")
@blp.response(201, s.DisputeAttachmentOut)
def add_attachment(files, dispute_id):
    """Attach a supporting document to an Open dispute: PDF, PNG, JPEG, CSV or text, 5 MB, 5 per dispute."""
    upload = files["file"]
    data = upload.read(disputes.MAX_FILE + 1) if hasattr(upload, "read") else b""
    row = disputes.add_attachment(mine(), dispute_id, getattr(upload, "filename", None), data,
                                  actor=g.principal.actor)
    return {c: getattr(row, c) for c in ("id", "file_name", "content_type", "size", "uploaded_by", "created_at")}


@blp.route("/disputes/<int:dispute_id>/attachments/<int:attachment_id>")
@requires("finance.view", kinds=KINDS)
@blp.doc(**FILE)
def get_attachment(dispute_id, attachment_id):
    """Download a document attached to a dispute."""
    return downloads.uploaded(*disputes.attachment(mine(), dispute_id, attachment_id))


# -- the master ISP's side ---------------------------------------------------------------------------------

@contextmanager
def reseller(code: str) -> Iterator[Session]:
    """A transaction of its own in the reseller's schema (committed when the block ends without error)."""
    tenant = tenant_svc.ref(tenant_svc.get(db_session(), code))
    with tenant_context(tenant), state().db.session() as session:
        yield session


@console_blp.route("/<string:code>/payout-schedule")
@requires(kinds=STAFF)
@console_blp.response(200, s.PayoutScheduleOut)
def console_get_schedule(code):
    """A reseller's payout schedule, payment details included."""
    with reseller(code) as session:
        return schedule_out(payouts.schedule(session), mask=False)


@console_blp.route("/<string:code>/payout-schedule", methods=["PUT"])
@requires(kinds=STAFF)
@console_blp.arguments(s.PayoutScheduleIn)
@console_blp.response(200, s.PayoutScheduleOut)
def console_set_schedule(body, code):
    """Set a reseller's payout schedule: frequency, processing day (1-28), minimum (50-1000), method,
    currency, dispute window and payment details (encrypted at rest). Audited."""
    with reseller(code) as session:
        return schedule_out(payouts.set_schedule(session, actor=g.principal.actor, **body), mask=False)


@console_blp.route("/<string:code>/payouts")
@requires(kinds=STAFF)
@console_blp.arguments(s.PayoutListArgs, location="query")
@console_blp.response(200, s.PayoutPage)
def console_list_payouts(args, code):
    """A reseller's payouts, newest period first."""
    with reseller(code) as session:
        rows, total = payouts.list_payouts(session, **args)
        return _page([payout_out(session, p) for p in rows], total, args)


@console_blp.route("/<string:code>/payouts/<int:payout_id>")
@requires(kinds=STAFF)
@console_blp.response(200, s.PayoutDetailOut)
def console_get_payout(code, payout_id):
    """One of a reseller's payouts, with its lines."""
    with reseller(code) as session:
        return payout_out(session, payouts.get(session, payout_id), with_lines=True)


@console_blp.route("/<string:code>/payouts/<int:payout_id>/statement")
@requires(kinds=STAFF)
@console_blp.doc(**PDF)
def console_payout_statement(code, payout_id):
    """The payout's commission statement, as the reseller gets it."""
    with reseller(code) as session:
        return downloads.pdf(*statement.statement_pdf(session, payout_id))


@console_blp.route("/<string:code>/payouts/<int:payout_id>/history")
@requires(kinds=STAFF)
@console_blp.response(200, s.CommissionAdjustmentOut(many=True))
def console_payout_history(code, payout_id):
    """The audit trail of one of a reseller's payouts."""
    with reseller(code) as session:
        return history_out(session, payout_id)


@console_blp.route("/<string:code>/payouts/<int:payout_id>/approve", methods=["POST"])
@requires(kinds=STAFF)
@console_blp.arguments(s.PayoutApproveIn)
@console_blp.response(200, s.PayoutOut)
def console_approve_payout(body, code, payout_id):
    """Approve a Scheduled payout for payment (audited)."""
    with reseller(code) as session:
        return payout_out(session, payouts.approve(session, payout_id, actor=g.principal.actor, note=body["note"]))


@console_blp.route("/<string:code>/payouts/<int:payout_id>/pay", methods=["POST"])
@requires(kinds=STAFF)
@console_blp.arguments(s.PayoutPayIn)
@console_blp.response(200, s.PayoutOut)
def console_pay_payout(body, code, payout_id):
    """Record an Approved payout as paid: method, reference and, in another currency, the rate of the day
    (the converted amount is rounded half-up to the cent). Its lines become Paid. Audited."""
    with reseller(code) as session:
        return payout_out(session, payouts.mark_paid(session, payout_id, actor=g.principal.actor, **body))


@console_blp.route("/<string:code>/disputes")
@requires(kinds=STAFF)
@console_blp.arguments(s.DisputeListArgs, location="query")
@console_blp.response(200, s.CommissionDisputePage)
def console_list_disputes(args, code):
    """A reseller's disputes, newest first (`status=Open`: those waiting for a decision)."""
    with reseller(code) as session:
        rows, total = disputes.list_disputes(session, **args)
        return _page(disputes_out(session, rows), total, args)


@console_blp.route("/<string:code>/disputes/<int:dispute_id>")
@requires(kinds=STAFF)
@console_blp.response(200, s.CommissionDisputeOut)
def console_get_dispute(code, dispute_id):
    """One of a reseller's disputes."""
    with reseller(code) as session:
        return disputes_out(session, [disputes.get(session, dispute_id)])[0]


@console_blp.route("/<string:code>/disputes/<int:dispute_id>/attachments/<int:attachment_id>")
@requires(kinds=STAFF)
@console_blp.doc(**FILE)
def console_get_attachment(code, dispute_id, attachment_id):
    """Download a document the reseller attached to a dispute."""
    with reseller(code) as session:
        return downloads.uploaded(*disputes.attachment(session, dispute_id, attachment_id))


@console_blp.route("/<string:code>/disputes/<int:dispute_id>/resolve", methods=["POST"])
@requires(kinds=STAFF)
@console_blp.arguments(s.DisputeResolveIn)
@console_blp.response(200, s.CommissionDisputeOut)
def console_resolve_dispute(body, code, dispute_id):
    """Settle an Open dispute: Adjusted to `adjusted_amount` (a new line pays or takes back the difference)
    or Rejected (the lines go back to what they were). Audited."""
    with reseller(code) as session:
        dispute = disputes.resolve(session, dispute_id, actor=g.principal.actor, **body)
        return disputes_out(session, [dispute])[0]
