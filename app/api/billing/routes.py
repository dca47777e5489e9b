"""A reseller's tax rates and billing runs.

Tax rates apply to invoices drafted after a change (issued ones keep theirs). A billing run is started
with `POST /billing-runs {"period": "2026-11"}` and done by a worker; `GET /billing-runs/<id>` shows its
progress as the worker commits it. Starting the same period again resumes the run, or bills whoever it
did not bill yet: nobody is billed twice.
"""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from app.api.billing import schemas as s
from app.services.auth.principal import USER
from app.services.billing import runs, tax
from app.web import db_session
from app.web.auth import requires

blp = Blueprint("billing", __name__, url_prefix="/reseller/api", description="Tax rates and billing runs")
KINDS = (USER,)


@blp.route("/tax-rates")
@requires("finance.view", kinds=KINDS)
@blp.response(200, s.TaxRateOut(many=True))
def list_tax_rates():
    """Every tax rate, in the order they are applied (simple ones, then compound ones)."""
    return tax.list_rates(db_session())


@blp.route("/tax-rates", methods=["POST"])
@requires("finance.billing", kinds=KINDS)
@blp.arguments(s.TaxRateIn)
@blp.response(201, s.TaxRateOut)
def create_tax_rate(body):
    """A tax rate, for invoices drafted from now on."""
    return tax.create_rate(db_session(), **body)


@blp.route("/tax-rates/<int:rate_id>")
@requires("finance.view", kinds=KINDS)
@blp.response(200, s.TaxRateOut)
def get_tax_rate(rate_id):
    """One tax rate."""
    return tax.get_rate(db_session(), rate_id)


@blp.route("/tax-rates/<int:rate_id>", methods=["PATCH"])
@requires("finance.billing", kinds=KINDS)
@blp.arguments(s.TaxRatePatch)
@blp.response(200, s.TaxRateOut)
def update_tax_rate(body, rate_id):
    """Change a tax rate (`active: false` stops applying it); issued invoices keep the rate they had."""
    return tax.update_rate(db_session(), rate_id, body)


@blp.route("/tax-rates/<int:rate_id>", methods=["DELETE"])
@requires("finance.billing", kinds=KINDS)
@blp.response(204)
def delete_tax_rate(rate_id):
    """Delete a tax rate; invoices that used it keep its name and percentage."""
    tax.delete_rate(db_session(), rate_id)


def _runs_out(rows: list) -> list[dict]:
    """Runs as shown: a run whose worker died says `stalled` rather than `running` for ever."""
    status = runs.statuses(db_session(), rows)
    return [{**{name: getattr(row, name) for name in s.BillingRunOut().fields}, "status": status[row.id]}
            for row in rows]


@blp.route("/billing-runs")
@requires("finance.view", kinds=KINDS)
@blp.response(200, s.BillingRunOut(many=True))
def list_billing_runs():
    """The billing runs, latest period first."""
    return _runs_out(runs.list_runs(db_session()))


@blp.route("/billing-runs", methods=["POST"])
@requires("finance.billing", kinds=KINDS)
@blp.arguments(s.BillingRunIn)
@blp.response(202, s.BillingRunOut)
def start_billing_run(body):
    """Queue the billing run of a month for a worker (or resume it, a stalled one too); follow it with GET.
    The month is from the one of the reseller's first customer or service to the next month: 422 outside,
    naming `period` and the range (`allowed`), and nothing is queued."""
    return _runs_out([runs.start(db_session(), body["period"], requested_by=g.principal.actor)])[0]


@blp.route("/billing-runs/<int:run_id>")
@requires("finance.view", kinds=KINDS)
@blp.response(200, s.BillingRunOut)
def get_billing_run(run_id):
    """A billing run's progress: customers to bill and billed, invoices made, errors by customer; `stalled`
    when its worker died half-way."""
    return _runs_out([runs.get_run(db_session(), run_id)])[0]
