"""The console's Platform brand page, `/console/brand`: the master ISP's staff edit the platform's own brand,
the one the console, the master ISP's pages and every reseller that sets nothing of its own are drawn in. It
is what the console branding API does (app/api/branding/routes.py `console_blp`: GET, PATCH, the logo's
upload), through the same service (app/services/branding), which checks every value and audits the change.

The editor is the reseller's Branding page's (app/portals/brand_editor.py, kit/brand_editor.html): every field
in one form, a sample of what was typed ("Preview", or htmx on each change), whole previews in a new tab, the
logo. Not here: the white label switch (the platform's brand is the last of every chain, shown whatever its
row says), a favicon (the console API takes none) and domains (a reseller's). An empty field returns to the
built-in default, as `null` does in the API. "Save" applies at once: the service forgets the cached brands,
so the next page of every inheriting reseller is in the new brand.

A logo over the upload's cap is refused before any view reads it (app/web/limits.py, 413), which sends a page's
form back to its page saying so, as for every page that takes files.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from app.portals import brand_editor as editor
from app.portals.console.brand_forms import BASE_THEME, ActionForm, AssetForm, PlatformBrandForm
from app.portals.console.shell import STAFF_KINDS, guard, page
from app.portals.forms import FORM_EXPIRED, expired
from app.services import branding, resellers
from app.services.branding import assets, previews, rendering
from app.services.branding.resolve import PLATFORM
from app.services.errors import Invalid
from app.web import db_session
from app.web.auth import requires
from app.web.limits import takes_files

bp = Blueprint("console_brand", __name__, url_prefix="/console/brand")
guard(bp)

SAVED = "The platform brand is saved. Everyone who inherits it sees it from now on."
LOGO_SAVED = "The logo is uploaded."
LOGO_REMOVED = "The logo is removed."
LOGO = "Logo"
SHOWN_NAMES = 30  # resellers named on the page; the rest are counted


def _owner() -> branding.Owner:
    return branding.Owner()


def _form(sent: bool | None = None) -> PlatformBrandForm:
    return editor.filled(PlatformBrandForm, _owner(), db_session(), BASE_THEME, sent=sent)


def _sample(brand: branding.Brand) -> dict:
    return editor.sample(brand, url_for(".sample_css", **editor.css_args(brand)),
                         previews.currency(db_session(), None))


def _inheritors() -> dict:
    """The resellers drawn wholly in the platform's brand (every field but their name comes from it, as the
    service resolves their brands), newest first (the one just made is the one staff look for), and how many
    resellers there are."""
    session = db_session()
    placed = resellers.tree(session)
    whole = [p.row for p in sorted(placed, key=lambda p: p.row.id, reverse=True)
             if all(source == PLATFORM for name, source in branding.brand_of(session, p.row.id).sources.items()
                    if name != "brand_name")]
    return {"named": whole[:SHOWN_NAMES], "more": max(0, len(whole) - SHOWN_NAMES), "count": len(whole),
            "resellers": len(placed)}


def _index(form: PlatformBrandForm | None = None, brand: branding.Brand | None = None, *, status: int = 200,
           upload: AssetForm | None = None):
    session = db_session()
    form = form or _form(sent=False)  # a page drawn without the brand form (an upload refused): as saved
    own, _white_label, _version = branding.own(session, _owner())
    saved = branding.brand_of(session, None)
    logo = {"label": LOGO, "form": upload or AssetForm(prefix="logo"), "src": rendering.asset_url(saved, "logo"),
            "own": "logo" in own}
    return page("brand/index", status=status, form=form, labels=editor.LABELS, hints=editor.HINTS,
                editable=editor.EDITABLE, short=editor.SHORT, sources=saved.sources, effective=saved.values,
                own=own, sample=_sample(brand or saved), previewing=brand is not None, shown=editor.SHOWN,
                logo=logo, action=ActionForm(formdata=None), inheritors=_inheritors())


def _refused(form) -> object:
    """For a form that did not pass its own checks: an expired one starts again from the page (a redirect);
    None for any other, whose page is drawn again with the messages next to the fields."""
    if expired(form):
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".index"))
    return None


@requires(kinds=STAFF_KINDS)
def index():
    return _index()


@requires(kinds=STAFF_KINDS)
def save():
    """One form, two buttons: "Preview" draws the page again with the sample of what was typed, "Save" keeps it."""
    form = _form()
    if not form.validate_on_submit():
        return _refused(form) or _index(form, status=422)
    if request.form.get("action") == "preview":
        brand = editor.tried(db_session(), _owner(), form)
        return _index(form, brand, status=200 if brand is not None else 422)
    try:
        branding.update(db_session(), _owner(), form.changes(), actor=g.principal.actor)
    except Invalid as exc:
        editor.place(form, exc)
        return _index(form, status=422)
    flash(SAVED, "success")
    return redirect(url_for(".index"))


@requires(kinds=STAFF_KINDS)
def sample():
    """The in-page sample for what the form holds now (htmx, on each change); a refused value leaves the sample
    as it was saved and says why."""
    form = _form()
    brand = editor.tried(db_session(), _owner(), form) if form.validate() else None
    shown = brand or branding.brand_of(db_session(), None)
    return render_template("console/brand/_sample.html", sample=_sample(shown), problems=editor.problems(form),
                           previewing=brand is not None, shown=editor.SHOWN)


@requires(kinds=STAFF_KINDS)
def sample_css():
    return editor.sample_css(db_session(), _owner())


@requires(kinds=STAFF_KINDS)
def preview():
    """A whole page, e-mail or the invoice's PDF in the unsaved brand, in a tab of its own; nothing is stored."""
    form = _form()
    show = request.form.get("show")
    if show not in editor.SHOWN:
        show = "portal"
    if not form.validate_on_submit():
        return _refused(form) or _index(form, status=422)
    brand = editor.tried(db_session(), _owner(), form)
    if brand is None:
        return _index(form, status=422)
    return editor.whole_preview(db_session(), brand, show, None, "/portal")


# -- the logo ------------------------------------------------------------------------------------------------

@requires(kinds=STAFF_KINDS)
def upload_logo():
    form = AssetForm(prefix="logo")
    if not form.validate_on_submit():
        return _refused(form) or _index(status=422, upload=form)
    data = form.file.data.read(assets.LIMITS["logo"] + 1)
    try:
        branding.upload(db_session(), _owner(), "logo", data, actor=g.principal.actor)
    except Invalid as exc:
        form.file.errors = [exc.detail]
        return _index(status=422, upload=form)
    flash(LOGO_SAVED, "success")
    return redirect(url_for(".index") + "#files")


@requires(kinds=STAFF_KINDS)
def remove_logo():
    """As the API's PATCH with `{"logo": null}`: the built-in look (or the logo address) again."""
    if not ActionForm().validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".index"))
    branding.update(db_session(), _owner(), {"logo": None}, actor=g.principal.actor)
    flash(LOGO_REMOVED, "success")
    return redirect(url_for(".index") + "#files")


bp.add_url_rule("", "index", index)
bp.add_url_rule("", "save", save, methods=["POST"])
bp.add_url_rule("/sample", "sample", sample, methods=["POST"])
bp.add_url_rule("/sample.css", "sample_css", sample_css)
bp.add_url_rule("/preview", "preview", preview, methods=["POST"])
bp.add_url_rule("/logo", "upload_logo", takes_files(upload_logo, back=".index"), methods=["POST"])
bp.add_url_rule("/logo/remove", "remove_logo", remove_logo, methods=["POST"])
