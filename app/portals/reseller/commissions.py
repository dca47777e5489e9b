"""The reseller's Commissions pages, `/reseller/commissions`: what it earns from the master ISP.

- The lines (`index`): filtered by month, status, kind and customer (Portal ID) as the API's
  `/reseller/api/commissions` takes them, with the net per currency, paged, exported as CSV or XLSX. A user
  limited to some customers sees the lines of those customers only (the service's `visible`), as in the API.
- The payouts and their statements (the commission statement PDF, app/services/commissions/statement.py).
- Disputes: lines of one statement, disputed within its window from the payout's page, with supporting
  documents (the service checks their kind by content, their size and how many); their list and each one's
  status and outcome; more documents while it is Open.

Payouts and disputes are the reseller's own money over every customer: as in the API (app/api/payouts/routes.py
`mine`), a user limited to some customers is refused them. Reading is `finance.view`, disputing
`finance.billing`, the API's permissions. Every page is a door onto the services the API calls.
"""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, Response, flash, g, redirect, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import MonthField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from app import clock
from app.api.payouts.access import mine
from app.models.commissions import LINE_KINDS, LINE_STATUSES, CommissionLine
from app.models.payouts import DISPUTE_STATUSES, PAYOUT_STATUSES
from app.portals import tables
from app.portals.forms import FORM_EXPIRED, expired
from app.portals.nav import may_open
from app.portals.reseller.shell import TEAM_KINDS, guard, page
from app.portals.tables import Column, TableSpec
from app.services import customers, periods
from app.services.billing.invoices import local_today, zone_of
from app.services.commissions import disputes, payouts, statement, summary
from app.services.errors import Conflict, Invalid, NotFound
from app.web import db_session, downloads
from app.web.auth import requires
from app.web.limits import takes_files

bp = Blueprint("reseller_commissions", __name__, url_prefix="/reseller/commissions")
guard(bp)

CENT = Decimal("0.01")
EVERY_ROW = 10_000  # an export holds every line, not a page of them
KIND_LABELS = statement.KIND_LABELS  # the words the statement PDF uses for each kind (msgids)

# What a refusal says on the page (msgids); the service's own words are for the API.
NOT_A_MONTH = "Enter a month, like 2026-03."
NO_CUSTOMER = "No customer has this Portal ID."
CHOOSE_LINES = "Choose the lines you dispute."
SAY_WHY = "Say what is wrong with these lines."
TOO_LONG = "Your message can be at most 5000 characters."
NOT_DISPUTABLE = ("These lines cannot be disputed now: the statement's dispute window has closed, or a line is "
                  "under a dispute already.")
BAD_FILE = "Send PDF, PNG, JPEG, CSV or plain text files only."
FILE_LIMITS = "Each file can be at most 5 MB, and a dispute holds at most 5 files."
FILES_AGAIN = "Choose your files again: a browser does not keep them when a form comes back."
CHOOSE_FILE = "Choose a file to send."
NOT_OPEN = "This dispute is settled, so it takes no more documents."

LINES = TableSpec("commissions", "Commission lines", (
    Column("period_start", "Month", type="month"), Column("customer", "Customer"), Column("kind_label", "Kind"),
    Column("base_amount", "Base amount", type="money"), Column("rate", "Rate", type="percent"),
    Column("amount", "Amount", type="money"), Column("currency", "Currency"), Column("status", "Status"),
    Column("payout", "Statement")), per_page=25)
PAYOUTS = TableSpec("payouts", "Payouts", (
    Column("number", "Statement"), Column("period", "Period"), Column("status", "Status"),
    Column("amount", "Amount", type="money"), Column("dispute_window_ends_at", "Disputes until", type="date"),
    Column("pdf", "PDF")), per_page=25, exportable=False)
PAYOUT_LINES = TableSpec("payout_lines", "Lines of this statement", (
    Column("pick", "Dispute"), Column("period_start", "Month", type="month"), Column("customer", "Customer"),
    Column("kind_label", "Kind"), Column("base_amount", "Base amount", type="money"),
    Column("rate", "Rate", type="percent"), Column("amount", "Amount", type="money"), Column("status", "Status")),
    per_page=EVERY_ROW, exportable=False)
DISPUTES = TableSpec("disputes", "Disputes", (
    Column("number", "Dispute"), Column("payout", "Statement"), Column("created_at", "Opened", type="date"),
    Column("disputed_amount", "Disputed", type="money"), Column("adjusted_amount", "Settled at", type="money"),
    Column("files", "Documents", type="int"), Column("status", "Status")), per_page=25, exportable=False)
DISPUTE_LINES = TableSpec("dispute_lines", "Disputed lines", (
    Column("period_start", "Month", type="month"), Column("customer", "Customer"), Column("kind_label", "Kind"),
    Column("amount", "Amount", type="money"), Column("previous_status", "Before the dispute"),
    Column("status", "Status now")), per_page=EVERY_ROW, exportable=False)


# -- forms -----------------------------------------------------------------------------------------------

def _choices(first: str, values) -> list[SelectChoice]:
    return [SelectChoice("", first), *(SelectChoice(v, v) for v in values)]


class LineFilterForm(FlaskForm):
    """Which lines are shown, sent by GET: the address says what is shown."""

    class Meta:
        csrf = False

    period = MonthField(validators=[Optional()], invalid_value_message=NOT_A_MONTH)
    status = SelectField(choices=_choices("Every status", LINE_STATUSES), default="", validators=[Optional()])
    kind = SelectField(choices=[SelectChoice("", "Every kind"), *(SelectChoice(k, KIND_LABELS[k]) for k in LINE_KINDS)],
                       default="", validators=[Optional()])
    customer = StringField(validators=[Optional(), Length(max=40, message=NO_CUSTOMER)])


class StatusFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(default="", validators=[Optional()])


class DisputeForm(FlaskForm):
    """Disputing lines of one statement: the lines (offered by the view), why, and documents if any."""

    line_ids = SelectMultipleField(coerce=int, validators=[InputRequired(CHOOSE_LINES)],
                                   validate_choice=False)  # the service refuses a line it cannot take
    message = TextAreaField(validators=[InputRequired(SAY_WHY), Length(max=disputes.MAX_MESSAGE, message=TOO_LONG)])
    files = MultipleFileField(validators=[Optional()])


class DocumentForm(FlaskForm):
    files = MultipleFileField(validators=[InputRequired(CHOOSE_FILE)])


# -- helpers ---------------------------------------------------------------------------------------------

def may(endpoint: str) -> bool:
    """Whether the signed-in member may use the write page at `endpoint` (its `requires`; never in a
    read-only session): the page shows no button that would be refused."""
    return may_open(endpoint) and not g.principal.read_only


def _pdf_url(payout_id: int) -> str:
    return url_for(".statement_pdf", payout_id=payout_id)


def line_rows(session, lines, payout_numbers: dict[int, str] | None = None) -> list[dict]:
    names = statement._customer_names(session, lines)
    payout_numbers = payout_numbers or {}
    return [{"id": line.id, "period_start": line.period_start, "kind": line.kind,
             "kind_label": KIND_LABELS.get(line.kind, line.kind),
             "customer": names.get((line.source_tenant_id, line.customer_id)) if line.customer_id else None,
             "base_amount": line.base_amount,
             "rate": line.rate.quantize(CENT) if line.rate is not None else None, "amount": line.amount,
             "currency": line.currency,
             "status": line.status, "payout_id": line.payout_id, "payout": payout_numbers.get(line.payout_id),
             "note": line.note} for line in lines]


def sees_payouts() -> bool:
    """The API's rule for payouts and disputes (`mine`): a member who sees every customer."""
    return g.principal.allowed_customer_ids is None


def _payout_numbers(session, ids) -> dict[int, str]:
    """The statements' numbers, for a member who may open payouts (others see none: the API refuses them)."""
    if not sees_payouts():
        return {}
    found = {}
    for payout_id in sorted({i for i in ids if i}):
        try:
            found[payout_id] = payouts.get(session, payout_id).number
        except NotFound:
            continue
    return found


def _customer_id(session, portal_id: str) -> int | None:
    listed = customers.list_page(session, customers.CustomerFilter(portal_id=portal_id), limit=1,
                                 visible=g.principal.allowed_customer_ids)
    return listed.items[0].id if listed.items else None


# -- the lines -------------------------------------------------------------------------------------------

@requires("finance.view", kinds=TEAM_KINDS)
def index():
    session = db_session()
    form = LineFilterForm(formdata=request.args)
    if not form.validate():
        return page("commissions/index", form=form, table=None, net=[], sees_payouts=sees_payouts(), status=422)
    filters: dict = {"status": form.status.data or None, "kind": form.kind.data or None}
    month = periods.parse(f"{form.period.data:%Y-%m}") if form.period.data else None
    if month is not None:
        filters.update(start=month.first_day, end=month.last_day)
    if form.customer.data and form.customer.data.strip():
        filters["customer_id"] = _customer_id(session, form.customer.data)
        if filters["customer_id"] is None:
            form.customer.errors = [NO_CUSTOMER]
            return page("commissions/index", form=form, table=None, net=[], sees_payouts=sees_payouts(), status=422)
    filters = {k: v for k, v in filters.items() if v is not None}
    visible = g.principal.allowed_customer_ids
    state = tables.state(LINES)
    fmt = tables.wanted_format()
    found, total = summary.lines(session, visible=visible, page=1 if fmt else state.page,
                                 per_page=EVERY_ROW if fmt else state.per_page, **filters)
    rows = line_rows(session, found, _payout_numbers(session, [line.payout_id for line in found]))
    if fmt:
        today = local_today(session)
        days = [r["period_start"] for r in rows]
        return tables.export_response(
            LINES, rows, fmt, scope=g.tenant.code, zone=zone_of(session),
            start=filters.get("start") or min(days, default=today), end=filters.get("end") or max(days, default=today),
            filters={k: form[k].data for k in ("status", "kind", "customer") if form[k].data})
    net: dict[str, Decimal] = {}
    for row in summary.totals(session, visible=visible, **filters):
        if row["status"] != "Rejected":  # a rejected line was never owed (the API's summary)
            net[row["currency"]] = net.get(row["currency"], Decimal("0.00")) + row["amount"]
    return page("commissions/index", form=form, table=tables.view(LINES, state, rows, total),
                net=sorted(net.items()), sees_payouts=sees_payouts())


# -- payouts and statements ------------------------------------------------------------------------------

@requires("finance.view", kinds=TEAM_KINDS)
def payout_list():
    session = mine()
    form = StatusFilterForm(formdata=request.args)
    form.status.choices = _choices("Every status", PAYOUT_STATUSES)
    if not form.validate():
        form = StatusFilterForm(formdata=None)
        form.status.choices = _choices("Every status", PAYOUT_STATUSES)
    state = tables.state(PAYOUTS)
    found, total = payouts.list_payouts(session, status=form.status.data or None, page=state.page,
                                        per_page=state.per_page)
    rows = [{"id": p.id, "number": p.number, "period_start": p.period_start, "period_end": p.period_end,
             "status": p.status, "amount": p.amount, "currency": p.currency,
             "dispute_window_ends_at": p.dispute_window_ends_at, "pdf": _pdf_url(p.id)} for p in found]
    return page("commissions/payouts", form=form, table=tables.view(PAYOUTS, state, rows, total),
                schedule=payouts.schedule(session))


def _payout_page(payout_id: int, form: DisputeForm | None = None, *, status: int = 200):
    session = mine()
    payout = payouts.get(session, payout_id)
    lines = payouts.lines(session, payout_id)
    window_open = clock.now() <= payout.dispute_window_ends_at
    rows = line_rows(session, lines)
    disputable = [r["id"] for r in rows if r["status"] in disputes.DISPUTABLE]
    can_dispute = window_open and bool(disputable) and may("reseller_commissions.open_dispute")
    if form is None:
        form = DisputeForm(formdata=None)
    form.line_ids.choices = [(i, str(i)) for i in disputable]
    held, _ = disputes.list_disputes(session, per_page=200)
    return page("commissions/payout", payout=payout, form=form, can_dispute=can_dispute, window_open=window_open,
                table=tables.view(PAYOUT_LINES, tables.state(PAYOUT_LINES), rows, len(rows)),
                disputable=set(disputable), chosen=set(form.line_ids.data or []),
                its_disputes=[d for d in held if d.payout_id == payout.id], status=status)


@requires("finance.view", kinds=TEAM_KINDS)
def payout(payout_id: int):
    return _payout_page(payout_id)


@requires("finance.view", kinds=TEAM_KINDS)
def statement_pdf(payout_id: int):
    return downloads.pdf(*statement.statement_pdf(mine(), payout_id))


def _uploads(field) -> list[tuple[str | None, bytes]]:
    return [(f.filename, f.read(disputes.MAX_FILE + 1)) for f in (field.data or []) if f and f.filename]


def _file_refusal(exc: Invalid, sent: list[tuple[str | None, bytes]]) -> str:
    """Which of the service's refusals of a file it was, in the page's words."""
    if any(not data or len(data) > disputes.MAX_FILE for _name, data in sent):
        return FILE_LIMITS
    return BAD_FILE


@requires("finance.billing", kinds=TEAM_KINDS)
def open_dispute(payout_id: int):
    session = mine()
    payout_row = payouts.get(session, payout_id)
    form = DisputeForm()
    form.line_ids.choices = [(line.id, str(line.id)) for line in payouts.lines(session, payout_row.id)
                             if line.status in disputes.DISPUTABLE]
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        elif _uploads(form.files):
            form.files.errors = [FILES_AGAIN]
        return _payout_page(payout_id, form, status=422)
    sent = _uploads(form.files)
    try:
        dispute = disputes.open_dispute(session, form.line_ids.data, form.message.data, actor=g.principal.actor)
        for name, data in sent:
            disputes.add_attachment(session, dispute.id, name, data, actor=g.principal.actor)
    except Invalid as exc:
        session.rollback()
        if exc.extra.get("field") == "file":
            form.files.errors = [_file_refusal(exc, sent), FILES_AGAIN]
        else:
            form.form_errors.append(NOT_DISPUTABLE)
        return _payout_page(payout_id, form, status=422)
    except (Conflict, NotFound):
        session.rollback()
        form.form_errors.append(NOT_DISPUTABLE)
        return _payout_page(payout_id, form, status=409)
    flash("Your dispute is open. The lines are held out of any unpaid payout until the master ISP settles it.",
          "success")
    return redirect(url_for(".dispute", dispute_id=dispute.id))


# -- disputes --------------------------------------------------------------------------------------------

@requires("finance.view", kinds=TEAM_KINDS)
def dispute_list():
    session = mine()
    form = StatusFilterForm(formdata=request.args)
    form.status.choices = _choices("Every status", DISPUTE_STATUSES)
    if not form.validate():
        form = StatusFilterForm(formdata=None)
        form.status.choices = _choices("Every status", DISPUTE_STATUSES)
    state = tables.state(DISPUTES)
    found, total = disputes.list_disputes(session, status=form.status.data or None, page=state.page,
                                          per_page=state.per_page)
    files = disputes.attachments(session, [d.id for d in found])
    numbers = _payout_numbers(session, [d.payout_id for d in found])
    rows = [{"id": d.id, "number": f"#{d.id}", "payout": numbers.get(d.payout_id), "payout_id": d.payout_id,
             "created_at": d.created_at, "disputed_amount": d.disputed_amount, "adjusted_amount": d.adjusted_amount,
             "files": len(files[d.id]), "status": d.status} for d in found]
    return page("commissions/disputes", form=form, table=tables.view(DISPUTES, state, rows, total))


def _dispute_page(dispute_id: int, form: DocumentForm | None = None, *, status: int = 200):
    session = mine()
    found = disputes.get(session, dispute_id)
    held = disputes.disputed_lines(session, [found.id])[found.id]
    lines = [session.get(CommissionLine, r.line_id) for r in held]  # by id: a disputed line may have left its payout
    previous = {r.line_id: r for r in held}
    rows = [{**row, "amount": previous[row["id"]].amount, "previous_status": previous[row["id"]].previous_status}
            for row in line_rows(session, [line for line in lines if line is not None])]
    files = disputes.attachments(session, [found.id])[found.id]
    number = _payout_numbers(session, [found.payout_id]).get(found.payout_id)
    can_add = (found.status == "Open" and len(files) < disputes.MAX_FILES
               and may("reseller_commissions.add_attachment"))
    return page("commissions/dispute", dispute=found, payout_number=number, files=files,
                table=tables.view(DISPUTE_LINES, tables.state(DISPUTE_LINES), rows, len(rows)),
                form=form or DocumentForm(formdata=None), can_add=can_add, max_files=disputes.MAX_FILES,
                status=status)


@requires("finance.view", kinds=TEAM_KINDS)
def dispute(dispute_id: int):
    return _dispute_page(dispute_id)


@requires("finance.billing", kinds=TEAM_KINDS)
def add_attachment(dispute_id: int):
    session = mine()
    disputes.get(session, dispute_id)
    form = DocumentForm()
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return _dispute_page(dispute_id, form, status=422)
    sent = _uploads(form.files)
    if not sent:
        form.files.errors = [CHOOSE_FILE]
        return _dispute_page(dispute_id, form, status=422)
    try:
        for name, data in sent:
            disputes.add_attachment(session, dispute_id, name, data, actor=g.principal.actor)
    except Invalid as exc:
        session.rollback()
        form.files.errors = [_file_refusal(exc, sent), FILES_AGAIN]
        return _dispute_page(dispute_id, form, status=422)
    except Conflict:
        session.rollback()
        form.files.errors = [NOT_OPEN if disputes.get(session, dispute_id).status != "Open" else FILE_LIMITS]
        return _dispute_page(dispute_id, form, status=409)
    flash("The document is added to your dispute.", "success")
    return redirect(url_for(".dispute", dispute_id=dispute_id))


@requires("finance.view", kinds=TEAM_KINDS)
def attachment(dispute_id: int, attachment_id: int) -> Response:
    return downloads.uploaded(*disputes.attachment(mine(), dispute_id, attachment_id))


bp.add_url_rule("", "index", index)
bp.add_url_rule("/payouts", "payouts", payout_list)
bp.add_url_rule("/payouts/<int:payout_id>", "payout", payout)
bp.add_url_rule("/payouts/<int:payout_id>/statement.pdf", "statement_pdf", statement_pdf)
bp.add_url_rule("/payouts/<int:payout_id>/dispute", "open_dispute", takes_files(open_dispute, back=".payout"),
                methods=["POST"])
bp.add_url_rule("/disputes", "disputes", dispute_list)
bp.add_url_rule("/disputes/<int:dispute_id>", "dispute", dispute)
bp.add_url_rule("/disputes/<int:dispute_id>/attachments", "add_attachment",
                takes_files(add_attachment, back=".dispute"), methods=["POST"])
bp.add_url_rule("/disputes/<int:dispute_id>/attachments/<int:attachment_id>", "attachment", attachment)
