"""The forms of the reseller's Branding pages. Messages are msgids: the templates translate them (`_(error)`), so
they are listed in the catalogue (themes/base/translations/sw/LC_MESSAGES/reseller-brand.po).

The brand's fields are the brand editor's, shared with the console's Platform brand page
(app/portals/brand_editor.py): only lengths are checked here, what a field may hold is the branding service's
one check. A reseller's brand adds the white label switch; its domains are its own.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import InputRequired, Length

from app.portals.brand_editor import EDITABLE, FILE_MISSING, LONG, TOO_LONG, AssetForm, BrandFields

__all__ = ["EDITABLE", "FILE_MISSING", "LONG", "TOO_LONG", "ActionForm", "AssetForm", "BrandForm", "DomainForm",
           "HOST_MISSING"]

HOST_MISSING = "Enter the domain, like portal.example.com."


class BrandForm(BrandFields):
    """Every brand field and the white label; `theme` offers the shipped and uploaded themes (`offer`)."""

    white_label_enabled = BooleanField()


class DomainForm(FlaskForm):
    host = StringField(validators=[InputRequired(HOST_MISSING), Length(max=253, message=TOO_LONG)])


class ActionForm(FlaskForm):
    """No fields: the CSRF token makes removing a file or checking, choosing or removing a domain deliberate."""
