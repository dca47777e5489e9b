"""The console's audit log, `/console/audit`: the platform's audit events (every reseller created, configured,
suspended, every impersonation, payout approval, account decision...), newest first, filtered by reseller,
action, actor and days (UTC), a page at a time, with every matching row as CSV or XLSX."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from flask import Blueprint, request

from app import clock
from app.portals import tables
from app.portals.console.audit_forms import AuditFilterForm
from app.portals.console.shell import STAFF_KINDS, guard, page
from app.portals.tables import Column, TableSpec
from app.services import audit_log, resellers
from app.web import db_session
from app.web.auth import requires

bp = Blueprint("console_audit", __name__, url_prefix="/console/audit")
guard(bp)

UTC = ZoneInfo("UTC")
EVERY_ROW = 10_000
EVENTS = TableSpec("audit_log", "Audit log", (
    Column("at", "When (UTC)"), Column("actor", "Who"), Column("action", "Action"), Column("reseller", "Reseller"),
    Column("detail", "Detail")), per_page=50)


@requires(kinds=STAFF_KINDS)
def index():
    session = db_session()
    placed = resellers.tree(session)
    codes = {str(p.row.id): p.row.code for p in placed}
    form = AuditFilterForm(formdata=request.args).offer([(str(p.row.id), f"{p.row.name} ({p.row.code})")
                                                         for p in placed])
    if not form.validate():
        return page("audit/index", form=form, table=None, status=422)
    shown = tables.state(EVENTS)
    fmt = tables.wanted_format()
    found, total = audit_log.search(session, tenant_id=int(form.reseller.data) if form.reseller.data else None,
                                    action=form.action.data, actor=form.actor.data, start=form.start.data,
                                    end=form.end.data, page=1 if fmt else shown.page,
                                    per_page=EVERY_ROW if fmt else shown.per_page)
    rows = [{"at": e.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"), "actor": e.actor, "action": e.action,
             "reseller": codes.get(str(e.tenant_id), e.tenant_id), "reseller_known": str(e.tenant_id) in codes,
             "detail": json.dumps(e.detail, sort_keys=True, ensure_ascii=False, default=str)} for e in found]
    if fmt:
        today = clock.today()
        return tables.export_response(EVENTS, rows, fmt, scope="platform", start=form.start.data or today,
                                      end=form.end.data or today, zone=UTC,
                                      filters={k: v for k, v in request.args.items() if v and k != "format"})
    return page("audit/index", form=form, table=tables.view(EVENTS, shown, rows, total))


bp.add_url_rule("", "index", index)
