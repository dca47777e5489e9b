"""The reseller's Branding pages, `/reseller/branding`: every brand field, a preview of the unsaved brand, the logo
and the favicon, and the reseller's own domains with their DNS verification. All of it needs `settings.manage`,
as the branding and domains APIs do, and calls the same services (app/services/branding, app/services/domains).

The brand form, the sample and the whole previews are the brand editor's (app/portals/brand_editor.py,
kit/brand_editor.html), shared with the console's Platform brand page; this module says whose brand it is.

Previewing and the security policy. Pages may not carry inline style or script, and no page may be framed
(`frame-ancestors 'none'`, app/web/security.py), so the preview is not an iframe:
- in the page itself, a sample (the customer portal, the sign-in page, an e-mail, an invoice) is drawn inside
  `.brand-sample` with the unsaved colours and fonts from a stylesheet of its own, `sample.css`, whose address
  holds the values and which sets the brand's CSS variables on `.brand-sample` alone. The form's "Preview" button
  draws the page again with the sample of what was typed (no JavaScript needed); with htmx, the sample follows
  each change of a field (`sample`, a fragment).
- whole pages (the portal, the sign-in page, the e-mail) and the invoice's PDF are drawn with the unsaved brand by
  `preview`, opened in a new tab. They carry the unsaved stylesheet inline, so they are served under the
  branding API's sandbox policy (app/services/branding/previews.py): inline styles, no script, never framed.
"Save" applies the brand at once: `branding.update` forgets the cached brands, so the customers' next page is in
the new one.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for

from app.portals import brand_editor as editor
from app.portals.brand_editor import HINTS, LABELS, SHOWN
from app.portals.forms import FORM_EXPIRED, expired
from app.portals.reseller.branding_forms import EDITABLE, LONG, ActionForm, AssetForm, BrandForm, DomainForm
from app.portals.reseller.shell import TEAM_KINDS, guard, page
from app.services import branding, domains
from app.services.branding import assets, previews, rendering
from app.services.errors import Invalid, ServiceError
from app.web import db_session, state
from app.web.auth import requires
from app.web.limits import takes_files

bp = Blueprint("reseller_branding", __name__, url_prefix="/reseller/branding")
guard(bp)

MANAGE = "settings.manage"
SAVED = "The brand is saved. Your customers see it from now on."
LOGO_SAVED = "The logo is uploaded."
FAVICON_SAVED = "The favicon is uploaded."
LOGO_REMOVED = "The logo is removed."
FAVICON_REMOVED = "The favicon is removed."
DOMAIN_ADDED = "The domain is added. Create the DNS record shown, then check it."
DOMAIN_VERIFIED = "The domain is verified: it leads to your portal now."
DOMAIN_PRIMARY = "Links and e-mails now point at this domain."
DOMAIN_REMOVED = "The domain is removed."
KINDS = {"logo": "Logo", "favicon": "Favicon"}


def _owner() -> branding.Owner:
    return branding.Owner.of(db_session(), g.tenant.id)


def _form(owner: branding.Owner, sent: bool | None = None) -> BrandForm:
    """The form as sent (by default on a POST), or filled with the fields this reseller set itself and its
    white label."""
    if request.method == "POST" if sent is None else sent:
        return editor.filled(BrandForm, owner, db_session(), sent=True)
    _own, white_label, _version = branding.own(db_session(), owner)
    return editor.filled(BrandForm, owner, db_session(), sent=False, white_label_enabled=white_label)


def _tried(owner: branding.Owner, form: BrandForm) -> branding.Brand | None:
    return editor.tried(db_session(), owner, form)


def _sample(brand: branding.Brand) -> dict:
    return editor.sample(brand, url_for(".sample_css", **editor.css_args(brand)),
                         previews.currency(db_session(), g.tenant))


def _index(owner: branding.Owner, form: BrandForm | None = None, brand: branding.Brand | None = None, *,
           status: int = 200, uploads: dict | None = None):
    session = db_session()
    form = form or _form(owner, sent=False)  # a page drawn without the brand form (an upload refused): as saved
    own, _white_label, _version = branding.own(session, owner)
    saved = branding.brand_of(session, owner.tenant_id)
    uploads = uploads or {}
    return page("branding/index", status=status, form=form, labels=LABELS, hints=HINTS, long=LONG,
                editable=EDITABLE, short=editor.SHORT, sources=saved.sources, effective=saved.values, own=own,
                sample=_sample(brand or saved), previewing=brand is not None, shown=SHOWN,
                files={kind: {"label": KINDS[kind], "form": uploads.get(kind) or AssetForm(prefix=kind),
                              "src": rendering.asset_url(saved, kind), "own": kind in own,
                              "limit": assets.LIMITS[kind]} for kind in KINDS},
                action=ActionForm())


@requires(MANAGE, kinds=TEAM_KINDS)
def index():
    return _index(_owner())


@requires(MANAGE, kinds=TEAM_KINDS)
def save():
    """One form, two buttons: "Preview" draws the page again with the sample of what was typed, "Save" keeps it."""
    owner = _owner()
    form = _form(owner)
    if not form.validate_on_submit():
        if expired(form):
            flash(FORM_EXPIRED, "error")
            return redirect(url_for(".index"))
        return _index(owner, form, status=422)
    if request.form.get("action") == "preview":
        brand = _tried(owner, form)
        return _index(owner, form, brand, status=200 if brand is not None else 422)
    try:
        branding.update(db_session(), owner, form.changes(), white_label_enabled=bool(form.white_label_enabled.data),
                        actor=g.principal.actor)
    except Invalid as exc:
        editor.place(form, exc)
        return _index(owner, form, status=422)
    flash(SAVED, "success")
    return redirect(url_for(".index"))


@requires(MANAGE, kinds=TEAM_KINDS)
def sample():
    """The in-page sample for what the form holds now (htmx, on each change); a refused value leaves the sample
    as it was saved and says why."""
    owner = _owner()
    form = _form(owner)
    brand = _tried(owner, form) if form.validate() else None
    shown = brand or branding.brand_of(db_session(), owner.tenant_id)
    return render_template("reseller/branding/_sample.html", sample=_sample(shown), problems=editor.problems(form),
                           previewing=brand is not None, shown=SHOWN)


@requires(MANAGE, kinds=TEAM_KINDS)
def sample_css():
    """The colours and fonts of the address's values as CSS variables of `.brand-sample`; a value the service
    refuses is left out (the saved one shows)."""
    return editor.sample_css(db_session(), _owner())


@requires(MANAGE, kinds=TEAM_KINDS)
def preview():
    """A whole page, e-mail or the invoice's PDF with the unsaved brand, in a tab of its own; nothing is stored."""
    owner = _owner()
    form = _form(owner)
    show = request.form.get("show")
    if show not in SHOWN:
        show = "portal"
    if not form.validate_on_submit():
        if expired(form):
            flash(FORM_EXPIRED, "error")
            return redirect(url_for(".index"))
        return _index(owner, form, status=422)
    brand = _tried(owner, form)
    if brand is None:
        return _index(owner, form, status=422)
    host = rendering.primary_host(db_session(), g.tenant.id)
    portal = f"{state().settings.public_url(host)}/portal" if host else "/portal"
    return editor.whole_preview(db_session(), brand, show, g.tenant, portal)


# -- the logo and the favicon --------------------------------------------------------------------------------

def _known(kind: str) -> None:
    """`logo` or `favicon`; anything else is no page (a plain `<kind>` in the rule, which the permission
    matrix's test can fill in, where `any(...)` it cannot)."""
    if kind not in KINDS:
        abort(404)


@requires(MANAGE, kinds=TEAM_KINDS)
def upload(kind: str):
    _known(kind)
    owner = _owner()
    form = AssetForm(prefix=kind)
    if not form.validate_on_submit():
        if expired(form):
            flash(FORM_EXPIRED, "error")
            return redirect(url_for(".index"))
        return _index(owner, status=422, uploads={kind: form})
    data = form.file.data.read(assets.LIMITS[kind] + 1)
    try:
        branding.upload(db_session(), owner, kind, data, actor=g.principal.actor)
    except Invalid as exc:
        form.file.errors = [exc.detail]
        return _index(owner, status=422, uploads={kind: form})
    flash(LOGO_SAVED if kind == "logo" else FAVICON_SAVED, "success")
    return redirect(url_for(".index") + "#files")


@requires(MANAGE, kinds=TEAM_KINDS)
def remove_file(kind: str):
    _known(kind)
    if not ActionForm().validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".index"))
    branding.update(db_session(), _owner(), {kind: None}, actor=g.principal.actor)
    flash(LOGO_REMOVED if kind == "logo" else FAVICON_REMOVED, "success")
    return redirect(url_for(".index") + "#files")


# -- domains --------------------------------------------------------------------------------------------------

def _reserved() -> domains.Reserved:
    settings = state().settings
    return domains.Reserved(base_domain=settings.base_domain, console_host=settings.console_host)


def _committed() -> None:
    """As the domains API does: commit, then refresh this process's directory of hosts (others follow on the
    registry's NOTIFY), so no request in between caches the old answer."""
    db_session().commit()
    state().directory.invalidate()


def _domains_page(form: DomainForm | None = None, *, status: int = 200):
    session = db_session()
    platform = domains.platform_host(session, g.tenant.id)
    found = [{"row": d, "records": domains.records(d, platform)} for d in domains.list_for(session, g.tenant.id)]
    return page("branding/domains", status=status, form=form or DomainForm(), domains=found, action=ActionForm())


@requires(MANAGE, kinds=TEAM_KINDS)
def domain_list():
    return _domains_page()


@requires(MANAGE, kinds=TEAM_KINDS)
def domain_add():
    form = DomainForm()
    if not form.validate_on_submit():
        if expired(form):
            flash(FORM_EXPIRED, "error")
            return redirect(url_for(".domain_list"))
        return _domains_page(form, status=422)
    try:
        domains.add(db_session(), g.tenant.id, form.host.data, reserved=_reserved(), actor=g.principal.actor)
    except ServiceError as exc:
        form.host.errors = [exc.detail]
        return _domains_page(form, status=422)
    _committed()
    flash(DOMAIN_ADDED, "success")
    return redirect(url_for(".domain_list"))


def _acted(domain_id: int, act) -> Response | None:
    """The domain's row (404 for another reseller's id, as in the API), a checked token, then `act`."""
    domains.get(db_session(), g.tenant.id, domain_id)
    if not ActionForm().validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".domain_list"))
    try:
        act()
    except ServiceError as exc:
        db_session().rollback()
        flash(exc.detail, "error")
        return redirect(url_for(".domain_list"))
    _committed()
    return None


@requires(MANAGE, kinds=TEAM_KINDS)
def domain_verify(domain_id: int):
    settings = state().settings
    resolver = domains.resolver(settings.dns_nameservers, settings.dns_timeout)
    refused = _acted(domain_id, lambda: domains.verify(db_session(), g.tenant.id, domain_id, resolver,
                                                        actor=g.principal.actor))
    if refused is not None:
        return refused
    flash(DOMAIN_VERIFIED, "success")
    return redirect(url_for(".domain_list"))


@requires(MANAGE, kinds=TEAM_KINDS)
def domain_primary(domain_id: int):
    refused = _acted(domain_id, lambda: domains.set_primary(db_session(), g.tenant.id, domain_id,
                                                            actor=g.principal.actor))
    if refused is not None:
        return refused
    flash(DOMAIN_PRIMARY, "success")
    return redirect(url_for(".domain_list"))


@requires(MANAGE, kinds=TEAM_KINDS)
def domain_remove(domain_id: int):
    """GET asks first (kit/confirm.html); POST removes."""
    domain = domains.get(db_session(), g.tenant.id, domain_id)
    if request.method == "GET":
        return page("branding/remove_domain", domain=domain, action=ActionForm())
    refused = _acted(domain_id, lambda: domains.remove(db_session(), g.tenant.id, domain_id,
                                                       actor=g.principal.actor))
    if refused is not None:
        return refused
    flash(DOMAIN_REMOVED, "success")
    return redirect(url_for(".domain_list"))


bp.add_url_rule("", "index", index)
bp.add_url_rule("", "save", save, methods=["POST"])
bp.add_url_rule("/sample", "sample", sample, methods=["POST"])
bp.add_url_rule("/sample.css", "sample_css", sample_css)
bp.add_url_rule("/preview", "preview", preview, methods=["POST"])
bp.add_url_rule("/<kind>", "upload", takes_files(upload, back=".index"), methods=["POST"])
bp.add_url_rule("/<kind>/remove", "remove_file", remove_file, methods=["POST"])
bp.add_url_rule("/domains", "domain_list", domain_list)
bp.add_url_rule("/domains", "domain_add", domain_add, methods=["POST"])
bp.add_url_rule("/domains/<int:domain_id>/verify", "domain_verify", domain_verify, methods=["POST"])
bp.add_url_rule("/domains/<int:domain_id>/primary", "domain_primary", domain_primary, methods=["POST"])
bp.add_url_rule("/domains/<int:domain_id>/remove", "domain_remove", domain_remove, methods=["GET", "POST"])
