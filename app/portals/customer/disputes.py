"""The customer's Disputes pages, `/portal/disputes` and `/portal/payment-plans`: the list of their disputes and
payment plans; disputing charges of an invoice (choose the invoice, then its lines, the reason, a message and
documents); a dispute's page (its status, the day the answer is due, the usage evidence, the documents, the
outcome and every change; more documents while it is looked at; an appeal of a rejection); asking for a payment
plan on the balance, and a plan's page with its instalments.

Every page calls the services of app/services/billing/arrangements (the customer's API calls the same ones),
which answer only about the signed-in customer: another customer's dispute, plan, invoice or document is not
found (404) on every address. A refusal of a service is shown next to the field it is about, with what was typed
kept (files cannot be kept by a browser: the page says to choose them again).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for

from app.portals.customer.dispute_forms import AppealForm, DisputeForm, DocumentForm, InvoiceChoiceForm, PlanForm
from app.portals.customer.gate import CUSTOMER, guard
from app.portals.customer.shell import page
from app.portals.forms import FORM_EXPIRED, expired
from app.services.billing.arrangements import disputes, documents, plans
from app.services.branding.rendering import money
from app.services.errors import Conflict, Invalid, ServiceError
from app.web import db_session, downloads
from app.web.auth import requires
from app.web.limits import takes_files

bp = Blueprint("customer_disputes", __name__, url_prefix="/portal")
guard(bp)

INVOICE_PAGE = "customer_billing.invoice"  # the Billing pages' invoice, when the portal has it
PER_PAGE = 25

# What a refusal of the services says on the page (msgids); the service's own words are for the API.
ALREADY = "One of these charges is disputed already: follow that dispute instead."
BAD_FILE = "Send PDF, PNG, JPEG, CSV or plain text files only."
FILE_LIMITS = "Each file can be at most 5 MB, and a dispute holds at most 5 files."
CLOSED = "This invoice can no longer be disputed online. Please contact support."
NOT_SENT = "Your dispute could not be sent. Please try again, or contact support."
NOT_NOW = "This dispute is no longer being looked at, so it takes no more documents."
NO_APPEAL = "This answer can no longer be appealed."
FILES_AGAIN = "Choose your files again: a browser does not keep them when a form comes back."
PLAN_REFUSALS = {
    "not_offered": "Your provider does not offer payment plans.",
    "open_plan": "You already have a payment plan, waiting for an answer or running.",
    "several_currencies": "Your invoices are in several currencies: please contact support for a plan.",
    "below_threshold": "A payment plan is for a larger balance than yours.",
}


def me() -> int:
    return g.principal.id


def invoice_url(invoice_id: int) -> str | None:
    """The invoice's own page, if the portal has one (never a dead link)."""
    if INVOICE_PAGE not in current_app.view_functions:
        return None
    return url_for(INVOICE_PAGE, invoice_id=invoice_id)


def _number(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 18:
        abort(404)
    return int(raw)


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= 100_000 else 1


# -- the list ------------------------------------------------------------------------------------------------

@requires("self.view", kinds=CUSTOMER)
def index():
    session = db_session()
    number = _page_number()
    rows, total = disputes.list_disputes(session, customer_id=me(), page=number, per_page=PER_PAGE)
    plan_rows, _ = plans.list_plans(session, customer_id=me(), per_page=PER_PAGE)
    return page("disputes/index", disputes=rows, total=total, page_number=number,
                pages=max(1, -(-total // PER_PAGE)), numbers=disputes.invoice_numbers(
                    session, sorted({d.invoice_id for d in rows})), plans=plan_rows, offer=plans.offer(session, me()))


# -- disputing charges ---------------------------------------------------------------------------------------

def _choose(status: int = 200, form: InvoiceChoiceForm | None = None):
    found = disputes.disputable_invoices(db_session(), me())
    form = form or InvoiceChoiceForm(formdata=None)
    form.invoice.choices = [(str(i.id), f"{i.number} · {money(i.total, i.currency)}") for i in found]
    return page("disputes/choose", form=form, invoices=found, status=status)


def _form_page(invoice_id: int, form: DisputeForm, *, status: int = 200):
    found = disputes.disputable(db_session(), me(), invoice_id)
    return page("disputes/new", found=found, form=form, invoice_url=invoice_url(invoice_id), status=status)


def _dispute_form(invoice_id: int) -> DisputeForm:
    found = disputes.disputable(db_session(), me(), invoice_id)
    form = DisputeForm()
    form.lines.choices = [(line.id, line.description) for line in found["disputable"]]
    return form


@requires("self.view", kinds=CUSTOMER)
def new():
    """Without `invoice`: choose one (a GET form); with it: the dispute form for its lines."""
    invoice_id = _number(request.args.get("invoice"))
    if invoice_id is None:
        if "invoice" in request.args:
            form = InvoiceChoiceForm(request.args)
            form.invoice.errors = ["Choose the invoice you dispute."]
            return _choose(422, form)
        return _choose()
    return _form_page(invoice_id, _dispute_form(invoice_id))


def _files(field) -> list[tuple[str | None, bytes]]:
    return [(f.filename, f.read(documents.MAX_FILE + 1)) for f in (field.data or []) if f and f.filename]


@requires("self.edit", kinds=CUSTOMER)
def create():
    invoice_id = _number(request.args.get("invoice"))
    if invoice_id is None:
        abort(404)
    form = _dispute_form(invoice_id)
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        elif form.files.data and any(f and f.filename for f in form.files.data):
            form.files.errors = [FILES_AGAIN]
        return _form_page(invoice_id, form, status=422)
    session = db_session()
    try:
        made = disputes.open_dispute(session, me(), invoice_id, form.lines.data, form.reason.data, form.message.data,
                                     principal=g.principal, files=_files(form.files))
    except disputes.AlreadyDisputed as exc:
        session.rollback()
        form.lines.errors = [ALREADY]
        return _form_page(invoice_id, form, status=exc.status)
    except documents.UnsupportedFile as exc:
        session.rollback()
        form.files.errors = [BAD_FILE, FILES_AGAIN]
        return _form_page(invoice_id, form, status=exc.status)
    except Invalid as exc:
        session.rollback()
        if exc.extra.get("field") == "file":
            form.files.errors = [FILE_LIMITS, FILES_AGAIN]
        else:
            form.form_errors.append(NOT_SENT)
        return _form_page(invoice_id, form, status=exc.status)
    except Conflict as exc:
        session.rollback()
        form.form_errors.append(CLOSED)
        return _form_page(invoice_id, form, status=exc.status)
    # no flash: the dispute's page says it is received, and by which day the answer comes (its notice)
    return redirect(url_for(".detail", dispute_id=made.id))


# -- one dispute ---------------------------------------------------------------------------------------------

def _detail_page(dispute_id: int, *, status: int = 200, documents_form: DocumentForm | None = None,
                 appeal_form: AppealForm | None = None):
    session = db_session()
    found = disputes.detail(session, disputes.own(session, me(), dispute_id))
    return page("disputes/detail", found=found, invoice_url=invoice_url(found["invoice"].id),
                documents_form=documents_form or DocumentForm(formdata=None),
                appeal_form=appeal_form or AppealForm(formdata=None), max_files=documents.MAX_FILES, status=status)


@requires("self.view", kinds=CUSTOMER)
def detail(dispute_id: int):
    return _detail_page(dispute_id)


@requires("self.edit", kinds=CUSTOMER)
def add_documents(dispute_id: int):
    disputes.own(db_session(), me(), dispute_id)
    form = DocumentForm()
    valid = form.validate_on_submit()
    files = _files(form.files) if valid else []
    if not files:
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        else:
            form.files.errors = ["Choose a file to send."]
        return _detail_page(dispute_id, documents_form=form, status=422)
    session = db_session()
    try:
        for name, data in files:
            disputes.add_document(session, me(), dispute_id, name, data, principal=g.principal)
    except ServiceError as exc:
        session.rollback()
        if isinstance(exc, documents.UnsupportedFile):
            form.files.errors = [BAD_FILE]
        elif isinstance(exc, Invalid):
            form.files.errors = [FILE_LIMITS]
        else:
            form.files.errors = [NOT_NOW]
        return _detail_page(dispute_id, documents_form=form, status=exc.status)
    flash("Your documents are sent.", "success")
    return redirect(url_for(".detail", dispute_id=dispute_id, _anchor="documents"))


@requires("self.view", kinds=CUSTOMER)
def document(dispute_id: int, attachment_id: int):
    session = db_session()
    disputes.own(session, me(), dispute_id)
    row, data = documents.read(session, dispute_id, attachment_id)
    return downloads.uploaded(row, data)


@requires("self.edit", kinds=CUSTOMER)
def appeal(dispute_id: int):
    disputes.own(db_session(), me(), dispute_id)
    form = AppealForm()
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return _detail_page(dispute_id, appeal_form=form, status=422)
    session = db_session()
    try:
        disputes.appeal(session, me(), dispute_id, form.message.data, principal=g.principal)
    except Conflict as exc:
        session.rollback()
        form.form_errors.append(NO_APPEAL)
        return _detail_page(dispute_id, appeal_form=form, status=exc.status)
    flash("Your appeal is sent: the dispute is escalated to management.", "success")
    return redirect(url_for(".detail", dispute_id=dispute_id))


# -- payment plans -------------------------------------------------------------------------------------------

def _plan_form(offer: plans.Offer) -> PlanForm:
    form = PlanForm()
    rules = offer.policy
    form.instalments.choices = [(n, str(n)) for n in range(rules.min_instalments, rules.max_instalments + 1)]
    return form


def _ask_page(form: PlanForm, offer: plans.Offer, *, status: int = 200):
    return page("disputes/plan_new", form=form, offer=offer, refusal=PLAN_REFUSALS.get(offer.refusal), status=status)


@requires("self.view", kinds=CUSTOMER)
def plan_new():
    offer = plans.offer(db_session(), me())
    return _ask_page(_plan_form(offer), offer)


@requires("self.edit", kinds=CUSTOMER)
def plan_create():
    session = db_session()
    offer = plans.offer(session, me())
    form = _plan_form(offer)
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return _ask_page(form, offer, status=422)
    try:
        made = plans.request_plan(session, me(), form.instalments.data, form.message.data, principal=g.principal)
    except Invalid as exc:
        session.rollback()
        form.instalments.errors = ["Choose the number of instalments."]
        return _ask_page(form, plans.offer(session, me()), status=exc.status)
    except Conflict as exc:
        session.rollback()
        found = plans.offer(session, me())
        form.form_errors.append(PLAN_REFUSALS.get(found.refusal) or NOT_SENT)
        return _ask_page(form, found, status=exc.status)
    flash("We have your request. Your provider will answer soon.", "success")
    return redirect(url_for(".plan", plan_id=made.id))


@requires("self.view", kinds=CUSTOMER)
def plan(plan_id: int):
    session = db_session()
    found = plans.view(session, plans.own(session, me(), plan_id))
    return page("disputes/plan", found=found, invoice_url=invoice_url)


bp.add_url_rule("/disputes", "index", index)
bp.add_url_rule("/disputes/new", "new", new)
bp.add_url_rule("/disputes", "create", takes_files(create, back=".new"), methods=["POST"])
bp.add_url_rule("/disputes/<int:dispute_id>", "detail", detail)
bp.add_url_rule("/disputes/<int:dispute_id>/documents", "add_documents", takes_files(add_documents, back=".detail"),
                 methods=["POST"])
bp.add_url_rule("/disputes/<int:dispute_id>/documents/<int:attachment_id>", "document", document)
bp.add_url_rule("/disputes/<int:dispute_id>/appeal", "appeal", appeal, methods=["POST"])
bp.add_url_rule("/payment-plans/new", "plan_new", plan_new)
bp.add_url_rule("/payment-plans", "plan_create", plan_create, methods=["POST"])
bp.add_url_rule("/payment-plans/<int:plan_id>", "plan", plan)
