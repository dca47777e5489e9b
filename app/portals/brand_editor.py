"""The brand editor both doors share: the reseller's Branding page (app/portals/reseller/branding.py) edits a
reseller's brand, the console's Platform brand page (app/portals/console/brand.py) the platform's, the last
fallback of every brand. The fields, their labels and hints, the form, the in-page sample with its stylesheet
and the whole previews are one thing here, so both editors check, say and draw a brand alike; each view only
says whose brand it is (`branding.Owner`) and what its door allows. The templates' half is
kit/brand_editor.html.

Why the preview works without an iframe (pages carry no inline style or script and are never framed, see
app/web/security.py): the sample is drawn inside `.brand-sample` of the page itself, coloured by a stylesheet
of its own (`sample_css`) whose address holds the unsaved values; whole pages are drawn with the unsaved
stylesheet inline and so served under the sandbox policy of app/services/branding/previews.py.
"""

from __future__ import annotations

from flask import Response, request
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy.orm import Session
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from app.services import branding
from app.services.branding import fields, previews, rendering
from app.services.errors import Invalid
from app.web.branding import current_locale

TOO_LONG = "This is too long."
FILE_MISSING = "Choose a file to upload."
INHERITED_THEME = "Inherited (no theme of its own)"

# the fields the form edits, in the order it shows them (the logo and favicon are uploads of their own)
EDITABLE = tuple(name for name in fields.FIELDS if name not in fields.ASSETS)
LONG = ("address", "terms", "custom_css")
SHORT = ("primary_color", "secondary_color", "sms_sender_id")
_LIMITS = {"logo_url": 500, "primary_color": 7, "secondary_color": 7, "font_family": 200, "heading_font_family": 200,
           "support_email": 254, "support_phone": 40, "email_sender_address": 254, "sms_sender_id": 11,
           "custom_css": 50_000, "theme": 40, **fields.TEXT_LIMITS}
LABELS = {
    "brand_name": "Brand name", "logo_url": "Logo address", "primary_color": "Primary colour",
    "secondary_color": "Secondary colour", "font_family": "Font", "heading_font_family": "Heading font",
    "support_email": "Support e-mail address", "support_phone": "Support phone", "address": "Postal address",
    "tax_number": "Tax number", "terms": "Terms and conditions", "email_sender_name": "E-mail sender name",
    "email_sender_address": "E-mail sender address", "sms_sender_id": "SMS sender ID", "custom_css": "Custom CSS",
    "theme": "Theme",
}
HINTS = {
    "logo_url": "An https:// address of your logo; an uploaded logo is used before it.",
    "primary_color": "Like #0066CC: the bar and links.",
    "secondary_color": "Like #FF6600: the buttons.",
    "font_family": "Font names, like Inter, sans-serif.",
    "sms_sender_id": "At most 11 letters, digits or spaces.",
    "terms": "Shown on the sign-in pages and documents.",
    "custom_css": "Your own rules, after the brand's. No @import, scripts or addresses other than https:// images.",
}
SHOWN = {"portal": "Customer portal", "login": "Sign-in page", "email": "E-mail", "invoice": "Invoice (PDF)"}
SAMPLE_FIELDS = ("primary_color", "secondary_color", "font_family", "heading_font_family")


# -- the form ---------------------------------------------------------------------------------------------------

def _text(name: str):
    kind = TextAreaField if name in LONG else StringField
    return kind(validators=[Optional(), Length(max=_LIMITS[name], message=TOO_LONG)])


class BrandFields(FlaskForm):
    """Every brand field, checked here only for length: what a field may hold is the branding service's one
    check (app/services/branding/fields.py), whose message is then put next to the field (`place`). An empty
    field means "not set here" (inherited, or the built-in default for the platform), as `null` in the API."""

    theme = SelectField(validators=[Optional()], validate_choice=False, default="")

    def offer(self, themes: list[str], empty: str = INHERITED_THEME) -> BrandFields:
        self.theme.choices = [SelectChoice("", empty), *(SelectChoice(name, name) for name in themes)]
        return self

    def changes(self) -> dict:
        """The fields as the service takes them: text stripped, an empty field None (inherit)."""
        return {name: (self[name].data or "").strip() or None for name in EDITABLE}


for _name in EDITABLE:
    if _name != "theme":
        setattr(BrandFields, _name, _text(_name))


def filled(form_class, owner: branding.Owner, session: Session, empty: str = INHERITED_THEME, *,
           sent: bool | None = None, **extra):
    """The form as sent (`sent`, by default on a POST), or filled with the fields the owner set itself; `extra`
    are the values of the fields a door adds (the reseller's white label). A form not sent never reads the
    request's body, which a refused upload must not have read."""
    themes = previews.choosable_themes(branding.themes_of(owner))
    if request.method == "POST" if sent is None else sent:
        return form_class().offer(themes, empty)
    own, _white_label, _version = branding.own(session, owner)
    values = {**{name: own.get(name) or "" for name in EDITABLE}, **extra}
    return form_class(formdata=None, data=values).offer(themes, empty)


class AssetForm(FlaskForm):
    """Uploading a logo or a favicon; the file is checked by its content (app/services/branding/assets.py)."""

    file = FileField(validators=[FileRequired(FILE_MISSING)])


# -- checking and drawing -------------------------------------------------------------------------------------

def place(form, exc: Invalid, names=EDITABLE) -> None:
    """A service's refusal next to the field it names, else above the form."""
    name = exc.extra.get("field")
    if name in names:
        form[name].errors = [*(form[name].errors or []), exc.detail]
    else:
        form.form_errors.append(exc.detail)


def tried(session: Session, owner: branding.Owner, form: BrandFields) -> branding.Brand | None:
    """The brand with what was typed, or None (with the message next to its field) when the service refuses it."""
    try:
        return branding.preview(session, owner, form.changes())
    except Invalid as exc:
        place(form, exc)
        return None


def problems(form: BrandFields) -> list[str]:
    return [e for name in EDITABLE for e in form[name].errors] + list(form.form_errors)


def sample(brand: branding.Brand, css_url: str, currency: str) -> dict:
    """What the in-page sample draws: the brand as templates read it, its sender and subject of the welcome
    e-mail, and the address of the stylesheet of its colours and fonts (`css_args` builds its query)."""
    mail = previews.welcome_mail(brand, current_locale())
    return {"brand": rendering.brand_context(brand), "sender": mail.sender, "subject": mail.subject,
            "css_url": css_url, "customer": previews.SAMPLE_CUSTOMER, "currency": currency}


def css_args(brand: branding.Brand) -> dict:
    return {name: brand.values.get(name) for name in SAMPLE_FIELDS if brand.values.get(name)}


def sample_css(session: Session, owner: branding.Owner) -> Response:
    """The colours and fonts of the address's values as CSS variables of `.brand-sample`; a value the service
    refuses is left out (the saved one shows)."""
    changes = {name: request.args.get(name) or None for name in SAMPLE_FIELDS}
    for _attempt in SAMPLE_FIELDS:
        try:
            brand = branding.preview(session, owner, changes)
            break
        except Invalid as exc:
            changes.pop(exc.extra.get("field"), None)
    else:
        brand = branding.brand_of(session, owner.tenant_id)
    response = Response(previews.scoped_variables(brand, ".brand-sample"), mimetype="text/css")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def whole_preview(session: Session, brand: branding.Brand, show: str, tenant, portal_url: str) -> Response:
    """A whole page, e-mail or the invoice's PDF in the unsaved brand, under the sandbox policy; `tenant` is the
    reseller's (None: the platform's sample, in USD)."""
    locale = current_locale()
    headers = {"Content-Security-Policy": previews.SANDBOX, "Cache-Control": "no-store"}
    if show == "invoice":
        pdf = previews.invoice(session, brand, locale, tenant, pdf=True)
        return Response(pdf, mimetype="application/pdf",
                        headers={**headers, "Content-Disposition": 'inline; filename="preview-invoice.pdf"'})
    if show == "login":
        html = previews.sign_in_page(brand, locale, tenant)
    elif show == "email":
        html = previews.welcome_mail(brand, locale, portal_url).html
    else:
        environment = rendering.environment("page", brand.themes)
        context = {**rendering.render_context(brand, locale), "preview_css": brand.stylesheet[0],
                   "customer": previews.SAMPLE_CUSTOMER, "currency": previews.currency(session, tenant)}
        html = environment.get_template("reseller/branding/preview_portal.html").render(context)
    return Response(html, mimetype="text/html", headers=headers)
