"""The brand fields: what each may hold, checked once here for the API, the console and previews.

A stored brand holds only the fields its owner set; `None` in an update unsets a field, so that it is
inherited again. The platform's defaults close every chain, so a resolved brand always has a value for
each field that has one here.
"""

from __future__ import annotations

import re
from email.utils import parseaddr

from app.services.branding.stylesheet import sanitise_css
from app.services.errors import Invalid

_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_FONT = re.compile(r"^[A-Za-z0-9 ,'\"-]{1,200}$")
_THEME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_SENDER_ID = re.compile(r"^[A-Za-z0-9 ]{1,11}$")  # the GSM alphanumeric sender: at most 11 characters
_PHONE = re.compile(r"^[0-9A-Za-z +().-]{3,40}$")
_HTTPS = re.compile(r"^https://[^\s\"'<>()]{1,500}$")

# name: (maximum length of free text, or the checker); asset fields are set by uploads, not here.
TEXT_LIMITS = {"brand_name": 120, "address": 500, "tax_number": 60, "terms": 20_000, "email_sender_name": 120}
ASSETS = ("logo", "favicon")
FIELDS = ("brand_name", "logo", "logo_url", "favicon", "primary_color", "secondary_color", "font_family",
          "heading_font_family", "support_email", "support_phone", "address", "tax_number", "terms",
          "email_sender_name", "email_sender_address", "sms_sender_id", "custom_css", "theme")

PLATFORM_DEFAULTS: dict = {
    "brand_name": "Backhaul",
    "primary_color": "#0B5CAB",
    "secondary_color": "#F28C28",
    "font_family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    "heading_font_family": None,
    "support_email": None,
    "support_phone": None,
    "address": None,
    "tax_number": None,
    "terms": None,
    "email_sender_name": None,
    "email_sender_address": None,
    "sms_sender_id": None,
    "custom_css": None,
    "theme": None,
    "logo": None,
    "logo_url": None,
    "favicon": None,
}


def clean(changes: dict, *, theme_exists=lambda name: True) -> dict:
    """Checked and normalised values of an update; `None` stays (it means "inherit again")."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise Invalid(f"unknown branding field(s): {', '.join(unknown)}", field=unknown[0])
    cleaned = {}
    for name, value in changes.items():
        if value is None or value == "":
            cleaned[name] = None
            continue
        if name in ASSETS:
            raise Invalid(f"{name} is set by uploading a file to /reseller/api/branding/{name}", field=name)
        cleaned[name] = _one(name, value, theme_exists)
    return cleaned


def _one(name: str, value, theme_exists):
    if not isinstance(value, str):
        raise Invalid(f"{name} must be text", field=name)
    value = value.strip()
    if name in TEXT_LIMITS:
        if len(value) > TEXT_LIMITS[name]:
            raise Invalid(f"{name} is longer than {TEXT_LIMITS[name]} characters", field=name)
        if name != "terms" and name != "address" and any(c in value for c in "\r\n"):
            raise Invalid(f"{name} must be one line", field=name)
        return value
    if name in ("primary_color", "secondary_color"):
        if not _COLOUR.match(value):
            raise Invalid(f"{name} must be a colour like #0066CC", field=name)
        return value.upper()
    if name in ("font_family", "heading_font_family"):
        if not _FONT.match(value):
            raise Invalid(f"{name} may hold font names, spaces, commas, quotes and hyphens only", field=name)
        return value
    if name in ("support_email", "email_sender_address"):
        address = parseaddr(value)[1]
        if address != value or value.count("@") != 1 or "." not in value.rpartition("@")[2]:
            raise Invalid(f"{name} must be an e-mail address", field=name)
        return value.lower()
    if name == "support_phone":
        if not _PHONE.match(value):
            raise Invalid("support_phone must be a phone number", field=name)
        return value
    if name == "sms_sender_id":
        if not _SENDER_ID.match(value):
            raise Invalid("sms_sender_id must be 1 to 11 letters, digits or spaces", field=name)
        return value
    if name == "logo_url":
        if not _HTTPS.match(value):
            raise Invalid("logo_url must be an https:// address", field=name)
        return value
    if name == "custom_css":
        if len(value) > 50_000:
            raise Invalid("custom_css is longer than 50,000 characters", field=name)
        return sanitise_css(value)
    if name == "theme":
        if not _THEME.match(value) or value == "base":
            raise Invalid("theme must be the name of a theme folder (lower case letters, digits, - and _)",
                          field=name)
        if not theme_exists(value):
            raise Invalid(f"there is no theme named {value!r}: ship it under themes/ or upload it", field=name)
        return value
    raise Invalid(f"unknown branding field {name}", field=name)  # pragma: no cover - FIELDS covers all
