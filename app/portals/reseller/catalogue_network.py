"""The network side of the reseller's Services and pricing section, on catalogue.py's blueprint: IP pools with
how full each is (`reseller_catalogue.pools`, which the dashboard's "running out" alert links to), a pool's
handed-out addresses, equipment (models, devices and each device's life) and the reseller's own NAS clients.

Each page calls what the API's route calls (app/api/ip_pools, app/api/equipment, app/api/nas) and declares the
same permission: `services.view` to read; `services.provision` for pools and equipment, `settings.manage` for
NAS. A NAS's shared secret is write-only: no page ever draws it back.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for

from app.portals.forms import FORM_EXPIRED, expired
from app.portals.nav import may_open
from app.portals.reseller.catalogue_forms import (
    ActionForm,
    EquipmentChangeForm,
    EquipmentItemForm,
    EquipmentModelForm,
    NasForm,
    PoolForm,
)
from app.portals.reseller.shell import TEAM_KINDS, page
from app.services import equipment, ip_pools
from app.services import nas as nas_service
from app.services.errors import NotFound, ServiceError
from app.web import db_session
from app.web.auth import requires

POOL_ADDED = "The IP pool is added."
POOL_DELETED = "The IP pool is deleted."
MODEL_ADDED = "The equipment model is added."
DEVICE_ADDED = "The device is in stock."
DEVICE_CHANGED = "The device is updated."
NAS_ADDED = "The NAS is registered."
NAS_CHANGED = "The NAS is changed."
NAS_DELETED = "The NAS is removed."
SECTIONS = (("reseller_catalogue.index", "Plans"), ("reseller_catalogue.preview", "Price preview"),
            ("reseller_catalogue.prices", "Price rules"), ("reseller_catalogue.requests", "Requests to approve"),
            ("reseller_catalogue.pools", "IP pools"), ("reseller_catalogue.equipment", "Equipment"),
            ("reseller_catalogue.nas", "NAS"))
STATUS_WORDS = {"in_stock": "In stock", "assigned": "Assigned", "recovered": "To inspect", "faulty": "Faulty"}


def show(name: str, *, status: int = 200, **context):
    """A page of the section, with the section's own links (those the member may open) and `may(endpoint)`,
    so that a page shows a button only to whoever its view would let through."""
    links = [{"endpoint": e, "label": label, "url": url_for(e)} for e, label in SECTIONS if may_open(e)]
    return page(name, status=status, catalogue_links=links, may=may_open, **context)


def _refused(form, exc: ServiceError, fields: dict[str, str] | None = None) -> None:
    """A service's refusal, next to the field it names (or above the form)."""
    name = (fields or {}).get(exc.extra.get("field") or "", exc.extra.get("field"))
    if name and name in form:
        form[name].errors = [*form[name].errors, exc.detail]
    else:
        form.form_errors.append(exc.detail)


def _failed(form) -> None:
    if expired(form):
        form.form_errors.append(FORM_EXPIRED)


# -- IP pools ----------------------------------------------------------------------------------------------------

def pool_row(session, pool) -> dict:
    counts = ip_pools.usage(session, pool)
    size, used = counts["size"], counts["used"]
    percent = used * 100 // size if size else 0
    return {"id": pool.id, "name": pool.name, "cidr": str(pool.cidr),
            "gateway": str(pool.gateway) if pool.gateway else None, "excluded": [str(a) for a in pool.excluded or ()],
            "size": size, "used": used, "free": size - used, "percent": percent,
            "low": bool(size) and used * 100 >= size * ip_pools.LOW_PERCENT}


@requires("services.view", kinds=TEAM_KINDS)
def pools():
    session = db_session()
    return show("catalogue/pools", pools=[pool_row(session, p) for p in ip_pools.list_pools(session)],
                low_percent=ip_pools.LOW_PERCENT)


@requires("services.view", kinds=TEAM_KINDS)
def pool(pool_id: int):
    session = db_session()
    found = ip_pools.get_pool(session, pool_id)
    assignments = [{"address": str(a.address), "service_id": a.service_id, "assigned_at": a.assigned_at}
                   for a in ip_pools.assignments(session, found.id)]
    return show("catalogue/pool", pool=pool_row(session, found), assignments=assignments, form=ActionForm())


@requires("services.provision", kinds=TEAM_KINDS)
def new_pool():
    form = PoolForm()
    if request.method == "GET":
        return show("catalogue/pool_form", form=form)
    if not form.validate_on_submit():
        _failed(form)
        return show("catalogue/pool_form", form=form, status=422)
    session = db_session()
    try:
        made = ip_pools.create_pool(session, **form.values())
    except ServiceError as exc:
        session.rollback()
        _refused(form, exc)
        return show("catalogue/pool_form", form=form, status=exc.status if exc.status != 404 else 422)
    flash(POOL_ADDED, "success")
    return redirect(url_for(".pool", pool_id=made.id), code=303)


@requires("services.provision", kinds=TEAM_KINDS)
def delete_pool(pool_id: int):
    session = db_session()
    found = pool_row(session, ip_pools.get_pool(session, pool_id))
    form = ActionForm()
    if request.method == "GET":
        return show("catalogue/delete_pool", pool=found, form=form)
    if not form.validate_on_submit():
        form.form_errors.append(FORM_EXPIRED)
        return show("catalogue/delete_pool", pool=found, form=form, status=422)
    try:
        ip_pools.delete_pool(session, pool_id)
    except ServiceError as exc:
        if exc.status != 409:
            raise
        session.rollback()
        flash(exc.detail, "error")
        return redirect(url_for(".pool", pool_id=pool_id), code=303)
    flash(POOL_DELETED, "success")
    return redirect(url_for(".pools"), code=303)


# -- equipment ---------------------------------------------------------------------------------------------------

@requires("services.view", kinds=TEAM_KINDS)
def equipment_list():
    session = db_session()
    status = request.args.get("status")
    status = status if status in STATUS_WORDS else None
    models = {m.id: m for m in equipment.list_models(session)}
    allowed = g.principal.allowed_customer_ids
    items = [i for i in equipment.list_items(session, status=status) if equipment.visible(i, allowed)]
    return show("catalogue/equipment", items=items, models=models, status=status, statuses=STATUS_WORDS)


@requires("services.provision", kinds=TEAM_KINDS)
def new_model():
    form = EquipmentModelForm()
    if request.method == "GET":
        return show("catalogue/model_form", form=form)
    if not form.validate_on_submit():
        _failed(form)
        return show("catalogue/model_form", form=form, status=422)
    session = db_session()
    try:
        equipment.create_model(session, vendor=form.vendor.data.strip(), name=form.name.data.strip(),
                               device_type=form.device_type.data or None, description=form.description.data or None)
    except ServiceError as exc:
        session.rollback()
        _refused(form, exc)
        return show("catalogue/model_form", form=form, status=exc.status)
    flash(MODEL_ADDED, "success")
    return redirect(url_for(".equipment"), code=303)


@requires("services.provision", kinds=TEAM_KINDS)
def new_device():
    session = db_session()
    form = EquipmentItemForm().offer(equipment.list_models(session))
    if request.method == "GET":
        return show("catalogue/device_form", form=form)
    if not form.validate_on_submit():
        _failed(form)
        return show("catalogue/device_form", form=form, status=422)
    try:
        equipment.create_item(session, model_id=form.model_id.data, serial=form.serial.data,
                              mac=form.mac.data or None, notes=form.notes.data or None)
    except ServiceError as exc:
        session.rollback()
        _refused(form, exc)
        return show("catalogue/device_form", form=form, status=exc.status if exc.status != 404 else 422)
    flash(DEVICE_ADDED, "success")
    return redirect(url_for(".equipment"), code=303)


def _device_page(item, models: dict, form, status: int = 200):
    return show("catalogue/device_change", item=item, model=models.get(item.model_id), form=form,
                statuses_words=STATUS_WORDS, status=status)


@requires("services.provision", kinds=TEAM_KINDS)
def change_device(item_id: int):
    session = db_session()
    item = equipment.get_item(session, item_id)
    if not equipment.visible(item, g.principal.allowed_customer_ids):
        raise NotFound("no such device")
    models = {m.id: m for m in equipment.list_models(session)}
    form = EquipmentChangeForm()
    if request.method == "GET":
        return _device_page(item, models, form)
    if not form.validate_on_submit():
        _failed(form)
        return _device_page(item, models, form, 422)
    try:
        equipment.change(session, item_id, form.action.data, service_id=form.service_id.data,
                         notes=form.notes.data or None, allowed_customer_ids=g.principal.allowed_customer_ids)
    except ServiceError as exc:
        session.rollback()
        if exc.status == 404 and not exc.extra.get("field"):
            raise
        _refused(form, exc, {"current_status": "action"})
        item = equipment.get_item(session, item_id)
        return _device_page(item, models, form, exc.status if exc.status != 404 else 422)
    flash(DEVICE_CHANGED, "success")
    return redirect(url_for(".equipment"), code=303)


# -- NAS ---------------------------------------------------------------------------------------------------------

def _own_nas(nas_id: int):
    return nas_service.get(db_session(), nas_id, tenant_id=g.tenant.id, scoped=True)


@requires("services.view", kinds=TEAM_KINDS)
def nas_list():
    return show("catalogue/nas", routers=nas_service.list_nas(db_session(), tenant_id=g.tenant.id))


@requires("settings.manage", kinds=TEAM_KINDS)
def new_nas():
    form = NasForm()
    if request.method == "GET":
        return show("catalogue/nas_form", form=form, router=None)
    if not form.validate_on_submit():
        _failed(form)
        return show("catalogue/nas_form", form=form, router=None, status=422)
    session = db_session()
    try:
        nas_service.create(session, tenant_id=g.tenant.id, actor=g.principal.actor, **form.values())
    except ServiceError as exc:
        session.rollback()
        _refused(form, exc)
        return show("catalogue/nas_form", form=form, router=None, status=exc.status)
    flash(NAS_ADDED, "success")
    return redirect(url_for(".nas"), code=303)


@requires("settings.manage", kinds=TEAM_KINDS)
def edit_nas(nas_id: int):
    router = _own_nas(nas_id)
    if request.method == "GET":
        form = NasForm(formdata=None, obj=router)
        form.network.data = str(router.network)
        form.creating = False
        return show("catalogue/nas_form", form=form, router=router)
    form = NasForm()
    form.creating = False
    if not form.validate_on_submit():
        _failed(form)
        return show("catalogue/nas_form", form=form, router=router, status=422)
    session = db_session()
    try:
        nas_service.update(session, router, **form.values())
    except ServiceError as exc:
        session.rollback()
        _refused(form, exc)
        return show("catalogue/nas_form", form=form, router=_own_nas(nas_id), status=exc.status)
    flash(NAS_CHANGED, "success")
    return redirect(url_for(".nas"), code=303)


@requires("settings.manage", kinds=TEAM_KINDS)
def delete_nas(nas_id: int):
    router = _own_nas(nas_id)
    form = ActionForm()
    if request.method == "GET":
        return show("catalogue/delete_nas", router=router, form=form)
    if not form.validate_on_submit():
        form.form_errors.append(FORM_EXPIRED)
        return show("catalogue/delete_nas", router=router, form=form, status=422)
    nas_service.delete(db_session(), router)
    flash(NAS_DELETED, "success")
    return redirect(url_for(".nas"), code=303)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/ip-pools", "pools", pools)
    bp.add_url_rule("/ip-pools/new", "new_pool", new_pool, methods=["GET", "POST"])
    bp.add_url_rule("/ip-pools/<int:pool_id>", "pool", pool)
    bp.add_url_rule("/ip-pools/<int:pool_id>/delete", "delete_pool", delete_pool, methods=["GET", "POST"])
    bp.add_url_rule("/equipment", "equipment", equipment_list)
    bp.add_url_rule("/equipment/models/new", "new_model", new_model, methods=["GET", "POST"])
    bp.add_url_rule("/equipment/new", "new_device", new_device, methods=["GET", "POST"])
    bp.add_url_rule("/equipment/<int:item_id>/change", "change_device", change_device, methods=["GET", "POST"])
    bp.add_url_rule("/nas", "nas", nas_list)
    bp.add_url_rule("/nas/new", "new_nas", new_nas, methods=["GET", "POST"])
    bp.add_url_rule("/nas/<int:nas_id>/edit", "edit_nas", edit_nas, methods=["GET", "POST"])
    bp.add_url_rule("/nas/<int:nas_id>/delete", "delete_nas", delete_nas, methods=["GET", "POST"])
