"""Every setting of a reseller, read and changed as one document (`app.services.tenant_settings` has the rules
and their messages, shared with the portal's Settings pages).

Reading needs `settings.manage` too, as the self-care rules' API (`/reseller/api/portal-settings`) does:
the document is the reseller's configuration (numbering, payment terms, the RADIUS policy, support
contacts), which is what the Settings pages show to who may change it, and nothing a team member needs to
read to do their work elsewhere; the settings that other pages need (the currency, the time zone) reach
them through those pages.
"""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from app.api.tenant_settings import schemas as s
from app.services import tenant_settings
from app.services.auth.principal import USER
from app.web import db_session
from app.web.auth import requires

blp = Blueprint("tenant_settings", __name__, url_prefix="/reseller/api/settings",
                description="A reseller's settings: Portal IDs, language, time zone, currency, billing, RADIUS")
KINDS = (USER,)


@blp.route("")
@requires("settings.manage", kinds=KINDS)
@blp.response(200, s.SettingsOut)
def get_settings():
    """Every setting, each present (defaults for what was never set)."""
    return tenant_settings.current(db_session())


@blp.route("", methods=["PATCH"])
@requires("settings.manage", kinds=KINDS)
@blp.arguments(s.SettingsPatch)
@blp.response(200, s.SettingsOut)
def patch_settings(body):
    """Change some settings; what is left out stays. A bad value is refused (422) with `errors` naming it by
    its path (`billing.payment_terms_days`), and nothing is stored."""
    return tenant_settings.update(db_session(), body, principal=g.principal)
