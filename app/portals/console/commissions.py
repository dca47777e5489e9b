"""The console's Commissions pages, `/console/commissions`: every reseller's commission in a line (its rate, what
it earned this month, what is unpaid, its payouts and disputes waiting for a decision); one reseller's
commission rules (added, ended), its payout schedule, its payouts (approved, then paid) and its disputes
(settled), each as the console API does it (app/api/commissions, app/api/payouts).

Rules live in the platform's schema; payouts, lines and disputes in the reseller's own, so those pages work
in a transaction of their own there (of_reseller.in_schema) and read what they show before it ends.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for

from app import clock
from app.models.payouts import DISPUTE_STATUSES, PAYOUT_STATUSES
from app.portals import tables
from app.portals.console.commissions_forms import (
    KIND_WORDS,
    METHOD_WORDS,
    ActionForm,
    ApproveForm,
    PayForm,
    ResolveForm,
    RuleForm,
    ScheduleForm,
)
from app.portals.console.shell import STAFF_KINDS, guard, page
from app.portals.forms import FORM_EXPIRED, expired
from app.portals.tables import Column, TableSpec
from app.services import resellers
from app.services import tenants as tenant_svc
from app.services.commissions import disputes, of_reseller, payouts, rules
from app.services.errors import Conflict, Invalid
from app.web import db_session, downloads, state
from app.web.auth import requires

bp = Blueprint("console_commissions", __name__, url_prefix="/console/commissions")
guard(bp)

EVERYONE = TableSpec("commissions", "Commission by reseller", (
    Column("name", "Reseller"), Column("rate", "Recurring rate", type="percent"),
    Column("this_month", "Earned this month"), Column("unpaid", "Earned, not yet paid"),
    Column("scheduled_payouts", "Payouts to approve", type="int"), Column("approved_payouts", "Payouts to pay",
                                                                          type="int"),
    Column("open_disputes", "Open disputes", type="int")), exportable=False)
RULES = TableSpec("commission_rules", "Commission rules", (
    Column("kind", "Kind"), Column("terms", "Terms"), Column("effective_from", "From", type="date"),
    Column("effective_until", "Until", type="date"), Column("actions", "Actions")), exportable=False)
PAYOUTS = TableSpec("payouts", "Payouts", (
    Column("number", "Number"), Column("period", "Period"), Column("amount", "Amount", type="money"),
    Column("status", "Status")), exportable=False)
DISPUTES = TableSpec("disputes", "Disputes", (
    Column("id", "Dispute"), Column("created_at", "Opened", type="date"), Column("disputed_amount", "Disputed",
                                                                                 type="money"),
    Column("status", "Status")), exportable=False)
LINES = TableSpec("payout_lines", "Lines", (
    Column("kind", "Kind"), Column("period", "Period"), Column("base_amount", "Base", type="money"),
    Column("rate", "Rate"), Column("amount", "Amount", type="money"), Column("status", "Status")),
    exportable=False, per_page=10_000)


def _reseller(code: str):
    return tenant_svc.get(db_session(), code)


def _field_error(form, exc: Invalid | Conflict) -> None:
    """The service's refusal next to the field it names (its own words), else above the form."""
    name = str(exc.extra.get("field") or "")
    field = getattr(form, name, None)
    if field is not None and hasattr(field, "errors") and name != "meta":
        field.errors = [*list(field.errors or []), exc.detail]
    else:
        form.form_errors.append(exc.detail)


def _failed(form) -> None:
    if expired(form):
        form.form_errors.append(FORM_EXPIRED)


# -- every reseller ------------------------------------------------------------------------------------------

@requires(kinds=STAFF_KINDS)
def index():
    today = clock.today()
    shown = tables.state(EVERYONE)
    wanted = (request.args.get("q") or "").strip()[:200]
    placed = resellers.matching(resellers.tree(db_session()), wanted)
    rows = []
    for p in placed[shown.offset:shown.offset + shown.per_page]:
        found = of_reseller.of(state().db, p.row, today)
        rows.append({"code": p.row.code, "name": p.row.name, "rate": found.recurring_rate,
                     "this_month": found.this_month, "unpaid": found.unpaid,
                     "scheduled_payouts": found.scheduled_payouts, "approved_payouts": found.approved_payouts,
                     "open_disputes": found.open_disputes})
    return page("commissions/index", table=tables.view(EVERYONE, shown, rows, len(placed)), q=wanted)


# -- one reseller --------------------------------------------------------------------------------------------

def _rule_terms(rule) -> dict:
    return {"rate": rule.rate, "amount": rule.amount, "currency": rule.currency, "months": rule.months,
            "tiers": rule.tiers}


def _payout_row(p) -> dict:
    return {"id": p.id, "number": p.number, "period_start": p.period_start, "period_end": p.period_end,
            "amount": p.amount, "currency": p.currency, "status": p.status, "gross": p.gross,
            "adjustments": p.adjustments, "carried_in": p.carried_in, "minimum_threshold": p.minimum_threshold,
            "approved_at": p.approved_at, "approved_by": p.approved_by, "paid_at": p.paid_at, "method": p.method,
            "reference": p.reference, "payout_currency": p.payout_currency, "fx_rate": p.fx_rate,
            "converted_amount": p.converted_amount, "dispute_window_ends_at": p.dispute_window_ends_at}


def _dispute_row(d) -> dict:
    return {"id": d.id, "payout_id": d.payout_id, "status": d.status, "message": d.message,
            "disputed_amount": d.disputed_amount, "adjusted_amount": d.adjusted_amount,
            "resolution_note": d.resolution_note, "opened_by": d.opened_by, "resolved_by": d.resolved_by,
            "resolved_at": d.resolved_at, "created_at": d.created_at}


@requires(kinds=STAFF_KINDS)
def reseller(code: str):
    row = _reseller(code)
    payout_status = request.args.get("payouts") if request.args.get("payouts") in PAYOUT_STATUSES else None
    dispute_status = request.args.get("disputes") if request.args.get("disputes") in DISPUTE_STATUSES else None
    found = of_reseller.of(state().db, row, clock.today())
    listed_rules = [{"id": r.id, "kind": r.kind, **_rule_terms(r), "effective_from": r.effective_from,
                     "effective_until": r.effective_until} for r in rules.list_rules(db_session(), row.id)]
    with of_reseller.in_schema(state().db, row) as s:
        schedule = payouts.schedule(s)
        shown_payouts, payout_total = payouts.list_payouts(s, status=payout_status, per_page=50)
        payout_rows = [_payout_row(p) for p in shown_payouts]
        shown_disputes, dispute_total = disputes.list_disputes(s, status=dispute_status, per_page=50)
        dispute_rows = [_dispute_row(d) for d in shown_disputes]
    return page("commissions/reseller", reseller=row, commission=found, schedule=schedule,
                rules=tables.view(RULES, tables.state(RULES), listed_rules, len(listed_rules)),
                payouts=tables.view(PAYOUTS, tables.state(PAYOUTS), payout_rows, payout_total),
                disputes=tables.view(DISPUTES, tables.state(DISPUTES), dispute_rows, dispute_total),
                payout_status=payout_status, dispute_status=dispute_status, kinds=KIND_WORDS,
                payout_statuses=PAYOUT_STATUSES, dispute_statuses=DISPUTE_STATUSES, today=clock.today())


# -- rules ---------------------------------------------------------------------------------------------------

@requires(kinds=STAFF_KINDS)
def new_rule(code: str):
    row = _reseller(code)
    if request.method == "GET":
        return page("commissions/rule", reseller=row, form=RuleForm(formdata=None, effective_from=clock.today()))
    form = RuleForm()
    if not form.validate_on_submit():
        _failed(form)
        return page("commissions/rule", reseller=row, form=form, status=422)
    try:
        rules.create(db_session(), row.id, kind=form.kind.data, effective_from=form.effective_from.data,
                     actor=g.principal.actor, **form.terms())
    except (Invalid, Conflict) as exc:
        db_session().rollback()
        _field_error(form, exc)
        return page("commissions/rule", reseller=row, form=form, status=422)
    flash("The commission rule is added.", "success")
    return redirect(url_for(".reseller", code=code))


def _rule_form_data(rule) -> dict:
    tiers = "\n".join(f"{t['from']}: {t['rate']}" for t in rule.tiers) if rule.tiers else ""
    return {"kind": rule.kind, "effective_from": rule.effective_from, "effective_until": rule.effective_until,
            "rate": rule.rate, "amount": rule.amount, "currency": rule.currency, "months": rule.months,
            "tiers": tiers}


@requires(kinds=STAFF_KINDS)
def edit_rule(code: str, rule_id: int):
    """The API's PATCH: a rule that has started is ended and its successor carries the new terms."""
    row = _reseller(code)
    rule = rules.get(db_session(), row.id, rule_id)
    started = rule.effective_from <= clock.today()
    if request.method == "GET":
        form = RuleForm(formdata=None, data=_rule_form_data(rule))
        form.kind.choices = [c for c in form.kind.choices if c.value == rule.kind]
        return page("commissions/rule", reseller=row, form=form, rule=rule, started=started)
    form = RuleForm()
    form.kind.choices = [c for c in form.kind.choices if c.value == rule.kind]
    if not form.validate_on_submit():
        _failed(form)
        return page("commissions/rule", reseller=row, form=form, rule=rule, started=started, status=422)
    changes = form.terms()
    if form.effective_from.data != rule.effective_from:
        changes["effective_from"] = form.effective_from.data
    try:
        rules.update(db_session(), row.id, rule_id, today=clock.today(), actor=g.principal.actor, **changes)
    except (Invalid, Conflict) as exc:
        db_session().rollback()
        _field_error(form, exc)
        return page("commissions/rule", reseller=row, form=form, rule=rules.get(db_session(), row.id, rule_id),
                    started=started, status=422)
    flash("The commission rule is changed.", "success")
    return redirect(url_for(".reseller", code=code))


@requires(kinds=STAFF_KINDS)
def end_rule(code: str, rule_id: int):
    row = _reseller(code)
    rule = rules.get(db_session(), row.id, rule_id)
    form = ActionForm()
    if request.method == "GET":
        return page("commissions/end_rule", reseller=row, rule=rule, form=form, kinds=KIND_WORDS,
                    started=rule.effective_from <= clock.today())
    if not form.validate_on_submit():
        form.form_errors.append(FORM_EXPIRED)
        return page("commissions/end_rule", reseller=row, rule=rule, form=form, kinds=KIND_WORDS,
                    started=rule.effective_from <= clock.today(), status=422)
    ended = rules.end(db_session(), row.id, rule_id, today=clock.today(), actor=g.principal.actor)
    flash("The commission rule is deleted." if ended is None else "The commission rule is ended.", "success")
    return redirect(url_for(".reseller", code=code))


# -- the payout schedule -------------------------------------------------------------------------------------

@requires(kinds=STAFF_KINDS)
def schedule(code: str):
    row = _reseller(code)
    with of_reseller.in_schema(state().db, row) as s:
        current = payouts.schedule(s)
    if request.method == "GET":
        form = ScheduleForm(formdata=None, data={k: getattr(current, k) for k in (
            "frequency", "processing_day", "minimum_threshold", "method", "currency", "dispute_window_days")})
        return page("commissions/schedule", reseller=row, form=form)
    form = ScheduleForm()
    if not form.validate_on_submit():
        _failed(form)
        return page("commissions/schedule", reseller=row, form=form, status=422)
    try:
        with of_reseller.in_schema(state().db, row) as s:
            payouts.set_schedule(s, frequency=form.frequency.data, processing_day=form.processing_day.data,
                                 minimum_threshold=form.minimum_threshold.data, method=form.method.data,
                                 currency=form.currency.data.upper(),
                                 dispute_window_days=form.dispute_window_days.data,
                                 details=current.details, actor=g.principal.actor)  # its payment details kept
    except (Invalid, Conflict) as exc:
        _field_error(form, exc)
        return page("commissions/schedule", reseller=row, form=form, status=422)
    flash("The payout schedule is saved.", "success")
    return redirect(url_for(".reseller", code=code))


# -- payouts -------------------------------------------------------------------------------------------------

def _payout_page(row, payout_id: int, *, approve_form=None, pay_form=None, status: int = 200):
    with of_reseller.in_schema(state().db, row) as s:
        found = payouts.get(s, payout_id)
        shown = _payout_row(found)
        lines = [{"kind": line.kind, "period_start": line.period_start, "period_end": line.period_end,
                  "base_amount": line.base_amount, "rate": line.rate, "amount": line.amount,
                  "currency": line.currency, "status": line.status} for line in payouts.lines(s, payout_id)]
        current = payouts.schedule(s)
    pay_form = pay_form or PayForm(formdata=None, method=current.method, payout_currency=current.currency)
    return page("commissions/payout", reseller=row, payout=shown, status=status,
                lines=tables.view(LINES, tables.state(LINES), lines, len(lines)), methods=METHOD_WORDS,
                approve_form=approve_form or ApproveForm(formdata=None), pay_form=pay_form, kinds=KIND_WORDS)


@requires(kinds=STAFF_KINDS)
def payout(code: str, payout_id: int):
    return _payout_page(_reseller(code), payout_id)


@requires(kinds=STAFF_KINDS)
def approve(code: str, payout_id: int):
    row = _reseller(code)
    form = ApproveForm()
    if not form.validate_on_submit():
        _failed(form)
        return _payout_page(row, payout_id, approve_form=form, status=422)
    try:
        with of_reseller.in_schema(state().db, row) as s:
            payouts.approve(s, payout_id, actor=g.principal.actor, note=(form.note.data or "").strip() or None)
    except Conflict as exc:
        form.form_errors.append(exc.detail)
        return _payout_page(row, payout_id, approve_form=form, status=409)
    flash("The payout is approved for payment.", "success")
    return redirect(url_for(".payout", code=code, payout_id=payout_id))


@requires(kinds=STAFF_KINDS)
def pay(code: str, payout_id: int):
    row = _reseller(code)
    form = PayForm()
    if not form.validate_on_submit():
        _failed(form)
        return _payout_page(row, payout_id, pay_form=form, status=422)
    try:
        with of_reseller.in_schema(state().db, row) as s:
            payouts.mark_paid(s, payout_id, method=form.method.data, reference=form.reference.data.strip(),
                              payout_currency=(form.payout_currency.data or "").upper() or None,
                              fx_rate=form.fx_rate.data, actor=g.principal.actor)
    except (Invalid, Conflict) as exc:
        _field_error(form, exc)
        return _payout_page(row, payout_id, pay_form=form, status=422 if isinstance(exc, Invalid) else 409)
    flash("The payout is recorded as paid.", "success")
    return redirect(url_for(".payout", code=code, payout_id=payout_id))


# -- disputes ------------------------------------------------------------------------------------------------

def _dispute_page(row, dispute_id: int, *, form=None, status: int = 200):
    with of_reseller.in_schema(state().db, row) as s:
        found = disputes.get(s, dispute_id)
        shown = _dispute_row(found)
        lines = [{"line_id": d.line_id, "amount": d.amount, "previous_status": d.previous_status}
                 for d in disputes.disputed_lines(s, [dispute_id])[dispute_id]]
        files = [{"id": a.id, "file_name": a.file_name, "size": a.size}
                 for a in disputes.attachments(s, [dispute_id])[dispute_id]]
        number = payouts.get(s, found.payout_id).number if found.payout_id else None
    return page("commissions/dispute", reseller=row, dispute=shown, lines=lines, files=files, payout_number=number,
                form=form or ResolveForm(formdata=None), status=status)


@requires(kinds=STAFF_KINDS)
def dispute(code: str, dispute_id: int):
    return _dispute_page(_reseller(code), dispute_id)


@requires(kinds=STAFF_KINDS)
def resolve(code: str, dispute_id: int):
    row = _reseller(code)
    form = ResolveForm()
    if not form.validate_on_submit():
        _failed(form)
        return _dispute_page(row, dispute_id, form=form, status=422)
    try:
        with of_reseller.in_schema(state().db, row) as s:
            disputes.resolve(s, dispute_id, outcome=form.outcome.data, note=form.note.data,
                             adjusted_amount=form.adjusted_amount.data if form.outcome.data == "Adjusted" else None,
                             actor=g.principal.actor)
    except (Invalid, Conflict) as exc:
        _field_error(form, exc)
        return _dispute_page(row, dispute_id, form=form, status=422 if isinstance(exc, Invalid) else 409)
    flash("The dispute is settled.", "success")
    return redirect(url_for(".dispute", code=code, dispute_id=dispute_id))


@requires(kinds=STAFF_KINDS)
def attachment(code: str, dispute_id: int, attachment_id: int):
    """A document the reseller attached, as uploaded (never shown inline: it is the reseller's file)."""
    with of_reseller.in_schema(state().db, _reseller(code)) as s:
        found, data = disputes.attachment(s, dispute_id, attachment_id)
    return downloads.uploaded(found, data)


bp.add_url_rule("", "index", index)
bp.add_url_rule("/<string:code>", "reseller", reseller)
bp.add_url_rule("/<string:code>/rules/new", "new_rule", new_rule, methods=["GET", "POST"])
bp.add_url_rule("/<string:code>/rules/<int:rule_id>/edit", "edit_rule", edit_rule, methods=["GET", "POST"])
bp.add_url_rule("/<string:code>/rules/<int:rule_id>/end", "end_rule", end_rule, methods=["GET", "POST"])
bp.add_url_rule("/<string:code>/schedule", "schedule", schedule, methods=["GET", "POST"])
bp.add_url_rule("/<string:code>/payouts/<int:payout_id>", "payout", payout)
bp.add_url_rule("/<string:code>/payouts/<int:payout_id>/approve", "approve", approve, methods=["POST"])
bp.add_url_rule("/<string:code>/payouts/<int:payout_id>/pay", "pay", pay, methods=["POST"])
bp.add_url_rule("/<string:code>/disputes/<int:dispute_id>", "dispute", dispute)
bp.add_url_rule("/<string:code>/disputes/<int:dispute_id>/resolve", "resolve", resolve, methods=["POST"])
bp.add_url_rule("/<string:code>/disputes/<int:dispute_id>/attachments/<int:attachment_id>", "attachment", attachment)
