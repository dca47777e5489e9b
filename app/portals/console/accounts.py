"""The console's Reseller accounts pages, `/console/accounts`: every reseller's account with the master ISP in
a line (balance, overdue, how much of its credit it uses, alerts, what applies now) and the emergency credit
requests waiting for an answer; one reseller's account (its settings, standing, thresholds, alerts and
emergency credits); its settings, the credit limit first (set up an account that has none); approving or
declining an emergency credit. As the console API does it (app/api/reseller_accounts), audited.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for

from app.portals import tables
from app.portals.console.accounts_forms import ACTION_WORDS, AccountForm, DecisionForm
from app.portals.console.shell import STAFF_KINDS, guard, page
from app.portals.forms import FORM_EXPIRED, expired
from app.portals.tables import Column, TableSpec
from app.services import resellers
from app.services import tenants as tenant_svc
from app.services.errors import Conflict, Invalid
from app.services.reseller_accounts import accounts, decisions, emergency, view
from app.web import db_session
from app.web.auth import requires

bp = Blueprint("console_accounts", __name__, url_prefix="/console/accounts")
guard(bp)

ACCOUNTS = TableSpec("reseller_accounts", "Reseller accounts", (
    Column("tenant_code", "Reseller"), Column("credit_limit", "Credit limit", type="money"),
    Column("balance", "Balance", type="money"), Column("overdue", "Overdue", type="money"),
    Column("utilisation", "Credit used", type="percent"), Column("open_alerts", "Alerts")), exportable=False,
    per_page=1000)
REQUESTS = TableSpec("emergency_requests", "Emergency credit requests", (
    Column("reseller", "Reseller"), Column("amount", "Amount", type="money"), Column("reason", "Reason"),
    Column("requested_at", "Requested", type="date"), Column("actions", "Answer")), exportable=False, per_page=1000)
CREDITS = TableSpec("emergency_credits", "Emergency credits", (
    Column("amount", "Amount", type="money"), Column("status", "Status"), Column("reason", "Reason"),
    Column("requested_at", "Requested", type="date"), Column("expires_at", "Expires", type="date"),
    Column("actions", "Answer")), exportable=False, per_page=1000)


def _waiting() -> list[dict]:
    """Every reseller's emergency credit requests without an answer, oldest first."""
    session = db_session()
    found = []
    for placed in resellers.tree(session):
        account = accounts.find(session, placed.row.id)
        if account is None:
            continue
        for row in emergency.list_credits(session, placed.row.id):
            if row.status == "requested":
                found.append({"id": row.id, "code": placed.row.code, "reseller": placed.row.name,
                              "amount": row.amount, "currency": account.currency, "reason": row.reason,
                              "requested_at": row.requested_at})
    return sorted(found, key=lambda r: r["requested_at"])


@requires(kinds=STAFF_KINDS)
def index():
    session = db_session()
    names = {p.row.code: p.row.name for p in resellers.tree(session)}
    lines = [{**line, "name": names.get(line["tenant_code"], line["tenant_code"])} for line in view.overview(session)]
    with_account = {line["tenant_code"] for line in lines}
    waiting = _waiting()
    return page("accounts/index", table=tables.view(ACCOUNTS, tables.state(ACCOUNTS), lines, len(lines)),
                requests=tables.view(REQUESTS, tables.state(REQUESTS), waiting, len(waiting)),
                without=[(code, name) for code, name in names.items() if code not in with_account])


@requires(kinds=STAFF_KINDS)
def reseller(code: str):
    session = db_session()
    row = tenant_svc.get(session, code)
    if accounts.find(session, row.id) is None:
        return page("accounts/reseller", reseller=row, account=None, credits=None, words=ACTION_WORDS)
    found = view.summary(session, row.id)
    credits = [{**c, "currency": found["currency"]} for c in found["emergency_credits"]]
    return page("accounts/reseller", reseller=row, account=found, words=ACTION_WORDS,
                credits=tables.view(CREDITS, tables.state(CREDITS), credits, len(credits)))


@requires(kinds=STAFF_KINDS)
def settings(code: str):
    session = db_session()
    row = tenant_svc.get(session, code)
    current = accounts.find(session, row.id)
    if request.method == "GET":
        data = {"currency": accounts.DEFAULT_CURRENCY, "warning_percent": 80, "restriction_percent": 90,
                "payment_terms_days": "30"}
        if current is not None:
            data = {k: getattr(current, k) for k in accounts.SETTINGS}
            data["payment_terms_days"] = str(current.payment_terms_days)
        return page("accounts/settings", reseller=row, form=AccountForm(formdata=None, data=data), new=current is None)
    form = AccountForm()
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return page("accounts/settings", reseller=row, form=form, new=current is None, status=422)
    values = form.values()
    if current is not None and values["currency"] == current.currency:
        values.pop("currency")  # unchanged: never refused for an account with entries
    try:
        decisions.configure(session, row.id, values, actor=g.principal.actor)
    except (Invalid, Conflict) as exc:
        session.rollback()
        named = exc.extra.get("field") or ("currency" if "currency" in exc.extra else "")
        field = getattr(form, str(named), None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors or []), exc.detail]
        else:
            form.form_errors.append(exc.detail)
        return page("accounts/settings", reseller=row, form=form, new=current is None, status=422)
    flash("The account's settings are saved.", "success")
    return redirect(url_for(".reseller", code=code))


def _credit_page(row, credit_id: int, form=None, status: int = 200):
    session = db_session()
    account = accounts.get(session, row.id)
    credit = view.credit_out(emergency.get(session, row.id, credit_id))
    return page("accounts/emergency", reseller=row, credit=credit, currency=account.currency,
                form=form or DecisionForm(formdata=None), status=status)


@requires(kinds=STAFF_KINDS)
def emergency_credit(code: str, credit_id: int):
    return _credit_page(tenant_svc.get(db_session(), code), credit_id)


def _decide(code: str, credit_id: int, approve: bool):
    session = db_session()
    row = tenant_svc.get(session, code)
    form = DecisionForm()
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return _credit_page(row, credit_id, form, status=422)
    try:
        decisions.decide_emergency_credit(session, row.id, credit_id, approve=approve, actor=g.principal.actor,
                                          note=(form.note.data or "").strip() or None)
    except (Invalid, Conflict) as exc:
        session.rollback()
        form.form_errors.append(exc.detail)
        return _credit_page(row, credit_id, form, status=409)
    flash("The emergency credit is approved for 48 hours." if approve else "The emergency credit is declined.",
          "success")
    return redirect(url_for(".reseller", code=code))


@requires(kinds=STAFF_KINDS)
def approve(code: str, credit_id: int):
    return _decide(code, credit_id, True)


@requires(kinds=STAFF_KINDS)
def decline(code: str, credit_id: int):
    return _decide(code, credit_id, False)


bp.add_url_rule("", "index", index)
bp.add_url_rule("/<string:code>", "reseller", reseller)
bp.add_url_rule("/<string:code>/settings", "settings", settings, methods=["GET", "POST"])
bp.add_url_rule("/<string:code>/emergency-credit/<int:credit_id>", "emergency_credit", emergency_credit)
bp.add_url_rule("/<string:code>/emergency-credit/<int:credit_id>/approve", "approve", approve, methods=["POST"])
bp.add_url_rule("/<string:code>/emergency-credit/<int:credit_id>/decline", "decline", decline, methods=["POST"])
