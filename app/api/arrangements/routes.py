"""The reseller's side of customers' invoice disputes and payment plans (app/services/billing/arrangements/ has
the rules): list and read them, answer a dispute (under review, resolved with a credit note or a payment plan,
rejected, escalated to management), approve or decline a plan, and set the payment plan policy.

Reading needs `finance.view`; answering `finance.billing` (resolving moves money: `Idempotency-Key` is
honoured); the policy `settings.manage`. A user limited to some customers sees only theirs: any other dispute or
plan answers 404, as if it did not exist.
"""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from app.api.arrangements import present
from app.api.arrangements import schemas as s
from app.api.payments.idempotent import PARAMETER, idempotent
from app.api.visibility import principal, visible, visible_customer
from app.services.auth.principal import USER
from app.services.billing.arrangements import disputes, documents, plans, policy
from app.web import db_session, downloads
from app.web.auth import requires

blp = Blueprint("arrangements", __name__, url_prefix="/reseller/api",
                description="Customers' invoice disputes and payment plans, and the payment plan policy")
KINDS = (USER,)
BASE = "/reseller/api/billing-disputes"
FILE = {"responses": {"200": {"description": "the document as the customer sent it", "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}}


def _dispute(dispute_id: int, *, lock: bool = False):
    return visible(disputes.get(db_session(), dispute_id, lock=lock), "dispute")


def _plan(plan_id: int):
    return visible(plans.get(db_session(), plan_id), "payment plan")


def _one(dispute) -> dict:
    return present.disputes_out(db_session(), [dispute], base=BASE, detail=True)[0]


def _filters(args: dict) -> dict:
    if args.get("customer_id") is not None:
        visible_customer(args["customer_id"])
    return {**args, "visible": principal().allowed_customer_ids}


# -- disputes -----------------------------------------------------------------------------------------------
@blp.route("/billing-disputes")
@requires("finance.view", kinds=KINDS)
@blp.arguments(s.TeamInvoiceDisputeListArgs, location="query")
@blp.response(200, s.TeamInvoiceDisputePage)
def list_disputes(args):
    """Customers' invoice disputes, newest first, filtered by `status`, `customer_id` or `invoice_id`, a page at
    a time with the total."""
    session = db_session()
    rows, total = disputes.list_disputes(session, **_filters(args))
    return present.page(present.disputes_out(session, rows, base=BASE), total, args)


@blp.route("/billing-disputes/<int:dispute_id>")
@requires("finance.view", kinds=KINDS)
@blp.response(200, s.TeamInvoiceDisputeDetailOut)
def get_dispute(dispute_id):
    """One dispute: the lines, the usage evidence (30 days before the invoice, frozen when it was opened), the
    customer's documents, the outcome and every change."""
    return _one(_dispute(dispute_id))


@blp.route("/billing-disputes/<int:dispute_id>/attachments/<int:attachment_id>")
@requires("finance.view", kinds=KINDS)
@blp.doc(**FILE)
def get_attachment(dispute_id, attachment_id):
    """Download a document the customer sent with the dispute."""
    _dispute(dispute_id)
    return downloads.uploaded(*documents.read(db_session(), dispute_id, attachment_id))


@blp.route("/billing-disputes/<int:dispute_id>/review", methods=["POST"])
@requires("finance.billing", kinds=KINDS)
@blp.arguments(s.ArrangementNoteIn)
@blp.response(200, s.TeamInvoiceDisputeDetailOut)
def review_dispute(body, dispute_id):
    """Open → Under Review: the customer is told someone is looking into it."""
    _dispute(dispute_id)
    return _one(disputes.review(db_session(), dispute_id, principal=g.principal, note=body["note"]))


@blp.route("/billing-disputes/<int:dispute_id>/resolve", methods=["POST"])
@requires("finance.billing", kinds=KINDS)
@idempotent
@blp.arguments(s.InvoiceDisputeResolveIn)
@blp.response(200, s.TeamInvoiceDisputeDetailOut)
@blp.doc(parameters=[PARAMETER])
def resolve_dispute(body, dispute_id):
    """Resolve a dispute. `usage_adjustment` or `service_credit`: a credit note of the invoice for the disputed
    lines (whole, or the `lines` amounts), spent on the invoice first. `payment_plan`: the charge stands and what
    the invoice owes is paid in `instalments` monthly instalments from `first_due_on` (or by `schedule`)."""
    _dispute(dispute_id)
    found = disputes.resolve(db_session(), dispute_id, principal=g.principal, **body)
    return _one(found)


@blp.route("/billing-disputes/<int:dispute_id>/reject", methods=["POST"])
@requires("finance.billing", kinds=KINDS)
@blp.arguments(s.InvoiceDisputeAnswerIn)
@blp.response(200, s.TeamInvoiceDisputeDetailOut)
def reject_dispute(body, dispute_id):
    """The charge stands: Rejected, with the answer the customer reads. They may appeal once within 30 days."""
    _dispute(dispute_id)
    return _one(disputes.reject(db_session(), dispute_id, principal=g.principal, answer=body["answer"]))


@blp.route("/billing-disputes/<int:dispute_id>/escalate", methods=["POST"])
@requires("finance.billing", kinds=KINDS)
@blp.arguments(s.ArrangementRequiredNoteIn)
@blp.response(200, s.TeamInvoiceDisputeDetailOut)
def escalate_dispute(body, dispute_id):
    """Open or Under Review → Escalated to management, with a new expected date (10 business days)."""
    _dispute(dispute_id)
    return _one(disputes.escalate(db_session(), dispute_id, principal=g.principal, note=body["note"]))


# -- payment plans ------------------------------------------------------------------------------------------
@blp.route("/payment-plans/policy")
@requires("finance.view", kinds=KINDS)
@blp.response(200, s.PaymentPlanPolicyOut)
def get_policy():
    """Who may ask for a payment plan (the balance threshold), in how many instalments, and the grace days
    after an instalment's due date before the plan ends."""
    return policy.policy(db_session()).as_setting()


@blp.route("/payment-plans/policy", methods=["PUT"])
@requires("settings.manage", kinds=KINDS)
@blp.arguments(s.PaymentPlanPolicyIn)
@blp.response(200, s.PaymentPlanPolicyOut)
def put_policy(body):
    """Replace the policy (keys left out take their defaults: 1000.00, 2 to 6 instalments, 3 grace days)."""
    given = {key: value for key, value in body.items() if value is not None}
    return policy.put_policy(db_session(), given, principal=g.principal).as_setting()


@blp.route("/payment-plans")
@requires("finance.view", kinds=KINDS)
@blp.arguments(s.TeamPaymentPlanListArgs, location="query")
@blp.response(200, s.TeamPaymentPlanPage)
def list_plans(args):
    """Customers' payment plans, newest first, filtered by `status` or `customer_id`."""
    session = db_session()
    rows, total = plans.list_plans(session, **_filters(args))
    return present.page([present.plan_out(session, p) for p in rows], total, args)


@blp.route("/payment-plans/<int:plan_id>")
@requires("finance.view", kinds=KINDS)
@blp.response(200, s.TeamPaymentPlanOut)
def get_plan(plan_id):
    """One plan: the invoices it covers, its instalments (as the payments stand today), what is paid and left."""
    return present.plan_out(db_session(), _plan(plan_id))


@blp.route("/payment-plans/<int:plan_id>/approve", methods=["POST"])
@requires("finance.billing", kinds=KINDS)
@blp.arguments(s.PaymentPlanApproveIn)
@blp.response(200, s.TeamPaymentPlanOut)
def approve_plan(body, plan_id):
    """Pending → Active over the customer's open invoices as they are now: the instalments asked for, or
    `instalments` from `first_due_on`, or an explicit `schedule` adding up to what is owed. Dunning leaves the
    covered invoices alone while the instalments are paid on time."""
    _plan(plan_id)
    return present.plan_out(db_session(), plans.approve(db_session(), plan_id, principal=g.principal, **body))


@blp.route("/payment-plans/<int:plan_id>/decline", methods=["POST"])
@requires("finance.billing", kinds=KINDS)
@blp.arguments(s.ArrangementRequiredNoteIn)
@blp.response(200, s.TeamPaymentPlanOut)
def decline_plan(body, plan_id):
    """Pending → Declined, saying why (the customer is told)."""
    _plan(plan_id)
    return present.plan_out(db_session(), plans.decline(db_session(), plan_id, principal=g.principal,
                                                        note=body["note"]))
