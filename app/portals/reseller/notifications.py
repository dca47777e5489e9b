"""The reseller portal's notification centre, `/reseller/notifications`: what happened that needs someone —
credit thresholds reached, IP pools exhausted or running out, billing runs finished, payments that matched
no customer, change requests waiting for approval — newest first, filtered by kind and by "new only", each
with a link to the page where it is dealt with (when that page exists and the member may open it).

The notices are read from the rows the platform keeps already (app/services/notification_centre.py); each
kind is shown to whoever holds the permission its data needs. What is "new" is what happened since the member
last pressed "Mark all as read": that moment is kept in Redis per tenant and user, as no table records who
read what (and this section adds none).
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for
from werkzeug.routing import BuildError

from app import clock
from app.portals.forms import FORM_EXPIRED, expired
from app.portals.nav import may_open
from app.portals.reseller.catalogue_forms import ActionForm
from app.portals.reseller.shell import TEAM_KINDS, guard, page
from app.services import notification_centre as centre
from app.web import db_session, state
from app.web.auth import requires

bp = Blueprint("reseller_notifications", __name__, url_prefix="/reseller/notifications")
guard(bp)

MARKED = "Everything up to now is marked as read."
NOT_MARKED = "The notices could not be marked as read just now. Please try again later."
KIND_WORDS = {"credit": "Credit alerts", "pool": "IP pool exhausted", "pool_low": "IP pool running out",
              "billing_run": "Billing runs", "unmatched_payment": "Unmatched payments",
              "service_request": "Requests to approve"}

# where each kind is dealt with: (endpoint, the item's keys that fill its address)
WHERE = {
    "credit": ("reseller_account.index", {}),
    "pool": ("reseller_catalogue.pool", {"pool_id": "pool_id"}),
    "pool_low": ("reseller_catalogue.pool", {"pool_id": "pool_id"}),
    "billing_run": ("reseller_billing_runs.run", {"run_id": "run_id"}),
    "unmatched_payment": ("reseller_billing_payments.index", {}),
    "service_request": ("reseller_catalogue.requests", {}),
}


def link_of(item: dict) -> str | None:
    """The page of a notice, if it exists and the member may open it."""
    endpoint, keys = WHERE[item["kind"]]
    if not may_open(endpoint):
        return None
    try:
        url = url_for(endpoint, **{arg: item[key] for arg, key in keys.items()})
    except BuildError:
        return None
    return url + (f"#request-{item['request_id']}" if item["kind"] == "service_request" else "")


def _seen():
    return centre.last_seen(state().redis, g.tenant.schema, g.principal.id)


@requires(kinds=TEAM_KINDS)
def index():
    session = db_session()
    kinds = centre.kinds_for(g.principal)
    kind = request.args.get("kind")
    kind = kind if kind in kinds else None
    only_new = request.args.get("show") == "new"
    seen = _seen()
    items = centre.collect(session, g.principal, g.tenant.id, [kind] if kind else None, seen)
    new_count = sum(1 for i in items if i["new"])
    if only_new:
        items = [i for i in items if i["new"]]
    for item in items:
        item["url"] = link_of(item)
    return page("notifications/index", items=items, kinds=[(k, KIND_WORDS[k]) for k in kinds], kind=kind,
                only_new=only_new, new_count=new_count, seen=seen, form=ActionForm())


@requires(kinds=TEAM_KINDS)
def mark_read():
    form = ActionForm()
    if not form.validate_on_submit():
        flash(FORM_EXPIRED if expired(form) else NOT_MARKED, "error")
    elif centre.mark_seen(state().redis, g.tenant.schema, g.principal.id, clock.now()):
        flash(MARKED, "success")
    else:
        flash(NOT_MARKED, "error")
    kept = {k: v for k, v in request.args.items() if k in ("kind", "show")}
    return redirect(url_for(".index", **kept), code=303)


bp.add_url_rule("", "index", index)
bp.add_url_rule("/read", "mark_read", mark_read, methods=["POST"])
