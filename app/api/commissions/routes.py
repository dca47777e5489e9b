"""Commissions: the master ISP's rules per reseller (console), and a reseller's own lines and totals.

Rules: `/console/api/resellers/<code>/commission-rules`, staff only. A rule that has started is never
rewritten: PATCH ends it and starts its successor today, DELETE ends it (app/services/commissions/rules.py).

Lines: `/reseller/api/commissions`, what the signed-in reseller earns (from its own customers and, by
pass-through, from its sub-resellers'), with `finance.view`. A user limited to some customers sees only
the lines of those customers.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from flask_smorest import Blueprint

from app import clock
from app.api.commissions import schemas as s
from app.api.visibility import principal
from app.models.commissions import CommissionRule
from app.services import periods
from app.services import tenants as tenant_svc
from app.services.auth.principal import USER
from app.services.commissions import rules, summary
from app.web import db_session
from app.web.auth import requires

console_blp = Blueprint("commission_rules", __name__, url_prefix="/console/api/resellers",
                        description="Commission rules per reseller (master ISP)")
reseller_blp = Blueprint("commissions", __name__, url_prefix="/reseller/api/commissions",
                         description="A reseller's commission lines and totals")
BLUEPRINTS = [console_blp, reseller_blp]
STAFF = ("staff",)
KINDS = (USER,)


def _rule_out(rule: CommissionRule) -> dict:
    out = {c: getattr(rule, c) for c in ("id", "tenant_id", "kind", "rate", "amount", "currency", "months",
                                         "effective_from", "effective_until", "created_at", "created_by")}
    out["tiers"] = [{"start": t["from"], "rate": t["rate"]} for t in rule.tiers] if rule.tiers is not None else None
    return out


def _terms(body: dict) -> dict:
    terms = dict(body)
    if terms.get("tiers") is not None:
        terms["tiers"] = [{"from": str(t["start"]), "rate": str(t["rate"])} for t in terms["tiers"]]
    return terms


def _today() -> date:
    return clock.today()


# -- rules (console) ------------------------------------------------------------------------------------
@console_blp.route("/<string:code>/commission-rules")
@requires(kinds=STAFF)
@console_blp.arguments(s.CommissionRuleListArgs, location="query")
@console_blp.response(200, s.CommissionRuleOut(many=True))
def list_rules(args, code):
    """The reseller's commission rules, by kind and first day (`on`: only those in force that day)."""
    session = db_session()
    tenant = tenant_svc.get(session, code)
    return [_rule_out(r) for r in rules.list_rules(session, tenant.id, **args)]


@console_blp.route("/<string:code>/commission-rules", methods=["POST"])
@requires(kinds=STAFF)
@console_blp.arguments(s.CommissionRuleIn)
@console_blp.response(201, s.CommissionRuleOut)
def create_rule(body, code):
    """A rule for one kind of commission from `effective_from` (until `effective_until`, inclusive).
    409 when another rule of that kind overlaps; 422 when its terms do not fit its kind or its rate is
    above the parent's or below a sub-reseller's."""
    session = db_session()
    tenant = tenant_svc.get(session, code)
    terms = _terms(body)
    kind, start = terms.pop("kind"), terms.pop("effective_from")
    return _rule_out(rules.create(session, tenant.id, kind=kind, effective_from=start, actor=principal().actor,
                                  **terms))


@console_blp.route("/<string:code>/commission-rules/<int:rule_id>", methods=["PATCH"])
@requires(kinds=STAFF)
@console_blp.arguments(s.CommissionRulePatch)
@console_blp.response(200, s.CommissionRuleOut)
def update_rule(body, code, rule_id):
    """Change a rule. One that has started is ended yesterday and the answer is its successor, from today
    (or the `effective_from` given, today or later), with the new terms."""
    session = db_session()
    tenant = tenant_svc.get(session, code)
    return _rule_out(rules.update(session, tenant.id, rule_id, today=_today(), actor=principal().actor,
                                  **_terms(body)))


@console_blp.route("/<string:code>/commission-rules/<int:rule_id>", methods=["DELETE"])
@requires(kinds=STAFF)
@console_blp.response(200, s.CommissionRuleEnded)
def end_rule(code, rule_id):
    """Delete a rule that has not started; end one that has (yesterday, or today if it started today),
    keeping it for the lines it made."""
    session = db_session()
    tenant = tenant_svc.get(session, code)
    rule = rules.end(session, tenant.id, rule_id, today=_today(), actor=principal().actor)
    return {"deleted": rule is None, "rule": _rule_out(rule) if rule is not None else None}


# -- lines (reseller) ------------------------------------------------------------------------------------
def _window(args: dict) -> dict:
    """A `period` as the days of its month. Any month of the calendar will do (a report reads, and an empty
    month is an honest answer); one that is not a month is a 422 naming `period` (app/services/periods.py)."""
    period = args.pop("period", None)
    if period:
        month = periods.parse(period)
        args["start"], args["end"] = month.first_day, month.last_day
    return args


def _line_out(line) -> dict:
    return {c: getattr(line, c) for c in (
        "id", "reseller_id", "customer_id", "source_tenant_id", "source_payment_id", "rule_id", "kind", "base_amount",
        "rate", "amount", "currency", "period_start", "period_end", "status", "reverses_id", "payout_id", "note",
        "created_at")}


@reseller_blp.route("")
@requires("finance.view", kinds=KINDS)
@reseller_blp.arguments(s.CommissionLineListArgs, location="query")
@reseller_blp.response(200, s.CommissionLinePage)
def list_lines(args):
    """Commission lines earned by this reseller, newest period first, a page at a time, with the total.
    Filters: `period` (YYYY-MM) or `start`/`end`, `kind`, `status`, `customer_id`, `source_tenant_id`."""
    args = _window(args)
    rows, total = summary.lines(db_session(), visible=principal().allowed_customer_ids, **args)
    return {"items": [_line_out(r) for r in rows], "total": total, "page": args["page"],
            "per_page": args["per_page"]}


@reseller_blp.route("/summary")
@requires("finance.view", kinds=KINDS)
@reseller_blp.arguments(s.CommissionPeriodArgs, location="query")
@reseller_blp.response(200, s.CommissionSummaryOut)
def lines_summary(args):
    """Totals by kind, status and currency for the period (all time without one), and the net per
    currency (Rejected lines excluded)."""
    args = _window(args)
    totals = summary.totals(db_session(), visible=principal().allowed_customer_ids, **args)
    net: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for row in totals:
        if row["status"] != "Rejected":
            net[row["currency"]] += row["amount"]
    return {"start": args.get("start"), "end": args.get("end"), "totals": totals,
            "net": [{"currency": c, "amount": a} for c, a in sorted(net.items())]}
