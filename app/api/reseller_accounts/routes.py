"""A reseller's account with the master ISP.

Console (master ISP staff): `/console/api/resellers/<code>/account` — the account with its balance,
utilisation, thresholds and alerts (GET), its settings (PUT: credit limit, thresholds, actions at the
limit, payment terms); its entries; the reseller's payments and the master ISP's adjustments (POSTs,
`Idempotency-Key` honoured); the emergency credits, approved or rejected here.

Reseller: `/reseller/api/account` — its own account only (the tenant of the host or token; there is no
way to name another), its entries, and its emergency credit requests.
"""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from app.api.reseller_accounts import schemas as s
from app.api.reseller_accounts.idempotent import PARAMETER, idempotent
from app.services import audit
from app.services.auth.principal import USER
from app.services.reseller_accounts import accounts, decisions, emergency, payments, view
from app.web import db_session
from app.web.auth import requires
from tenants import require_tenant

console_blp = Blueprint("reseller_accounts_console", __name__, url_prefix="/console/api/resellers",
                        description="Resellers' accounts with the master ISP: credit limits, charges, payments")
reseller_blp = Blueprint("reseller_account_api", __name__, url_prefix="/reseller/api/account",
                         description="Your account with your provider: balance, credit, charges, emergency credit")
BLUEPRINTS = [console_blp, reseller_blp]
STAFF = ("staff",)
USERS = (USER,)


def _tenant_id(code: str) -> int:
    return accounts.tenant_id_of(db_session(), code)


# -- master ISP staff ---------------------------------------------------------------------------------
@console_blp.route("/accounts")
@requires(kinds=STAFF)
@console_blp.response(200, s.AccountLineOut(many=True))
def list_accounts():
    """Every reseller's account in a line: balance, overdue, utilisation, open alerts, what applies now;
    the most used credit first (resellers without a limit last)."""
    return view.overview(db_session())


@console_blp.route("/<string:code>/account")
@requires(kinds=STAFF)
@console_blp.response(200, s.AccountOut)
def get_account(code):
    """The reseller's account: settings, balance, overdue, utilisation, thresholds, what applies now,
    alerts and emergency credits. 404 until the account is set up (PUT) or a charge accrues."""
    return view.summary(db_session(), _tenant_id(code))


@console_blp.route("/<string:code>/account", methods=["PUT"])
@requires(kinds=STAFF)
@console_blp.arguments(s.AccountSettingsIn)
@console_blp.response(200, s.AccountOut)
def put_account(body, code):
    """Set up the account or change its settings (fields left out keep their value). The thresholds are
    evaluated at once: a lower limit may raise an alert."""
    session = db_session()
    tenant_id = _tenant_id(code)
    decisions.configure(session, tenant_id, body, actor=g.principal.actor)
    return view.summary(session, tenant_id)


@console_blp.route("/<string:code>/account/entries")
@requires(kinds=STAFF)
@console_blp.arguments(s.AccountEntryListArgs, location="query")
@console_blp.response(200, s.AccountEntryPage)
def list_entries(args, code):
    """The account's entries (charges, payments, adjustments, reversals), newest first, with allocations."""
    return view.entries_page(db_session(), _tenant_id(code), **args)


@console_blp.route("/<string:code>/account/payments", methods=["POST"])
@requires(kinds=STAFF)
@idempotent
@console_blp.arguments(s.AccountPaymentIn)
@console_blp.response(201, s.AccountPaymentOut)
@console_blp.doc(parameters=[PARAMETER])
def record_payment(body, code):
    """Record a payment the reseller made (in the account's currency); it is applied to the oldest
    charges first, what is left pays the next ones. A reference already recorded is a 409."""
    session = db_session()
    tenant_id = _tenant_id(code)
    done = payments.record(session, tenant_id, actor=g.principal.actor, **body)
    audit.record(session, g.principal.actor, "reseller_account.payment", tenant_id, entry_id=done.payment.id,
                 amount=str(-done.payment.amount), reference=done.payment.reference)
    return {"payment": view.entries_out(session, [done.payment])[0], "account": view.summary(session, tenant_id)}


@console_blp.route("/<string:code>/account/adjustments", methods=["POST"])
@requires(kinds=STAFF)
@idempotent
@console_blp.arguments(s.AccountAdjustmentIn)
@console_blp.response(201, s.AccountPaymentOut)
@console_blp.doc(parameters=[PARAMETER])
def adjust_account(body, code):
    """Correct the account with a new entry (it is append-only): a positive amount is a debit the reseller
    owes, due after its payment terms; a negative one a credit, applied to the oldest charges. The answer
    has the entry as `payment`."""
    session = db_session()
    tenant_id = _tenant_id(code)
    done = payments.adjust(session, tenant_id, amount=body["amount"], reason=body["reason"], actor=g.principal.actor)
    audit.record(session, g.principal.actor, "reseller_account.adjustment", tenant_id, entry_id=done.payment.id,
                 amount=str(done.payment.amount), reason=body["reason"])
    return {"payment": view.entries_out(session, [done.payment])[0], "account": view.summary(session, tenant_id)}


@console_blp.route("/<string:code>/account/emergency-credit")
@requires(kinds=STAFF)
@console_blp.response(200, s.AccountEmergencyCreditOut(many=True))
def list_emergency_credits(code):
    """The reseller's emergency credits, newest first."""
    return [view.credit_out(c) for c in emergency.list_credits(db_session(), _tenant_id(code))]


def _decide(code: str, credit_id: int, body: dict, approve: bool) -> dict:
    row = decisions.decide_emergency_credit(db_session(), _tenant_id(code), credit_id, approve=approve,
                                            actor=g.principal.actor, note=body.get("note"))
    return view.credit_out(row)


@console_blp.route("/<string:code>/account/emergency-credit/<int:credit_id>/approve", methods=["POST"])
@requires(kinds=STAFF)
@console_blp.arguments(s.EmergencyCreditDecisionIn)
@console_blp.response(200, s.AccountEmergencyCreditOut)
def approve_emergency_credit(body, code, credit_id):
    """Approve a requested emergency credit: it counts on top of the limit for 48 hours from now."""
    return _decide(code, credit_id, body, True)


@console_blp.route("/<string:code>/account/emergency-credit/<int:credit_id>/reject", methods=["POST"])
@requires(kinds=STAFF)
@console_blp.arguments(s.EmergencyCreditDecisionIn)
@console_blp.response(200, s.AccountEmergencyCreditOut)
def reject_emergency_credit(body, code, credit_id):
    """Reject a requested emergency credit."""
    return _decide(code, credit_id, body, False)


# -- the reseller -------------------------------------------------------------------------------------
@reseller_blp.route("")
@requires("finance.view", kinds=USERS)
@reseller_blp.response(200, s.AccountOut)
def my_account():
    """Your account with your provider: balance, overdue, credit limit and utilisation, thresholds, what
    applies at the limit, alerts and emergency credits. 404 while your provider has not set it up."""
    return view.summary(db_session(), require_tenant().id)


@reseller_blp.route("/entries")
@requires("finance.view", kinds=USERS)
@reseller_blp.arguments(s.AccountEntryListArgs, location="query")
@reseller_blp.response(200, s.AccountEntryPage)
def my_entries(args):
    """Your account's entries: wholesale charges (with their due dates), payments and how they were
    applied, newest first."""
    return view.entries_page(db_session(), require_tenant().id, **args)


@reseller_blp.route("/emergency-credit")
@requires("finance.view", kinds=USERS)
@reseller_blp.response(200, s.AccountEmergencyCreditOut(many=True))
def my_emergency_credits():
    """Your emergency credit requests, newest first."""
    return [view.credit_out(c) for c in emergency.list_credits(db_session(), require_tenant().id)]


@reseller_blp.route("/emergency-credit", methods=["POST"])
@requires("settings.manage", kinds=USERS)
@reseller_blp.arguments(s.EmergencyCreditRequestIn)
@reseller_blp.response(201, s.AccountEmergencyCreditOut)
def request_emergency_credit(body):
    """Ask your provider for emergency credit: up to 25 % of your credit limit, for 48 hours from its
    approval. One request at a time (409 while another is open or active)."""
    row = emergency.request(db_session(), require_tenant().id, amount=body["amount"], reason=body["reason"],
                            actor=g.principal.actor)
    return view.credit_out(row)
