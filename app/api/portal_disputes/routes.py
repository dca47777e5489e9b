"""The customer's disputes and payment plans (the Disputes pages of the self-care portal call the same services,
app/services/billing/arrangements): dispute lines of one of your invoices (the usage of the 30 days before it is
attached for you), send documents, follow the answer and appeal a rejection once; ask for a payment plan on a
large balance and follow its instalments.

Reading needs `self.view`; opening, documents, appeals and asking for a plan `self.edit` (a read-only API key
reads only). Another customer's dispute, plan or invoice is 404.
"""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from app.api.arrangements import present
from app.api.arrangements import schemas as s
from app.api.selfcare.access import CUSTOMER, me
from app.services.billing.arrangements import disputes, documents, plans
from app.web import db_session, downloads
from app.web.auth import requires

blp = Blueprint("portal_disputes", __name__, url_prefix="/portal/api",
                description="A customer's own invoice disputes and payment plans")
BASE = "/portal/api/disputes"
FILE = {"responses": {"200": {"description": "the document as you sent it", "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}}


def _one(dispute) -> dict:
    return present.disputes_out(db_session(), [dispute], base=BASE, detail=True)[0]


# -- disputes -----------------------------------------------------------------------------------------------
@blp.route("/disputes")
@requires("self.view", kinds=CUSTOMER)
@blp.arguments(s.InvoiceDisputeListArgs, location="query")
@blp.response(200, s.InvoiceDisputePage)
def list_disputes(args):
    """Your disputes, newest first, filtered by `status`, a page at a time with the total."""
    session = db_session()
    rows, total = disputes.list_disputes(session, customer_id=me(), **args)
    return present.page(present.disputes_out(session, rows, base=BASE), total, args)


@blp.route("/disputes", methods=["POST"])
@requires("self.edit", kinds=CUSTOMER)
@blp.arguments(s.InvoiceDisputeIn)
@blp.response(201, s.InvoiceDisputeDetailOut)
def open_dispute(body):
    """Dispute lines of one of your issued invoices (within 90 days of it), saying why. The usage of each line's
    service over the 30 days before the invoice is attached as evidence; send documents with
    `POST /portal/api/disputes/<id>/attachments`. While the dispute is open the disputed amount is not chased;
    the rest of the invoice is still due. The answer is due within 10 business days (`expected_by`)."""
    found = disputes.open_dispute(db_session(), me(), body["invoice_id"], body["line_ids"], body["reason"],
                                  body["message"], principal=g.principal)
    return _one(found)


@blp.route("/disputes/<int:dispute_id>")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.InvoiceDisputeDetailOut)
def get_dispute(dispute_id):
    """One of your disputes: its status, the answer expected by, the evidence, your documents, the outcome."""
    return _one(disputes.own(db_session(), me(), dispute_id))


@blp.route("/disputes/<int:dispute_id>/attachments", methods=["POST"])
@requires("self.edit", kinds=CUSTOMER)
@blp.arguments(s.InvoiceDisputeFileIn, location="files")
@blp.response(201, s.InvoiceDisputeAttachmentOut)
def add_attachment(files, dispute_id):
    """Send a document with a dispute that is still being looked at: PDF, PNG, JPEG, CSV or plain text (read
    from the file itself), 5 MB each, 5 per dispute."""
    upload = files["file"]
    data = upload.read(documents.MAX_FILE + 1) if hasattr(upload, "read") else b""
    row = disputes.add_document(db_session(), me(), dispute_id, getattr(upload, "filename", None), data,
                                principal=g.principal)
    return {"id": row.id, "file_name": row.file_name, "content_type": row.content_type, "size": row.size,
            "created_at": row.created_at, "url": f"{BASE}/{dispute_id}/attachments/{row.id}"}


@blp.route("/disputes/<int:dispute_id>/attachments/<int:attachment_id>")
@requires("self.view", kinds=CUSTOMER)
@blp.doc(**FILE)
def get_attachment(dispute_id, attachment_id):
    """Download a document you sent with a dispute."""
    session = db_session()
    disputes.own(session, me(), dispute_id)
    return downloads.uploaded(*documents.read(session, dispute_id, attachment_id))


@blp.route("/disputes/<int:dispute_id>/appeal", methods=["POST"])
@requires("self.edit", kinds=CUSTOMER)
@blp.arguments(s.InvoiceDisputeAppealIn)
@blp.response(200, s.InvoiceDisputeDetailOut)
def appeal_dispute(body, dispute_id):
    """Appeal a rejected dispute (once, within 30 days of the answer): it is escalated to management."""
    return _one(disputes.appeal(db_session(), me(), dispute_id, body["message"], principal=g.principal))


# -- payment plans ------------------------------------------------------------------------------------------
@blp.route("/payment-plans/offer")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.PaymentPlanOfferOut)
def plan_offer():
    """Whether you may ask for a payment plan now: what your open invoices owe, your provider's threshold and
    the numbers of instalments it allows, or why not (`refusal`)."""
    return present.offer_out(plans.offer(db_session(), me()))


@blp.route("/payment-plans")
@requires("self.view", kinds=CUSTOMER)
@blp.arguments(s.PaymentPlanListArgs, location="query")
@blp.response(200, s.PaymentPlanPage)
def list_plans(args):
    """Your payment plans, newest first."""
    session = db_session()
    rows, total = plans.list_plans(session, customer_id=me(), **args)
    return present.page([present.plan_out(session, p) for p in rows], total, args)


@blp.route("/payment-plans", methods=["POST"])
@requires("self.edit", kinds=CUSTOMER)
@blp.arguments(s.PaymentPlanIn)
@blp.response(201, s.PaymentPlanOut)
def ask_for_plan(body):
    """Ask to pay what your open invoices owe in `instalments` monthly instalments. Your provider approves it
    (perhaps with another schedule) or declines it; once approved, the covered invoices are not chased while the
    instalments are paid on time."""
    session = db_session()
    return present.plan_out(session, plans.request_plan(session, me(), body["instalments"], body["message"],
                                                        principal=g.principal))


@blp.route("/payment-plans/<int:plan_id>")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.PaymentPlanOut)
def get_plan(plan_id):
    """One of your payment plans: its invoices, its instalments as your payments stand today, what is left."""
    session = db_session()
    return present.plan_out(session, plans.own(session, me(), plan_id))
