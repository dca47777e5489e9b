"""The forms of the console's Platform brand page. The brand's fields are the brand editor's
(app/portals/brand_editor.py), the reseller's Branding page's too: lengths here, what a field may hold is the
branding service's one check. Messages are msgids, translated by the templates
(themes/base/translations/sw/LC_MESSAGES/console-brand.po).

No white label switch: the platform's brand is the last of every chain, shown whatever its row says
(app/services/branding/resolve.py reads the platform row's fields alone), so a switch would change nothing.
"""

from __future__ import annotations

from flask_wtf import FlaskForm

from app.portals.brand_editor import FILE_MISSING, TOO_LONG, AssetForm, BrandFields

__all__ = ["BASE_THEME", "FILE_MISSING", "TOO_LONG", "ActionForm", "AssetForm", "PlatformBrandForm"]

BASE_THEME = "None: the base theme"


class PlatformBrandForm(BrandFields):
    """Every field of the platform's brand; an empty one is the built-in default."""


class ActionForm(FlaskForm):
    """No fields: the CSRF token makes removing the logo deliberate."""
