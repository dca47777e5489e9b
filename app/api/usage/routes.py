"""Usage monitoring: a service's daily usage and current cycle (with the buckets it draws on), its RADIUS
sessions and CoA history, its calls and messages, the customer's own usage alerts, an operator's
Disconnect, and the reseller's RADIUS policy; the intake of voice and SMS usage records from gateways;
and the same usage, calls and alerts for a signed-in customer on the portal.

A user limited to some customers sees only their services (404 otherwise, as if absent); a customer
sees only their own (404 otherwise).
"""

from __future__ import annotations

from datetime import timedelta

from flask import g
from flask_smorest import Blueprint

from app.api.usage import schemas as s
from app.models.catalogue import Plan
from app.models.provisioning import Service
from app.services import activity, audit, disconnects, services
from app.services.errors import NotFound
from app.services.ids import valid_id
from app.services.settings import get_setting, put_setting
from app.services.usage import config, records, thresholds, views
from app.web import db_session
from app.web.auth import requires
from tenants import require_tenant

blp = Blueprint("usage", __name__, url_prefix="/reseller/api",
                description="Usage, RADIUS sessions, CoA history, usage alerts and the RADIUS policy")
portal = Blueprint("portal_usage", __name__, url_prefix="/portal/api",
                   description="A signed-in customer's usage and usage alerts")
BLUEPRINTS = [blp, portal]
USER = ("user",)
CUSTOMER = ("customer",)
GATEWAYS = ("user", "client")  # a gateway signs in as an OAuth client of the reseller, or with a user's token
POLICY_CACHE_NOTE = ("The RADIUS server caches a reseller's policy for up to 30 seconds: a change reaches new "
                     "sign-ins within 30 s; live sessions keep what they were given until their next CoA or "
                     "sign-in.")


def _service(service_id: int) -> Service:
    service = services.get(db_session(), service_id)
    if not g.principal.may_see_customer(service.customer_id):
        raise NotFound("no such service")
    return service


@blp.route("/services/<int:service_id>/usage")
@requires("services.view", kinds=USER)
@blp.arguments(s.UsageArgs, location="query")
@blp.response(200, s.UsageOut)
def service_usage(args, service_id):
    """Daily upload and download (octets, the reseller's calendar, zero-filled), their totals, and the
    current billing cycle against the plan's allowance (updated with every accounting packet)."""
    return _usage(_service(service_id), args)


def _usage(service: Service, args: dict) -> dict:
    session = db_session()
    end = args["to"] or views.local_today(session)
    start = args["from_"] or end - timedelta(days=views.PORTAL_DAYS - 1)
    return views.usage(session, service, start, end, group=args["group"])


@blp.route("/services/<int:service_id>/sessions")
@requires("services.view", kinds=USER)
@blp.arguments(s.RadiusSessionArgs, location="query")
@blp.response(200, s.RadiusSessionPage)
def service_sessions(args, service_id):
    """RADIUS accounting sessions, open and closed, newest first (closed ones are kept for the reseller's
    `session_retention_days`)."""
    _service(service_id)
    return views.sessions_page(db_session(), service_id, **args)


@blp.route("/services/<int:service_id>/coa")
@requires("services.view", kinds=USER)
@blp.arguments(s.PageArgs, location="query")
@blp.response(200, s.CoaPage)
def service_coa(args, service_id):
    """CoA and Disconnect requests sent to routers for this service, newest first, with the router's
    answer (ACK, or NAK with its Error-Cause) or why it failed."""
    _service(service_id)
    return views.coa_page(db_session(), service_id, **args)


@blp.route("/services/<int:service_id>/disconnect", methods=["POST"])
@requires("services.modify", kinds=USER)
@blp.arguments(s.DisconnectIn)
@blp.response(202, s.CoaOut(many=True))
@blp.alt_response(409, description="the service has no live session")
def disconnect(body, service_id):
    """Send a Disconnect-Request for each live session: the requests are queued and sent by the worker
    (with retries); follow them on `…/coa`. The service's status is unchanged, so the router may sign the
    customer in again at once (a way to apply a new plan or clear a stuck session)."""
    rows = disconnects.disconnect(db_session(), _service(service_id), g.principal, body["reason"])
    return [views.coa_out(r) for r in rows]


@blp.route("/services/<int:service_id>/usage-records")
@requires("services.view", kinds=USER)
@blp.arguments(s.UsageRecordArgs, location="query")
@blp.response(200, s.UsageRecordPage)
def service_usage_records(args, service_id):
    """The service's calls (voice, minutes) and messages (SMS), newest first, each with what its buckets
    gave and what none could: from RADIUS accounting of a voice service, or sent by a gateway."""
    _service(service_id)
    return records.page(db_session(), service_id, **args)


@blp.route("/usage-records", methods=["POST"])
@requires("finance.billing", kinds=GATEWAYS)
@blp.arguments(s.UsageRecordsIn)
@blp.response(200, s.UsageRecordsOut)
@blp.alt_response(404, description="a record names a service that is not this reseller's (or not yours to see)")
@blp.alt_response(409, description="a record id sent before with other figures")
def intake_usage_records(body):
    """Voice and SMS usage from a gateway (an SMS gateway, a softswitch's call records): each record is
    drawn from its service's buckets of the kind, lowest weight first (promotions, top-ups, the plan's
    minutes), among those usable when it happened. A record is kept once per `source` and `id`: sending a
    batch again draws nothing again. All or nothing: one bad record refuses the batch."""
    session = db_session()
    applied = records.intake(session, body["source"], body["records"], may_see=g.principal.may_see_customer)
    return {"records": [{**records.out(a.record), "service_id": a.record.service_id, "created": a.created}
                        for a in applied]}


@blp.route("/services/<int:service_id>/usage-thresholds")
@requires("services.view", kinds=USER)
@blp.response(200, s.ThresholdsOut)
def get_thresholds(service_id):
    """The customer's own usage alerts, besides the platform's 75, 90 and 100 %."""
    _service(service_id)
    return views.thresholds_out(db_session(), service_id)


@blp.route("/services/<int:service_id>/usage-thresholds", methods=["PUT"])
@requires("services.modify", kinds=USER)
@blp.arguments(s.ThresholdsIn)
@blp.response(200, s.ThresholdsOut)
def put_thresholds(body, service_id):
    """Replace the customer's own usage alerts (each sends one e-mail per billing cycle when crossed)."""
    return _set_thresholds(_service(service_id), body["percents"])


def _set_thresholds(service: Service, percents: list[int]) -> dict:
    session = db_session()
    before = thresholds.of_service(session, service.id)
    after = thresholds.set_for_service(session, service.id, percents)
    if after != before:
        activity.record(session, g.principal, service.customer_id, "usage_thresholds.set", service_id=service.id,
                        percents=after)
    return views.thresholds_out(session, service.id)


# -- the reseller's RADIUS policy -------------------------------------------------------------------------

def _policy() -> dict:
    from radius.profiles import clean_policy  # what the RADIUS server makes of the stored setting

    stored = get_setting(db_session(), "radius")
    stored = stored if isinstance(stored, dict) else {}
    usage_keys = config.radius_settings(db_session())
    out = clean_policy(stored)
    out.update({k: usage_keys[k] for k in ("stale_after_intervals", "session_retention_days")})
    return out


@blp.route("/radius/policy")
@requires("services.view", kinds=USER)
@blp.response(200, s.PolicyOut, description=POLICY_CACHE_NOTE)
def get_policy():
    """What routers are told about this reseller's customers: Session-Timeout, Acct-Interim-Interval, the
    payment-page profile for Suspended services, and how long sessions are kept."""
    return _policy()


@blp.route("/radius/policy", methods=["PUT"])
@requires("settings.manage", kinds=USER)
@blp.arguments(s.PolicyIn)
@blp.response(200, s.PolicyOut, description=POLICY_CACHE_NOTE)
def put_policy(body):
    """Replace the policy (keys left out take their defaults). Stored with every key explicit, so the
    RADIUS server and the session upkeep read the same interim interval."""
    from radius.profiles import clean_policy

    values = clean_policy(body)
    for key in ("stale_after_intervals", "session_retention_days"):
        values[key] = body.get(key, config.DEFAULTS[key])
    put_setting(db_session(), "radius", values)
    audit.record(db_session(), g.principal.actor, "radius_policy.set", require_tenant().id, policy=values)
    return _policy()


# -- the customer's portal --------------------------------------------------------------------------------

def _own_service(service_id: int) -> Service:
    service = db_session().get(Service, service_id) if valid_id(service_id) else None
    if service is None or service.customer_id != g.principal.id:
        raise NotFound("no such service")
    return service


@portal.route("/usage")
@requires("self.view", kinds=CUSTOMER)
@portal.response(200, s.PortalServiceUsageOut(many=True))
def my_usage():
    """Each of your services (except ended ones): the current billing cycle against your allowance and
    the last 30 days, upload and download per day."""
    session = db_session()
    out = []
    for service in services.list_for_customer(session, g.principal.id):
        if service.status == "Terminated":
            continue
        plan = session.get(Plan, service.plan_id)
        out.append({**views.last_days(session, service), "plan_name": plan.name if plan else None,
                    "status": service.status})
    return out


@portal.route("/services/<int:service_id>/usage")
@requires("self.view", kinds=CUSTOMER)
@portal.arguments(s.UsageArgs, location="query")
@portal.response(200, s.UsageOut)
def my_service_usage(args, service_id):
    """One of your services' usage over any period of the last 24 months, per day, week or month, and its
    current billing cycle."""
    return _usage(_own_service(service_id), args)


@portal.route("/services/<int:service_id>/usage-records")
@requires("self.view", kinds=CUSTOMER)
@portal.arguments(s.UsageRecordArgs, location="query")
@portal.response(200, s.UsageRecordPage)
def my_usage_records(args, service_id):
    """Your calls and messages on one of your services, newest first, and what each took from your
    minutes and messages."""
    _own_service(service_id)
    return records.page(db_session(), service_id, **args)


@portal.route("/services/<int:service_id>/usage-thresholds")
@requires("self.view", kinds=CUSTOMER)
@portal.response(200, s.ThresholdsOut)
def my_thresholds(service_id):
    """Your own usage alerts for a service, besides the platform's 75, 90 and 100 %."""
    _own_service(service_id)
    return views.thresholds_out(db_session(), service_id)


@portal.route("/services/<int:service_id>/usage-thresholds", methods=["PUT"])
@requires("self.edit", kinds=CUSTOMER)
@portal.arguments(s.ThresholdsIn)
@portal.response(200, s.ThresholdsOut)
def set_my_thresholds(body, service_id):
    """Replace your usage alerts: an e-mail when a service's data use in a billing cycle reaches each
    percent of its allowance (once per cycle)."""
    return _set_thresholds(_own_service(service_id), body["percents"])
