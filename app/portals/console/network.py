"""The console's NAS pages, `/console/nas` (blueprint `console_network`: the API's is `console_nas`): every
router of the platform that may ask RADIUS, the platform's and each reseller's, with a search by name, address
or owner's code, a page at a time, and every matching row as CSV or XLSX; one NAS; registering one for the
platform or a reseller; changing it; removing it through the kit's confirmation.

Each page does what the console API's route does (app/api/nas/routes.py `console`): app/services/nas.py, and
the same audit event (`nas.create`, `nas.update`, `nas.delete`). The shared secret is write-only: typed twice,
or generated and shown once in the answer to the form (never kept in the clear, never drawn back); on a
change, left empty, the one set stays. The service does not record when a NAS was last heard from, so the list
does not say.
"""

from __future__ import annotations

import ipaddress
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, g, redirect, request, url_for

from app import clock
from app.portals import tables
from app.portals.console.network_forms import ConfirmForm, ConsoleNasForm, FilterForm, NewNasForm
from app.portals.console.shell import STAFF_KINDS, guard, page
from app.portals.forms import FORM_EXPIRED, expired
from app.portals.nas_forms import VENDORS
from app.portals.tables import Column, TableSpec
from app.services import audit, resellers
from app.services import nas as nas_service
from app.services.errors import Conflict, ServiceError
from app.web import db_session
from app.web.auth import requires

bp = Blueprint("console_network", __name__, url_prefix="/console/nas")
guard(bp)

UTC = ZoneInfo("UTC")
NAS_ADDED = "The NAS is registered."
NAS_CHANGED = "The NAS is changed."
NAS_DELETED = "The NAS is removed."
UNCHANGED = "Nothing was changed."
DUPLICATE = "A NAS with this address or network is already registered."
OVERLAP = "It overlaps the network of a NAS another owner registered."
PLATFORM = "Platform"
OWNER_FIELDS = {"tenant_id": "owner"}

ROUTERS = TableSpec("nas", "NAS", (
    Column("owner", "Owner"), Column("name", "Name"), Column("network", "Address or network"),
    Column("vendor", "Type"), Column("status", "Status"), Column("created_on", "Registered", type="date"),
    Column("last_heard", "Last heard")))


def _owners() -> dict[int, object]:
    """Every reseller by id (one query: the console's tree), to name a NAS's owner."""
    return {p.row.id: p.row for p in resellers.tree(db_session())}


def shown_network(network) -> str:
    """A host network as the address a person types (192.0.2.1), a wider one as CIDR."""
    net = ipaddress.ip_network(str(network))
    return str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)


def _row(router, owners: dict) -> dict:
    owner = owners.get(router.tenant_id)
    return {"id": router.id, "owner": owner.code if owner else PLATFORM, "owner_name": owner.name if owner else None,
            "owned": owner is not None, "name": router.name, "network": shown_network(router.network),
            "vendor": VENDORS.get(router.vendor, router.vendor), "status": owner.status if owner else "Active",
            "created_on": router.created_at.astimezone(UTC).date(), "router": router,
            # the file's value (UTC, to the minute); the page draws the time in the staff member's words
            "last_heard": router.last_heard_at.astimezone(UTC).isoformat(timespec="minutes")
            if router.last_heard_at else ""}


def _failed(form) -> None:
    if expired(form):
        form.form_errors.append(FORM_EXPIRED)


def _refused(form, exc: ServiceError, network: str | None, nas_id: int | None = None) -> None:
    """The service's refusal next to the field it names; a clash on the address in words of ours (a duplicate,
    or another owner's network), the service's own otherwise."""
    name = OWNER_FIELDS.get(exc.extra.get("field") or "", exc.extra.get("field"))
    message = exc.detail
    if isinstance(exc, Conflict) and name == "network" and network:
        same = nas_service.find_by_network(db_session(), network)
        message = DUPLICATE if same is not None and same.id != nas_id else OVERLAP
    if name and name in form:
        form[name].errors = [*form[name].errors, message]
    else:
        form.form_errors.append(message)


def _secret_shown(router, secret: str, *, created: bool):
    """The generated secret, drawn in this answer only (not kept in the clear, never shown again)."""
    html, status, headers = page("network/secret", nas=router, secret=secret, created=created,
                                 status=201 if created else 200)
    return html, status, {**headers, "Cache-Control": "no-store"}


# -- the list ------------------------------------------------------------------------------------------------

@requires(kinds=STAFF_KINDS)
def index():
    form = FilterForm(formdata=request.args)
    if not form.validate():
        form = FilterForm(formdata=None)
    wanted = (form.q.data or "").strip()
    found = nas_service.list_nas(db_session(), q=wanted or None)
    owners = _owners()
    shown = tables.state(ROUTERS)
    fmt = tables.wanted_format()
    chosen = found if fmt else found[shown.offset:shown.offset + shown.per_page]
    rows = [_row(r, owners) for r in chosen]
    if fmt:
        today = clock.today()
        return tables.export_response(ROUTERS, rows, fmt, scope="platform", start=today, end=today, zone=UTC,
                                      filters={"q": wanted} if wanted else {})
    return page("network/index", form=form, searched=bool(wanted), table=tables.view(ROUTERS, shown, rows, len(found)))


# -- one NAS -------------------------------------------------------------------------------------------------

@requires(kinds=STAFF_KINDS)
def show(nas_id: int):
    return page("network/show", nas=_row(nas_service.get(db_session(), nas_id), _owners()))


# -- registering ---------------------------------------------------------------------------------------------

@requires(kinds=STAFF_KINDS)
def create():
    owners = _owners()
    by_code = {row.code: row for row in owners.values()}
    form = NewNasForm().offer_owners([(row.code, f"{row.name} ({row.code})") for row in owners.values()])
    if request.method == "GET":
        if request.args.get("owner") in by_code:
            form.owner.data = request.args["owner"]
        return page("network/form", form=form, nas=None)
    if not form.validate_on_submit():
        _failed(form)
        return page("network/form", form=form, nas=None, status=422)
    values = form.values()
    if form.generate.data:
        values["secret"] = nas_service.generate_secret()
    session = db_session()
    actor = g.principal.actor
    try:
        made = nas_service.create(session, tenant_id=by_code[form.owner.data].id if form.owner.data else None,
                                  actor=actor, **values)
    except ServiceError as exc:
        session.rollback()
        _refused(form, exc, values["network"])
        return page("network/form", form=form, nas=None, status=exc.status if exc.status != 404 else 422)
    audit.record(session, actor, "nas.create", made.tenant_id, nas_id=made.id, network=str(made.network))
    if form.generate.data:
        return _secret_shown(_row(made, owners), values["secret"], created=True)
    flash(NAS_ADDED, "success")
    return redirect(url_for(".show", nas_id=made.id), code=303)


# -- changing ------------------------------------------------------------------------------------------------

def _changes(router, values: dict) -> dict:
    """What differs from the NAS as it is (a secret, when one is given, always): only that is sent and
    audited, as a PATCH carrying only what changed would be."""
    current = {"name": router.name, "vendor": router.vendor, "coa_port": router.coa_port,
               "require_message_authenticator": router.require_message_authenticator}
    changes = {k: v for k, v in values.items() if k in current and v != current[k]}
    if ipaddress.ip_network(values["network"]) != ipaddress.ip_network(str(router.network)):
        changes["network"] = values["network"]
    if values.get("secret"):
        changes["secret"] = values["secret"]
    return changes


@requires(kinds=STAFF_KINDS)
def edit(nas_id: int):
    session = db_session()
    router = nas_service.get(session, nas_id)
    owners = _owners()
    if request.method == "GET":
        form = ConsoleNasForm(formdata=None, obj=router)
        form.network.data = shown_network(router.network)
        return page("network/form", form=form, nas=_row(router, owners))
    form = ConsoleNasForm()
    if not form.validate_on_submit():
        _failed(form)
        return page("network/form", form=form, nas=_row(router, owners), status=422)
    values = form.values()
    if form.generate.data:
        values["secret"] = nas_service.generate_secret()
    changes = _changes(router, values)
    if not changes:
        flash(UNCHANGED, "success")
        return redirect(url_for(".show", nas_id=nas_id), code=303)
    try:
        nas_service.update(session, router, **changes)
    except ServiceError as exc:
        session.rollback()
        _refused(form, exc, changes.get("network"), nas_id)
        return page("network/form", form=form, nas=_row(nas_service.get(session, nas_id), owners),
                    status=exc.status if exc.status != 404 else 422)
    audit.record(session, g.principal.actor, "nas.update", router.tenant_id, nas_id=router.id, fields=sorted(changes))
    if form.generate.data:
        return _secret_shown(_row(router, owners), values["secret"], created=False)
    flash(NAS_CHANGED, "success")
    return redirect(url_for(".show", nas_id=nas_id), code=303)


# -- removing ------------------------------------------------------------------------------------------------

@requires(kinds=STAFF_KINDS)
def delete(nas_id: int):
    session = db_session()
    router = nas_service.get(session, nas_id)
    shown = _row(router, _owners())
    form = ConfirmForm()
    if request.method == "GET":
        return page("network/delete", nas=shown, form=form)
    if not form.validate_on_submit():
        form.form_errors.append(FORM_EXPIRED)
        return page("network/delete", nas=shown, form=form, status=422)
    audit.record(session, g.principal.actor, "nas.delete", router.tenant_id, nas_id=router.id,
                 network=str(router.network))
    nas_service.delete(session, router)
    flash(NAS_DELETED, "success")
    return redirect(url_for(".index"), code=303)


bp.add_url_rule("", "index", index)
bp.add_url_rule("/new", "create", create, methods=["GET", "POST"])
bp.add_url_rule("/<int:nas_id>", "show", show)
bp.add_url_rule("/<int:nas_id>/edit", "edit", edit, methods=["GET", "POST"])
bp.add_url_rule("/<int:nas_id>/delete", "delete", delete, methods=["GET", "POST"])
