"""Customers' requests to delete their accounts, in the reseller portal (`/reseller/privacy/deletion-requests`):
the list (those waiting first, the oldest first: the order to answer them in), one request with what stops an
approval (services not terminated yet, linked to the customer's Services tab), what is kept by law and its
history, and while it waits a link to each of the two answers. Each answer is a confirmation page of its own,
as the portal's other irreversible actions are, since an approval cannot be taken back and a decline's reason
goes to the customer: approve (it says what is erased, what is kept and whether the customer is deleted or kept
as Inactive, before anything happens; a note of the team's own) or decline (with the reason the customer is
e-mailed).

The same services as the API (app/api/privacy/routes.py) with its permission, `customers.delete`, for every
page; a member limited to some customers sees those customers' requests only (any other is not found), as
the API passes `allowed_customer_ids`. A refusal of the service (services still live, a request decided or
withdrawn meanwhile) comes back on the confirmation page with why, and nothing is kept.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for

from app.portals import tables
from app.portals.forms import FORM_EXPIRED, expired
from app.portals.nav import may_open
from app.portals.reseller.customer_actions import refused
from app.portals.reseller.customer_delete import REFERENCES
from app.portals.reseller.privacy_forms import ApproveForm, DeclineForm, StatusFilterForm
from app.portals.reseller.shell import TEAM_KINDS, guard, page
from app.portals.tables import Column, TableSpec
from app.services import customers
from app.services.errors import Invalid, NotFound, ServiceError
from app.services.privacy import deletion, erasure
from app.web import db_session
from app.web.auth import requires

bp = Blueprint("reseller_privacy", __name__, url_prefix="/reseller/privacy")
guard(bp)

APPROVED = "The request is carried out: the customer's personal data is erased."
DECLINED = "The request is declined. The customer is e-mailed your reason."
STILL_LIVE = "Terminate the customer's services first: nobody may stay connected or billed under an erased account."
ANSWERED = "The request was answered or withdrawn meanwhile."

REQUESTS = TableSpec("deletion-requests", "Deletion requests", (
    Column("number", "Request"), Column("customer", "Customer"), Column("portal_id", "Portal ID"),
    Column("requested_at", "Asked", type="date"), Column("status", "Status")), exportable=False)

# The two answers, as links on the request's page: (endpoint, label, button style).
ANSWERS = (("reseller_privacy.approve", "Approve", "warning"), ("reseller_privacy.decline", "Decline", "secondary"))


def _visible() -> frozenset[int] | None:
    return g.principal.allowed_customer_ids


def _customer_of(customer_id: int):
    """The customer a request is about, or None once they are deleted (a request outlives its customer)."""
    try:
        return customers.get(db_session(), customer_id)
    except NotFound:
        return None


@requires("customers.delete", kinds=TEAM_KINDS)
def index():
    form = StatusFilterForm(formdata=request.args)
    if not form.validate():
        form = StatusFilterForm(formdata=None)
    state = tables.state(REQUESTS)
    found = deletion.list_requests(db_session(), status=form.status.data or None, visible=_visible(),
                                   page=state.page, per_page=state.per_page)
    named = customers.by_ids(db_session(), [r.customer_id for r in found.items])  # a deleted one is absent
    rows = [{"id": r.id, "number": f"#{r.id}", "portal_id": r.portal_id, "requested_at": r.requested_at,
             "status": r.status,
             "customer": named[r.customer_id].display_name if r.customer_id in named else None}
            for r in found.items]
    return page("privacy/requests", form=form, table=tables.view(REQUESTS, state, rows, found.total))


def _request(request_id: int):
    """(the session, the request as this member may see it, its customer or None once deleted, whether it waits)."""
    session = db_session()
    found = deletion.get(session, request_id, _visible())
    return session, found, _customer_of(found.customer_id), found.status == "Requested"


@requires("customers.delete", kinds=TEAM_KINDS)
def detail(request_id: int):
    session, found, customer, waiting = _request(request_id)
    answers = [{"href": url_for(endpoint, request_id=found.id), "label": label, "kind": kind}
               for endpoint, label, kind in ANSWERS if waiting and may_open(endpoint)]
    return page("privacy/request", found=found, customer=customer,
                customer_url=url_for("reseller_customer.profile", customer_id=customer.id)
                if customer and may_open("reseller_customer.profile") else None,
                live=deletion.live_services(session, found.customer_id) if waiting else [],
                kept=erasure.kept(session), history=deletion.history(session, found.id), waiting=waiting,
                answers=answers)


def _confirmation(which: str, request_id: int, form, *, status: int = 200):
    """The approve or decline page of a request, as it stands now (after a refusal too: then it may no longer
    wait, and the page says so instead of asking again)."""
    session, found, customer, waiting = _request(request_id)
    context = {"found": found, "customer": customer, "form": form, "waiting": waiting,
               "who": customer.display_name if customer and customer.display_name else found.portal_id}
    if which == "approve":
        context.update(
            live=deletion.live_services(session, found.customer_id) if waiting else [],
            kept=erasure.kept(session), reference_words=REFERENCES,
            # what the approval's customer deletion will find: deleted outright, or kept as Inactive
            references=customers.financial_references(session, found.customer_id) if customer else [])
    return page(f"privacy/{which}", status=status, **context)


def _answer(which: str, request_id: int, form, act, done: str):
    """An approval or a decline: the service's answer, or its confirmation page again with why not."""
    status = 422
    if form.validate_on_submit():
        try:
            act()
        except deletion.ServicesStillLive as exc:
            status = refused(form, exc)
            form.form_errors[-1] = STILL_LIVE
        except deletion.NotWaiting as exc:
            status = refused(form, exc)
            form.form_errors[-1] = ANSWERED
        except Invalid as exc:
            db_session().rollback()
            field = form._fields.get(exc.extra.get("field") or "")
            if field is not None:
                field.errors = [*field.errors, exc.detail]
            else:
                form.form_errors.append(exc.detail)
        except ServiceError as exc:
            status = refused(form, exc)
        else:
            flash(done, "success")
            return redirect(url_for("reseller_privacy.detail", request_id=request_id))
    elif expired(form):
        form.form_errors.append(FORM_EXPIRED)
    return _confirmation(which, request_id, form, status=status)


@requires("customers.delete", kinds=TEAM_KINDS)
def approve(request_id: int):
    return _confirmation("approve", request_id, ApproveForm(formdata=None))


@requires("customers.delete", kinds=TEAM_KINDS)
def approve_post(request_id: int):
    form = ApproveForm()
    return _answer("approve", request_id, form, lambda: deletion.approve(
        db_session(), request_id, actor=g.principal, visible=_visible(), note=form.note.data or None), APPROVED)


@requires("customers.delete", kinds=TEAM_KINDS)
def decline(request_id: int):
    return _confirmation("decline", request_id, DeclineForm(formdata=None))


@requires("customers.delete", kinds=TEAM_KINDS)
def decline_post(request_id: int):
    form = DeclineForm()
    return _answer("decline", request_id, form, lambda: deletion.decline(
        db_session(), request_id, form.reason.data, actor=g.principal, visible=_visible()), DECLINED)


bp.add_url_rule("/deletion-requests", "index", index)
bp.add_url_rule("/deletion-requests/<int:request_id>", "detail", detail)
bp.add_url_rule("/deletion-requests/<int:request_id>/approve", "approve", approve, methods=["GET"])
bp.add_url_rule("/deletion-requests/<int:request_id>/approve", "approve_post", approve_post, methods=["POST"])
bp.add_url_rule("/deletion-requests/<int:request_id>/decline", "decline", decline, methods=["GET"])
bp.add_url_rule("/deletion-requests/<int:request_id>/decline", "decline_post", decline_post, methods=["POST"])
