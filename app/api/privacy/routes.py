"""Customers' privacy, for their reseller (under /reseller/api/privacy): the requests to delete an account,
reviewed here, and what a customer has agreed to.

A deletion request is approved or declined with `customers.delete`; an approval needs the customer's services
terminated first (409 `services-not-terminated` naming them), then erases what identifies the customer and
keeps what the law requires (`kept`), and the customer is told by e-mail at each step. A customer's consents
need `customers.view`: a marketing send must ask them first. A user limited to some customers sees the
requests and consents of those only; any other answers 404.
"""

from __future__ import annotations

from flask_smorest import Blueprint

from app.api.portal_privacy.routes import kept_out
from app.api.privacy import schemas as s
from app.api.visibility import principal, visible_customer
from app.services import customers
from app.services.auth.principal import CLIENT, USER
from app.services.privacy import consents, deletion
from app.web import db_session
from app.web.auth import requires

blp = Blueprint("privacy", __name__, url_prefix="/reseller/api/privacy",
                description="Customers' deletion requests and consents")
KINDS = (USER, CLIENT)


def _visible() -> frozenset[int] | None:
    return principal().allowed_customer_ids


def _out(found) -> dict:
    session = db_session()
    return {**{name: getattr(found, name) for name in (
        "id", "customer_id", "portal_id", "status", "reason", "requested_at", "requested_by", "decided_at",
        "decided_by", "decision_note", "outcome")},
        "live_services": deletion.live_services(session, found.customer_id) if found.status == "Requested" else [],
        "kept": kept_out(), "history": deletion.history(session, found.id)}


@blp.route("/deletion-requests")
@requires("customers.delete", kinds=KINDS)
@blp.arguments(s.DeletionListArgs, location="query")
@blp.response(200, s.DeletionRequestPage)
def list_deletion_requests(args):
    """Customers' requests to delete their accounts, those waiting first (oldest first), filtered by
    `status`, a page at a time with the total."""
    found = deletion.list_requests(db_session(), visible=_visible(), **args)
    return {"items": [_out(r) for r in found.items], "total": found.total, "page": found.page,
            "per_page": found.per_page}


@blp.route("/deletion-requests/<int:request_id>")
@requires("customers.delete", kinds=KINDS)
@blp.response(200, s.DeletionRequestOut)
def get_deletion_request(request_id):
    """One request, with the services that must end before it can be approved, and its history."""
    return _out(deletion.get(db_session(), request_id, _visible()))


@blp.route("/deletion-requests/<int:request_id>/approve", methods=["POST"])
@requires("customers.delete", kinds=KINDS)
@blp.arguments(s.ApproveIn)
@blp.response(200, s.DeletionRequestOut)
def approve_deletion_request(body, request_id):
    """Carry the request out: the customer's personal data is erased, sessions end, what the law requires
    is kept (`kept`), and the customer is deleted, or made Inactive where financial records refer to them.
    Refused (409) while any of their services is not terminated."""
    return _out(deletion.approve(db_session(), request_id, actor=principal(), visible=_visible(),
                                 note=body["note"]))


@blp.route("/deletion-requests/<int:request_id>/decline", methods=["POST"])
@requires("customers.delete", kinds=KINDS)
@blp.arguments(s.DeclineIn)
@blp.response(200, s.DeletionRequestOut)
def decline_deletion_request(body, request_id):
    """Decline the request, with the reason the customer is e-mailed."""
    return _out(deletion.decline(db_session(), request_id, body["reason"], actor=principal(), visible=_visible()))


@blp.route("/customers/<int:customer_id>/consents")
@requires("customers.view", kinds=KINDS)
@blp.response(200, s.CustomerConsentsOut)
def customer_consents(customer_id):
    """What a customer has agreed to (each consent with when and how it was last given or withdrawn, and
    every change): what a marketing send must respect."""
    session = db_session()
    customer = customers.get(session, visible_customer(customer_id))
    return {"customer_id": customer.id, "consents": [c.__dict__ for c in consents.current(session, customer.id)],
            "history": consents.history(session, customer.id)}
