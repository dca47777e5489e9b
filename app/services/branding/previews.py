"""A brand that is not saved yet, drawn as its customers would meet it: the sign-in page, a welcome e-mail, a
sample invoice, and the brand's colours and fonts as CSS variables for a sample drawn inside another page.

One place for the branding API's preview route and the reseller portal's brand editor, so that both show the
same thing. The brand comes from `branding.preview` (checked as an update is, stored nowhere). Whatever is
drawn whole here carries the brand's unsaved stylesheet inline (it has no URL yet), so it is served under
`SANDBOX`: a policy that allows inline styles but no script, no form and no framing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.services import documents
from app.services.branding import rendering, stylesheet
from app.services.branding.resolve import Brand
from app.services.notifications import outbox
from app.services.settings import get_setting
from tenants import Tenant
from tenants.themes import THEMES_ROOT

SANDBOX = "sandbox; default-src 'none'; img-src * data:; style-src 'unsafe-inline' *; font-src *"
SAMPLE_CUSTOMER = {"name": "Jane Wanjiru", "portal_id": "BHL004217"}


@dataclass(frozen=True)
class Mail:
    sender: str | None
    subject: str
    text: str
    html: str | None


def currency(session: Session, tenant: Tenant | None) -> str:
    """The sample invoice's currency: the tenant's (USD when it has none, and for the platform)."""
    if tenant is None:
        return "USD"
    return get_setting(session, "currency") or "USD"


def sign_in_page(brand: Brand, locale: rendering.Locale, tenant: Tenant | None) -> str:
    """The customers' sign-in page (portal/login.html along the brand's theme chain). Needs a request context:
    the page templates build their links with url_for."""
    environment = rendering.environment("page", brand.themes)
    context = {**rendering.render_context(brand, locale), "tenant": tenant, "preview_css": brand.stylesheet[0]}
    return environment.get_template("portal/login.html").render(context)


def invoice(session: Session, brand: Brand, locale: rendering.Locale, tenant: Tenant | None, *,
            pdf: bool) -> bytes | str:
    """The sample invoice in the brand, as its PDF or as the HTML the PDF is drawn from."""
    sample = documents.sample_invoice(currency(session, tenant))
    if pdf:
        return documents.render_pdf(session, "invoice", sample, brand=brand, locale=locale)
    return documents.render_html(session, "invoice", sample, brand=brand, locale=locale)


def welcome_mail(brand: Brand, locale: rendering.Locale, portal_url: str = "/portal") -> Mail:
    """The welcome e-mail a new customer gets, drawn as the outbox draws it, for a sample customer. The brand's
    files are linked on the host the preview is seen on (the outbox links them on the primary host)."""
    context = {**SAMPLE_CUSTOMER, "portal_url": portal_url, **rendering.render_context(brand, locale)}
    drawn = outbox.render("welcome", context, brand.themes)
    values = brand.values
    sender = None
    if values.get("email_sender_address"):
        name = values.get("email_sender_name") or values["brand_name"]
        sender = f"{name} <{values['email_sender_address']}>"
    return Mail(sender, drawn.subject, drawn.text, drawn.html)


def scoped_variables(brand: Brand, selector: str) -> str:
    """The brand's colours and fonts as the stylesheet's variables, set on `selector` instead of the whole
    page: a sample inside the editor takes the unsaved brand, the editor keeps the saved one. The custom CSS
    is left out, since its rules are written for whole pages."""
    css = stylesheet.render({**brand.values, "custom_css": None})
    return css.replace(":root {", f"{selector} {{", 1)


def choosable_themes(uploaded: list[str]) -> list[str]:
    """The themes a brand may name: those shipped with the platform (but base, which every chain ends
    with) and those the owner uploaded."""
    shipped = sorted(p.name for p in THEMES_ROOT.iterdir() if p.is_dir() and p.name != "base")
    return shipped + sorted(set(uploaded) - set(shipped))
