"""What a reseller lets its customers do in the self-care portal: the profile fields they may change,
whether they may edit their contacts, and the top-up bundles they may buy (`app.services.selfcare.portal_rules`
has the rules and their reasons). Changing any of it needs `settings.manage`.
"""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from app.api.selfcare_settings import schemas as s
from app.services.auth.principal import USER
from app.services.selfcare import portal_rules
from app.web import db_session
from app.web.auth import requires

blp = Blueprint("selfcare_settings", __name__, url_prefix="/reseller/api",
                description="What customers may do for themselves in the portal, and the top-up bundles they buy")
KINDS = (USER,)


@blp.route("/portal-settings")
@requires("settings.manage", kinds=KINDS)
@blp.response(200, s.PortalRulesOut)
def get_portal_settings():
    """The profile fields your customers may change themselves, and whether they may edit their contacts."""
    return portal_rules.rules(db_session())


@blp.route("/portal-settings", methods=["PUT"])
@requires("settings.manage", kinds=KINDS)
@blp.arguments(s.PortalRulesIn)
@blp.response(200, s.PortalRulesOut)
def put_portal_settings(body):
    """Change them (what is left out stays). Names, ID number, status and what decides prices are never
    editable by customers; the e-mail address changes by verification link only."""
    return portal_rules.set_rules(db_session(), actor=g.principal.actor, **body)


@blp.route("/topup-bundles")
@requires("finance.view", kinds=KINDS)
@blp.response(200, s.BundleOut(many=True))
def list_topup_bundles():
    """The top-up bundles your customers may buy in the portal."""
    return portal_rules.bundles(db_session())


@blp.route("/topup-bundles", methods=["PUT"])
@requires("settings.manage", kinds=KINDS)
@blp.arguments(s.BundlesIn)
@blp.response(200, s.BundleOut(many=True))
def put_topup_bundles(body):
    """Replace the list of bundles (each: a code, what it gives, for how many days, and its price above 0);
    one bad bundle refuses the list. Bundles already bought are not touched."""
    return portal_rules.set_bundles(db_session(), body["bundles"], actor=g.principal.actor)
