"""The customer's privacy under /portal/api/privacy (the Privacy pages call the same services,
app.services.privacy): consents with their history, the cookies the portal sets, a download of everything
held about them, and the request to delete the account.

Reading needs `self.view`, changing `self.edit`, so a read-only API key reads and never changes a consent.
Consents, exports and deletion are the customer's own choices: support staff signed in as the customer are
refused them (403 `customer-only`), and asking for deletion or withdrawing it needs the customer's own
signed-in session and, to ask, the portal password again (a key cannot end the account).
"""

from __future__ import annotations

from flask import g, request, send_file
from flask_smorest import Blueprint

from app.api.portal_privacy import schemas as s
from app.api.selfcare.access import CUSTOMER, me, own_session
from app.services.errors import NotFound
from app.services.privacy import consents, cookies, deletion, erasure, exports
from app.web import db_session, state
from app.web.auth import requires

blp = Blueprint("portal_privacy", __name__, url_prefix="/portal/api/privacy",
                description="A customer's consents, cookies, data export and account deletion")
ZIP = {"application/zip": {"schema": {"type": "string", "format": "binary"}}}
DOWNLOAD = "/portal/api/privacy/export/download"


def consents_out() -> dict:
    session = db_session()
    return {"consents": [c.__dict__ for c in consents.current(session, me())],
            "history": consents.history(session, me())}


def export_out(row) -> dict:
    out = exports.status_of(row)
    return {**out, "download_url": DOWNLOAD if out["ready"] else None}


def kept_out() -> list[dict]:
    return [{"key": k.key, "what": k.what % k.args, "why": k.why % k.args} for k in erasure.kept(db_session())]


def deletion_out(found) -> dict:
    session = db_session()
    return {**{name: getattr(found, name) for name in ("id", "status", "reason", "requested_at", "decided_at",
                                                      "decision_note")},
            "live_services": deletion.live_services(session, found.customer_id) if found.status == "Requested"
            else [], "kept": kept_out(), "history": deletion.history(session, found.id)}


@blp.route("/consents")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.ConsentsOut)
def get_consents():
    """Each consent (news and offers by e-mail, by SMS, sharing with partners): off until you give it, with
    when and how it was last given or withdrawn, and every change."""
    return consents_out()


@blp.route("/consents", methods=["PUT"])
@requires("self.edit", kinds=CUSTOMER)
@blp.arguments(s.ConsentsIn)
@blp.response(200, s.ConsentsOut)
def put_consents(body):
    """Give (`true`) or withdraw (`false`) any of the consents; those left out stay as they are. Each change
    is recorded with the wording it was made to."""
    consents.change(db_session(), me(), body, actor=g.principal, door="api")
    return consents_out()


@blp.route("/cookies")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.CookiesOut)
def get_cookies():
    """The cookies the portal sets: all strictly necessary (signing in, form security, a known device), so
    none asks for consent; and the one entry its pages keep in the tab's session storage."""
    def out(found) -> list[dict]:
        return [{"name": c.name, "purpose": c.purpose, "lifetime": c.lifetime % c.lifetime_args,
                 "necessary": c.necessary} for c in found]

    return {"cookies": out(cookies.cookies()), "storage": out(cookies.STORAGE), "optional": len(cookies.optional())}


@blp.route("/export", methods=["POST"])
@requires("self.edit", kinds=CUSTOMER)
@blp.response(202, s.MyExportOut)
def request_export():
    """Ask for a copy of everything held about you (a ZIP of JSON files, with your invoices and receipts as
    PDFs). It is built in the background; you are e-mailed when it is ready, and it can be downloaded for 7
    days. One at a time: asking while one is on its way answers with that one."""
    made, _ = exports.request_export(db_session(), me(), actor=g.principal)
    return export_out(made)


@blp.route("/export")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.MyExportOut)
def get_export():
    """Your latest export and where it stands (Queued, Building, Ready, Failed, Expired)."""
    found = exports.latest(db_session(), me())
    if found is None:
        raise NotFound("no export has been asked for")
    return export_out(found)


@blp.route("/export/download")
@requires("self.view", kinds=CUSTOMER)
@blp.doc(responses={"200": {"description": "the ZIP", "content": ZIP}})
def download_export():
    """The ready export as a ZIP (410 `export-expired` once its 7 days are over)."""
    found = exports.download(db_session(), me(), actor=g.principal)
    response = send_file(found.path, mimetype="application/zip", as_attachment=True,
                         download_name=found.filename, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.route("/deletion-request", methods=["POST"])
@requires("self.edit", kinds=CUSTOMER)
@own_session("asking for the account to be deleted")
@blp.arguments(s.DeletionIn)
@blp.response(201, s.MyDeletionOut)
def request_deletion(body):
    """Ask your provider to delete your account, with your portal password again (wrong ones are limited
    like sign-ins, 429 after 5). Your provider reviews it; your services must end first. What the law
    requires keeping, such as invoices, is kept (`kept`). In your own session only."""
    made = deletion.request_deletion(db_session(), state().redis, me(), body["password"], body["reason"],
                                     actor=g.principal, ip=request.remote_addr)
    return deletion_out(made)


@blp.route("/deletion-request")
@requires("self.view", kinds=CUSTOMER)
@blp.response(200, s.MyDeletionOut)
def get_deletion_request():
    """Your latest request to delete the account, with its history."""
    found = deletion.latest(db_session(), me())
    if found is None:
        raise NotFound("no request to delete the account has been made")
    return deletion_out(found)


@blp.route("/deletion-request/withdraw", methods=["POST"])
@requires("self.edit", kinds=CUSTOMER)
@own_session("withdrawing the request to delete the account")
@blp.response(200, s.MyDeletionOut)
def withdraw_deletion_request():
    """Take back a request your provider has not decided yet. In your own session only."""
    return deletion_out(deletion.withdraw(db_session(), me(), actor=g.principal))
