"""Customers' services: create, activate, suspend/limit/restore/terminate, change requests, network
credentials, and the services of many customers at once. A user restricted to some customers sees only
those customers' services (404 otherwise, so that nothing is learnt about the others); bulk operations
leave the others out."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint
from sqlalchemy import select

from app.api.services import schemas as s
from app.models import Customer
from app.models.catalogue import Plan
from app.models.provisioning import EquipmentItem, Service
from app.services import bulk_services, customers, service_requests, services
from app.services.errors import NotFound
from app.services.ids import valid_id
from app.web import db_session
from app.web.auth import requires

blp = Blueprint("services", __name__, url_prefix="/reseller/api",
                description="Customers' services, their status, change requests and network credentials")
USER = ("user",)


def _visible_customer(customer_id: int) -> Customer:
    customer = db_session().get(Customer, customer_id) if valid_id(customer_id) else None
    if customer is None or not g.principal.may_see_customer(customer.id):
        raise NotFound("no such customer")
    return customer


def _service(service_id: int, *, lock: bool = False) -> Service:
    service = services.get(db_session(), service_id, lock=lock)
    if not g.principal.may_see_customer(service.customer_id):
        raise NotFound("no such service")
    return service


def service_out(service: Service, *, detail: bool = True, password: str | None = None) -> dict:
    session = db_session()
    plan = session.get(Plan, service.plan_id)
    out = {column: getattr(service, column) for column in s.ServiceOut().fields
           if hasattr(Service, column) and column not in ("static_ip",)}
    out.update(static_ip=str(service.static_ip) if service.static_ip else None,
               plan_code=plan.code if plan else None, plan_name=plan.name if plan else None)
    if detail:
        out["history"] = services.history(session, service.id)
        out["equipment_ids"] = list(session.execute(
            select(EquipmentItem.id).where(EquipmentItem.service_id == service.id).order_by(EquipmentItem.id)
        ).scalars())
    if password is not None:
        out["network_password"] = password
    return out


@blp.route("/customers/<int:customer_id>/services")
@requires("services.view", kinds=USER)
@blp.response(200, s.ServiceOut(many=True))
def list_services(customer_id):
    """A customer's services."""
    _visible_customer(customer_id)
    return [service_out(x, detail=False) for x in services.list_for_customer(db_session(), customer_id)]


@blp.route("/customers/<int:customer_id>/services", methods=["POST"])
@requires("services.provision", kinds=USER)
@blp.arguments(s.ServiceIn)
@blp.response(201, s.ServiceOut)
def create_service(body, customer_id):
    """A Pending service of a plan from this reseller's catalogue."""
    _visible_customer(customer_id)
    return service_out(services.create(db_session(), customer_id, body["plan_id"],
                                       installation_address=body["installation_address"], region=body["region"],
                                       principal=g.principal))


@blp.route("/services/<int:service_id>")
@requires("services.view", kinds=USER)
@blp.response(200, s.ServiceOut)
def get_service(service_id):
    """A service, with its status history and equipment (never its network password)."""
    return service_out(_service(service_id))


@blp.route("/services/<int:service_id>/activate", methods=["POST"])
@requires("services.provision", kinds=USER)
@blp.arguments(s.ServiceActivateIn)
@blp.response(200, s.ServiceActivatedOut)
def activate(body, service_id):
    """Pending → Active at today's retail price; a static IP on request; network credentials (shown once)."""
    _service(service_id)
    service, password = services.activate(db_session(), service_id, principal=g.principal, **body)
    return service_out(service, password=password)


def _action(action: str, permission: str, summary: str):
    @requires(permission, kinds=USER)
    @blp.arguments(s.ServiceReasonIn)
    @blp.response(200, s.ServiceOut)
    def view(body, service_id):
        _service(service_id)
        return service_out(services.apply(db_session(), service_id, action, reason=body["reason"],
                                          principal=g.principal))

    view.__name__ = view.__qualname__ = action
    view.__doc__ = summary
    blp.route(f"/services/<int:service_id>/{action}", methods=["POST"], endpoint=action)(view)


_action("suspend", "services.suspend", "Active or Limited → Suspended.")
_action("limit", "services.suspend", "Active → Limited (reduced speeds).")
_action("restore", "services.suspend", "Suspended or Limited → Active.")
_action("terminate", "services.provision",
        "→ Terminated: the static IP is released, equipment is to be recovered, open requests are cancelled.")


@blp.route("/services/<int:service_id>/network-credentials", methods=["PUT"])
@requires("services.provision", kinds=USER)
@blp.arguments(s.NetworkCredentialsIn)
@blp.response(200, s.NetworkCredentialsOut)
def set_credentials(body, service_id):
    """Set or regenerate the network (PPPoE/Wi-Fi) credentials; the password is shown this once."""
    _service(service_id)
    service, password = services.set_network_credentials(db_session(), service_id, principal=g.principal, **body)
    return {"service_id": service.id, "username": service.network_username, "password": password,
            "set_at": service.credentials_set_at}


@blp.route("/services/<int:service_id>/requests")
@requires("services.view", kinds=USER)
@blp.response(200, s.ServiceRequestOut(many=True))
def list_requests(service_id):
    """Every change request of a service, with its status."""
    _service(service_id)
    return service_requests.list_for_service(db_session(), service_id)


@blp.route("/services/<int:service_id>/requests", methods=["POST"])
@requires("services.modify", kinds=USER)
@blp.arguments(s.ServiceRequestIn)
@blp.response(201, s.ServiceRequestOut)
def create_request(body, service_id):
    """Upgrade, downgrade, suspension (vacation hold), relocation or cancellation; approved at once
    unless the reseller's settings require an approval for that kind."""
    _service(service_id)
    return service_requests.create(db_session(), service_id, body["kind"], body["payload"],
                                   effective=body["effective"], principal=g.principal)


def _request(request_id: int):
    request = service_requests.get(db_session(), request_id)
    _service(request.service_id)
    return request


def _decision(name: str, summary: str):
    @requires("services.modify", kinds=USER)
    @blp.arguments(s.ServiceRequestDecisionIn)
    @blp.response(200, s.ServiceRequestOut)
    def view(body, request_id):
        _request(request_id)
        return getattr(service_requests, name)(db_session(), request_id, principal=g.principal, note=body["note"])

    view.__name__ = view.__qualname__ = f"{name}_request"
    view.__doc__ = summary
    blp.route(f"/service-requests/<int:request_id>/{name}", methods=["POST"], endpoint=f"{name}_request")(view)


_decision("approve", "Approve a Pending request: done at once, or at the next cycle.")
_decision("reject", "Reject a Pending request.")
_decision("cancel", "Withdraw a Pending or Approved request.")


# -- bulk ---------------------------------------------------------------------------------------------
def _bulk_out(action: str, results: list[bulk_services.CustomerServicesResult]) -> dict:
    done = [service for customer in results for service in customer.services]
    counts = {outcome: sum(1 for r in done if r.outcome == outcome)
              for outcome in ("changed", "unchanged", "refused", "failed")}
    return {"action": action, "customers": len(results), "services": len(done), **counts,
            "not_found": sum(1 for r in results if r.outcome == "not_found"),
            "results": [{"id": r.id, "portal_id": r.portal_id, "outcome": r.outcome,
                         "services": [vars(x) for x in r.services]} for r in results]}


def _bulk(action: str, path: str, permission: str, schema: type, summary: str):
    """One endpoint per action, so that each declares (and the permission matrix checks) the permission
    it needs: suspending and restoring is `services.suspend`, changing plans `services.modify`."""

    @requires(permission, kinds=USER)
    @blp.arguments(schema)
    @blp.response(200, s.BulkServicesOut)
    def view(body):
        session, visible = db_session(), g.principal.allowed_customer_ids
        filters = customers.CustomerFilter(**body.get("filter", {}))
        ids = body.get("ids")
        if ids is None:
            ids = customers.matching_ids(session, filters, visible)
        results = bulk_services.change_services(session, ids, action, body["reason"], plan_code=body.get("plan_code"),
                                            service_type=filters.service_type, actor=g.principal, visible=visible)
        return _bulk_out(action, results)

    view.__name__ = view.__qualname__ = f"bulk_{action}"
    view.__doc__ = summary
    blp.route(f"/customers/bulk/services/{path}", methods=["POST"], endpoint=f"bulk_{action}")(view)


_bulk("suspend", "suspend", "services.suspend", s.BulkServicesIn,
      """Suspend the services of many customers.

      The Active and Limited services of the listed (`ids`) or filtered (`filter`) customers; the answer says,
      per customer and per service, what happened. A service that cannot be suspended never stops the others.""")
_bulk("restore", "restore", "services.suspend", s.BulkServicesIn,
      """Restore the suspended services of many customers.

      The Suspended services of the listed or filtered customers. Limited services (fair use) and vacation
      holds are left as they are: lift those one by one.""")
_bulk("change_plan", "change-plan", "services.modify", s.BulkPlanChangeIn,
      """Move the services of many customers to another plan, now.

      The services of the plan's kind of the listed or filtered customers, each where the plan is sold in its
      region (as a change request, approved by this call); active ones take the new plan's price of today.""")
