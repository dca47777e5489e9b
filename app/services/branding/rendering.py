"""Drawing e-mails and documents through a tenant's theme chain, brand, language and time zone.

Three template flavours share the chain mechanism of tenants/themes.py: `page` (registered by the Flask
app, which adds url_for and friends), `mail` and `document` (registered here; no Flask needed, so
the worker can render too). `render_context` is what every template of a tenant gets: `brand` (the
resolved fields plus the URLs of the logo, favicon and stylesheet), `language` and `timezone`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from babel import Locale as Locale_
from babel import UnknownLocaleError
from babel.dates import format_date
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services.branding import i18n
from app.services.branding.resolve import Brand
from tenants import current_tenant
from tenants.themes import ThemeChain, environments

_PRIMARY_HOST = text("SELECT host FROM public.domains WHERE tenant_id = :id AND verified_at IS NOT NULL "
                     "ORDER BY is_primary DESC, kind = 'custom' DESC, id LIMIT 1")


@dataclass(frozen=True)
class Locale:
    language: str = "en"
    timezone: str = "UTC"


def locale_of(session: Session) -> Locale:
    """The current tenant's language and time zone (the platform's: English, UTC)."""
    if current_tenant() is None:
        return Locale()
    from app.services.settings import get_settings

    found = get_settings(session, "language", "timezone")
    return Locale(found.get("language") or "en", found.get("timezone") or "UTC")


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@jinja2.pass_context
def when(context, value: datetime | str | None) -> str:
    """A moment as people read it, in the tenant's time zone and saying which."""
    if value in (None, ""):
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    local = moment.astimezone(zone(context.get("timezone")))
    return f"{format_date(local, 'd MMMM y', locale=_babel_locale(context))}, {local:%H:%M} {local.tzname()}"


@jinja2.pass_context
def day(context, value: date | datetime | str | None) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        value = moment.astimezone(zone(context.get("timezone"))).date()
    return format_date(value, "d MMMM y", locale=_babel_locale(context))


def _babel_locale(context) -> str:
    """Month names in the tenant's language; English when Babel does not know the language."""
    language = (context.get("language") or "en").replace("-", "_")
    try:
        Locale_.parse(language)
    except (ValueError, UnknownLocaleError):
        return "en"
    return language


def money(value, currency: str | None = None) -> str:
    """Money as text, from a Decimal (or its string): 1,234.50 KES. Never through a float."""
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text_ = f"{amount:,.2f}"
    return f"{text_} {currency}" if currency else text_


def duration(minutes: int) -> str:
    hours, rest = divmod(int(minutes), 60)
    if hours and not rest:
        return f"{hours} hour{'s' if hours > 1 else ''}"
    return f"{int(minutes)} minute{'s' if minutes != 1 else ''}"


def add_filters(environment: jinja2.Environment) -> None:
    environment.filters.update(when=when, day=day, money=money, duration=duration)
    i18n.install(environment)


def register() -> None:
    """Declare the `mail` and `document` flavours. Undefined names fail loudly in both: a missing value
    stops the event instead of sending a message with a hole in it."""
    environments.register(
        "mail", add_filters, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
        autoescape=jinja2.select_autoescape(["html"], default_for_string=False, default=False))
    environments.register("document", add_filters, undefined=jinja2.StrictUndefined, autoescape=True)


register()


def environment(flavour: str, chain: ThemeChain) -> jinja2.Environment:
    return environments.get(flavour, chain)


# -- what templates see of a brand ----------------------------------------------------------------------

def primary_host(session: Session, tenant_id: int | None) -> str | None:
    if tenant_id is None:
        return None
    return session.execute(_PRIMARY_HOST, {"id": tenant_id}).scalar_one_or_none()


def asset_url(brand: Brand, kind: str, base: str = "") -> str | None:
    """Where a logo or favicon is served on the tenant's own host (an uploaded file), or the external
    `logo_url` the reseller gave; None when the brand has neither."""
    found = brand.asset(kind)
    if found is not None:
        return f"{base}/brand/{kind}/{found[1]['file']}"
    if kind == "logo" and brand.values.get("logo_url"):
        return brand.values["logo_url"]
    return None


def stylesheet_url(brand: Brand, base: str = "") -> str:
    return f"{base}/brand/theme-{brand.stylesheet[1]}.css"


def brand_context(brand: Brand, base: str = "") -> dict:
    """The brand as templates read it: every field, `name`, and absolute-or-relative URLs of its files."""
    values = dict(brand.values)
    values.pop("custom_css", None)
    return {**values, "name": values["brand_name"], "logo_src": asset_url(brand, "logo", base),
            "favicon_src": asset_url(brand, "favicon", base), "stylesheet_src": stylesheet_url(brand, base)}


def render_context(brand: Brand, locale: Locale, base: str = "") -> dict:
    return {"brand": brand_context(brand, base), "language": locale.language, "timezone": locale.timezone}
