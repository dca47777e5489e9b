"""The reseller's account with the master ISP, `/reseller/account`: what it owes its provider for wholesale
service, and how much room its credit limit leaves.

- The overview (`index`): balance, overdue, the credit limit and how much of it is used (a <meter> with its
  figures written out, so colour and shape are never the only sign), the thresholds and which are reached, what
  applies at the limit now, the open alerts, and the emergency credits asked for — all of it the service's
  `summary` (app/services/reseller_accounts/view.py), which the API's `/reseller/api/account` answers.
- The entries: charges, payments, adjustments and reversals, newest first, a kind filter, paged, exported.
- Asking for emergency credit (amount, reason): the service's rules (at most 25 % of the limit, one open request
  at a time), the API's permission (`settings.manage`).

The account is always the signed-in reseller's own (the tenant of the host): there is no address naming another.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from app.models.reseller_accounts import ENTRY_KINDS
from app.portals import tables
from app.portals.forms import FORM_EXPIRED, expired
from app.portals.nav import may_open
from app.portals.reseller.shell import TEAM_KINDS, guard, page
from app.portals.tables import Column, TableSpec
from app.services.billing.invoices import local_date, local_today, zone_of
from app.services.errors import Conflict, Invalid
from app.services.money import money
from app.services.reseller_accounts import accounts, emergency, view
from app.web import db_session
from app.web.auth import requires

bp = Blueprint("reseller_account", __name__, url_prefix="/reseller/account")
guard(bp)

EVERY_ROW = 10_000
KIND_WORDS = {"charge": "Charge", "payment": "Payment", "adjustment": "Adjustment", "reversal": "Reversal"}

# What the page says (msgids); the service's own words are for the API.
AMOUNT_MISSING = "Enter the amount of credit you need."
AMOUNT_WRONG = "Enter an amount like 5000 or 5000.50."
AMOUNT_RANGE = "Enter an amount of more than zero and at most the maximum shown."
REASON_MISSING = "Say why you need the credit."
REASON_LONG = "The reason can be at most 2000 characters."
ONE_AT_A_TIME = "An emergency credit is already requested or active: a new request waits until it ends."
NO_LIMIT = "Your account has no credit limit, so there is no credit to extend."

ENTRIES = TableSpec("account_entries", "Account entries", (
    Column("at", "Date", type="date"), Column("kind_word", "Kind"), Column("description", "Description"),
    Column("reference", "Reference"), Column("due_on", "Due", type="date"), Column("amount", "Amount", type="money")),
    per_page=25)


class EntryFilterForm(FlaskForm):
    class Meta:
        csrf = False

    kind = SelectField(choices=[SelectChoice("", "Every kind"), *(SelectChoice(k, KIND_WORDS[k]) for k in ENTRY_KINDS)],
                       default="", validators=[Optional()])


class EmergencyCreditForm(FlaskForm):
    amount = StringField(validators=[InputRequired(AMOUNT_MISSING), Length(max=20, message=AMOUNT_WRONG)])
    reason = TextAreaField(validators=[InputRequired(REASON_MISSING), Length(max=2000, message=REASON_LONG)])

    def validate_amount(self, field):
        try:
            money(field.data.strip().replace(",", ""), "amount")
        except Invalid:
            raise ValidationError(AMOUNT_WRONG) from None


def me() -> int:
    return g.tenant.id


def may(endpoint: str) -> bool:
    """Whether the member may use the write page at `endpoint` (its `requires`; never in a read-only session)."""
    return may_open(endpoint) and not g.principal.read_only


def _summary() -> dict | None:
    """The account as the API gives it; None while the master ISP has not set it up (the API's 404)."""
    session = db_session()
    if accounts.find(session, me()) is None:
        return None
    return view.summary(session, me())


@requires("finance.view", kinds=TEAM_KINDS)
def index():
    found = _summary()
    return page("account/index", account=found, may_request=may("reseller_account.emergency_credit"))


@requires("finance.view", kinds=TEAM_KINDS)
def entries():
    session = db_session()
    if accounts.find(session, me()) is None:
        return page("account/entries", form=EntryFilterForm(formdata=None), table=None)
    form = EntryFilterForm(formdata=request.args)
    if not form.validate():
        form = EntryFilterForm(formdata=None)
    kind = form.kind.data or None
    state = tables.state(ENTRIES)
    fmt = tables.wanted_format()
    found = view.entries_page(session, me(), kind=kind, page=1 if fmt else state.page,
                              per_page=EVERY_ROW if fmt else state.per_page)
    where = zone_of(session)
    rows = [{**e, "at": local_date(e["at"], where), "kind_word": KIND_WORDS.get(e["kind"], e["kind"])}
            for e in found["items"]]
    if fmt:
        today = local_today(session)
        days = [r["at"] for r in rows]
        return tables.export_response(ENTRIES, rows, fmt, scope=g.tenant.code, start=min(days, default=today),
                                      end=max(days, default=today), zone=where, filters={"kind": kind} if kind else {})
    return page("account/entries", form=form, table=tables.view(ENTRIES, state, rows, found["total"]))


def _request_page(form: EmergencyCreditForm, *, status: int = 200):
    return page("account/emergency", form=form, account=_summary(), status=status)


@requires("settings.manage", kinds=TEAM_KINDS)
def emergency_credit():
    if request.method == "GET":
        return _request_page(EmergencyCreditForm(formdata=None))
    form = EmergencyCreditForm()
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return _request_page(form, status=422)
    session = db_session()
    try:
        made = emergency.request(session, me(), amount=form.amount.data.strip().replace(",", ""),
                                 reason=form.reason.data, actor=g.principal.actor)
    except Invalid as exc:
        session.rollback()
        if exc.extra.get("field") == "reason":
            form.reason.errors = [REASON_MISSING]
        else:
            form.amount.errors = [AMOUNT_RANGE]
        return _request_page(form, status=422)
    except Conflict as exc:
        session.rollback()
        form.form_errors.append(NO_LIMIT if "no credit limit" in str(exc) else ONE_AT_A_TIME)
        return _request_page(form, status=409)
    flash("Your request for emergency credit is sent to your provider. It shows as pending until they decide.",
          "success")
    return redirect(url_for(".index", _anchor=f"credit-{made.id}"))


bp.add_url_rule("", "index", index)
bp.add_url_rule("/entries", "entries", entries)
bp.add_url_rule("/emergency-credit", "emergency_credit", emergency_credit, methods=["GET", "POST"])
