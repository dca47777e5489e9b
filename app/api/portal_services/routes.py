"""The customer's services, their plan changes and change requests, and the network password (the
Services pages of the self-care portal call the same services: `app.services.selfcare.my_services`,
`.plan_changes`, `.network_password`).

Reading needs `self.view`; asking for a change `self.edit`, which support staff signed in as the customer
hold too. An upgrade or downgrade is previewed with `…/plan-change-preview` before it is asked for. The
network password is shown after the portal password is typed again, in the customer's own session only,
never changed here.
"""

from __future__ import annotations

from flask import g, request
from flask_smorest import Blueprint

from app.api.portal_services import schemas as s
from app.api.selfcare.access import CUSTOMER, me, own_session
from app.services.selfcare import my_services, network_password, plan_changes
from app.web import db_session, state
from app.web.auth import requires

blp = Blueprint("portal_services", __name__, url_prefix="/portal/api",
                description="A customer's own services, plan changes, change requests and network password")


@blp.route("/services")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.MyServiceOut(many=True))
def list_services():
    """Your services, live and ended: plan and speed, price, status and why, static IP, network username."""
    return my_services.list_services(db_session(), me())


@blp.route("/services/<int:service_id>")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.ServiceDetailOut)
def get_service(service_id):
    """One of your services, with its equipment and next renewal (never its network password)."""
    return my_services.service_detail(db_session(), me(), service_id)


@blp.route("/services/<int:service_id>/plan-options")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.PlanOptionOut(many=True))
def plan_options(service_id):
    """The plans this service can move to, priced for you today, cheapest first."""
    return plan_changes.options(db_session(), me(), service_id)


@blp.route("/services/<int:service_id>/plan-change-preview")
@requires("self.view", kinds=CUSTOMER)
@blp.arguments(s.PreviewArgs, location="query")
@blp.response(200, s.PreviewOut)
def plan_change_preview(args, service_id):
    """What moving to `plan_id` would cost: the price per period before and after, the difference, and for
    a change now, the rest of this cycle credited at the old plan and charged at the new."""
    return plan_changes.preview(db_session(), me(), service_id, args["plan_id"], args["effective"])


@blp.route("/services/<int:service_id>/requests")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.RequestOut(many=True))
def list_requests(service_id):
    """The change requests of one of your services, newest first, with their status."""
    return plan_changes.list_requests(db_session(), me(), service_id)


@blp.route("/services/<int:service_id>/requests", methods=["POST"])
@requires("self.edit", kinds=CUSTOMER)
@blp.arguments(s.RequestIn)
@blp.response(201, s.RequestOut)
def create_request(body, service_id):
    """Ask for an upgrade, a downgrade, a vacation hold (`suspension`), a relocation or a cancellation, now
    or at the next cycle; done at once unless your provider approves that kind first."""
    return plan_changes.request_change(db_session(), me(), service_id, body["kind"], body["payload"],
                                       effective=body["effective"], principal=g.principal)


@blp.route("/service-requests")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.RequestOut(many=True))
def list_all_requests():
    """Every change request of your services, newest first."""
    return plan_changes.list_requests(db_session(), me())


@blp.route("/service-requests/<int:request_id>/cancel", methods=["POST"])
@requires("self.edit", kinds=CUSTOMER)
@blp.response(200, s.RequestOut)
def cancel_request(request_id):
    """Withdraw a request that is not done yet (Pending, or Approved for the next cycle)."""
    return plan_changes.cancel_request(db_session(), me(), request_id, principal=g.principal)


@blp.route("/services/<int:service_id>/network-password", methods=["POST"])
@requires("self.edit", kinds=CUSTOMER)
@own_session("revealing the network password")
@blp.arguments(s.RevealIn)
@blp.response(200, s.RevealOut)
def reveal_network_password(body, service_id):
    """The service's network (PPPoE / Wi-Fi) username and password, after your portal password: wrong
    passwords are limited like sign-ins (429 after 5), and every attempt is in your activity log. In your
    own session only."""
    return network_password.reveal(db_session(), state().redis, me(), service_id, body["password"],
                                   principal=g.principal, ip=request.remote_addr)
