"""White-label branding: a reseller's brand, files and themes, and previews of unsaved changes.

Reseller users with `settings.manage` change their own brand (`/reseller/api/branding`); master ISP
staff change the platform's, the last fallback of every brand (`/console/api/branding`). A reseller's
brand applies to its sub-resellers that inherit branding (see app/services/branding/resolve.py).
"""

from __future__ import annotations

from flask import Response, g
from flask_smorest import Blueprint
from sqlalchemy import select

from app.api.branding import schemas as s
from app.models import Domain
from app.models import Tenant as TenantRow
from app.services import branding, domains
from app.services.branding import previews, rendering
from app.services.errors import Invalid
from app.web import db_session
from app.web.auth import requires
from app.web.branding import current_locale

blp = Blueprint("branding", __name__, url_prefix="/reseller/api/branding", description="White-label branding")
console_blp = Blueprint("branding_console", __name__, url_prefix="/console/api/branding",
                        description="The platform's brand, the last fallback of every reseller's")
BLUEPRINTS = [blp, console_blp]
USER = ("user",)
STAFF = ("staff",)


def _owner() -> branding.Owner:
    tenant = g.get("tenant")
    return branding.Owner.of(db_session(), tenant.id if tenant is not None else None)


def _out(owner: branding.Owner, brand: branding.Brand | None = None) -> dict:
    session = db_session()
    fields_, white_label, version = branding.own(session, owner)
    brand = brand or branding.brand_of(session, owner.tenant_id)
    row = session.get(TenantRow, owner.tenant_id) if owner.tenant_id else None
    effective = rendering.brand_context(brand)
    effective.pop("name", None)
    own = {k: ({**v, "url": f"/brand/{k}/{v['file']}"} if k in ("logo", "favicon") else v) for k, v in fields_.items()}
    domain = None
    if owner.tenant_id is not None:
        domain = session.execute(select(Domain.host).where(Domain.tenant_id == owner.tenant_id, Domain.is_primary)
                                 ).scalar_one_or_none()
    return {"reseller_id": owner.tenant_id, "white_label_enabled": white_label,
            "inherited_branding": row.inherited_branding if row is not None else None, "version": version,
            "branding": own, "effective": effective, "sources": brand.sources, "domain": domain,
            "stylesheet_url": rendering.stylesheet_url(brand), "themes": branding.themes_of(owner)}


def _changes(body: dict, owner: branding.Owner) -> tuple[dict, str | None]:
    if body.get("reseller_id") not in (None, owner.tenant_id):
        raise Invalid("reseller_id must be your own id (or left out)", field="reseller_id")
    changes = dict(body.get("branding") or {})
    return changes, changes.pop("domain", None)


def _make_primary(owner: branding.Owner, host: str) -> None:
    """`domain` of the Branding Configuration: one of the reseller's verified domains becomes primary."""
    session = db_session()
    wanted = domains.normalise(host)
    found = next((d for d in domains.list_for(session, owner.tenant_id) if d.host == wanted), None)
    if found is None or found.verified_at is None:
        raise Invalid(f"{host} is not a verified domain of yours: add and verify it at /reseller/api/domains first",
                      field="domain")
    domains.set_primary(session, owner.tenant_id, found.id, actor=g.principal.actor)


def _update(body: dict) -> dict:
    owner = _owner()
    changes, domain = _changes(body, owner)
    if domain and owner.tenant_id is None:
        raise Invalid("the platform has no domain of its own to choose", field="domain")
    brand = branding.update(db_session(), owner, changes, white_label_enabled=body.get("white_label_enabled"),
                            actor=g.principal.actor)
    if domain:
        _make_primary(owner, domain)
    return _out(owner, brand)


def _upload(kind: str, body: dict) -> dict:
    upload = body["file"]
    data = upload.read(branding.assets.LIMITS[kind] + 1) if hasattr(upload, "read") else b""
    owner = _owner()
    return _out(owner, branding.upload(db_session(), owner, kind, data, actor=g.principal.actor))


def _preview(body: dict):
    """The sign-in page or a sample invoice drawn with the unsaved brand; nothing is stored."""
    owner = _owner()
    changes, _domain = _changes(body, owner)
    session = db_session()
    brand = branding.preview(session, owner, changes)
    locale = current_locale()
    if body["page"] == "invoice":
        drawn = previews.invoice(session, brand, locale, g.get("tenant"), pdf=body["format"] == "pdf")
        if body["format"] == "pdf":
            return Response(drawn, mimetype="application/pdf",
                            headers={"Content-Disposition": 'inline; filename="preview-invoice.pdf"'})
        html = drawn
    else:
        if body["format"] == "pdf":
            raise Invalid("the sign-in page previews as html only", field="format")
        html = previews.sign_in_page(brand, locale, g.get("tenant"))
    return Response(html, mimetype="text/html", headers={"Content-Security-Policy": previews.SANDBOX})


# -- a reseller's own brand ----------------------------------------------------------------------------

@blp.route("")
@requires("settings.manage", kinds=USER)
@blp.response(200, s.BrandingOut)
def get_branding():
    """Your brand: the fields you set, every field as your customers see it, and where each comes from."""
    return _out(_owner())


@blp.route("", methods=["PATCH"])
@requires("settings.manage", kinds=USER)
@blp.arguments(s.BrandingIn)
@blp.response(200, s.BrandingOut)
def update_branding(body):
    """Change fields of your brand (the JSON of "Branding Configuration"); `null` inherits a field again."""
    return _update(body)


@blp.route("/logo", methods=["POST"])
@requires("settings.manage", kinds=USER)
@blp.arguments(s.FileIn, location="files")
@blp.response(200, s.BrandingOut)
def upload_logo(body):
    """Upload your logo: PNG, JPEG or SVG up to 1 MB (SVGs with scripts, events or links are refused)."""
    return _upload("logo", body)


@blp.route("/favicon", methods=["POST"])
@requires("settings.manage", kinds=USER)
@blp.arguments(s.FileIn, location="files")
@blp.response(200, s.BrandingOut)
def upload_favicon(body):
    """Upload your favicon: PNG, ICO, JPEG or SVG up to 256 KB."""
    return _upload("favicon", body)


@blp.route("/themes")
@requires("settings.manage", kinds=USER)
@blp.response(200, s.ThemesOut)
def list_themes():
    """The themes you uploaded (choose one with the `theme` field)."""
    return {"themes": branding.themes_of(_owner())}


@blp.route("/themes", methods=["POST"])
@requires("settings.manage", kinds=USER)
@blp.arguments(s.ThemeNameIn, location="form")
@blp.arguments(s.FileIn, location="files")
@blp.response(201, s.ThemesOut)
def upload_theme(form, files):
    """Upload a theme as a zip of `templates/` and `static/` (5 MB at most; replaces one of the same name)."""
    name = form["name"]
    upload = files["file"]
    data = upload.read(branding.theme_upload.MAX_ZIP + 1) if hasattr(upload, "read") else b""
    return {"themes": branding.install_theme(db_session(), _owner(), name, data, actor=g.principal.actor)}


@blp.route("/themes/<name>", methods=["DELETE"])
@requires("settings.manage", kinds=USER)
@blp.response(204)
def delete_theme(name):
    """Remove an uploaded theme that is not in use."""
    branding.remove_theme(db_session(), _owner(), name, actor=g.principal.actor)


@blp.route("/preview", methods=["POST"])
@requires("settings.manage", kinds=USER)
@blp.arguments(s.PreviewIn)
@blp.response(200, content_type="text/html", description="the page (text/html) or the invoice (application/pdf)")
def preview(body):
    """Draw the sign-in page or a sample invoice with unsaved changes to your brand."""
    return _preview(body)


# -- the platform's brand (console) --------------------------------------------------------------------

@console_blp.route("")
@requires(kinds=STAFF)
@console_blp.response(200, s.BrandingOut)
def get_platform_branding():
    """The platform's brand: what every reseller inherits last."""
    return _out(branding.Owner())


@console_blp.route("", methods=["PATCH"])
@requires(kinds=STAFF)
@console_blp.arguments(s.BrandingIn)
@console_blp.response(200, s.BrandingOut)
def update_platform_branding(body):
    """Change the platform's brand fields; `null` returns a field to the built-in default."""
    return _update(body)


@console_blp.route("/logo", methods=["POST"])
@requires(kinds=STAFF)
@console_blp.arguments(s.FileIn, location="files")
@console_blp.response(200, s.BrandingOut)
def upload_platform_logo(body):
    """Upload the platform's logo (PNG, JPEG or SVG up to 1 MB)."""
    return _upload("logo", body)
