"""What a portal's sign-in page shows before anyone signs in: the reseller's public details."""

from flask import g
from flask_smorest import Blueprint

from app.api.portal.schemas import PortalInfo
from app.services.errors import NotFound
from app.services.settings import get_settings
from app.web import db_session
from app.web.auth import requires

blp = Blueprint("portal", __name__, url_prefix="/api/v1/portal", description="Public portal details")


@blp.route("")
@requires(public=True)
@blp.response(200, PortalInfo)
def portal_info():
    """The current host's reseller: name, support contacts, locale (read from the tenant's own schema)."""
    if g.tenant is None:
        raise NotFound("this host is not a reseller portal")
    found = get_settings(db_session(), "portal", "timezone", "currency", "language")
    portal = found["portal"] or {}
    return {
        "tenant": {"code": g.tenant.code, "name": g.tenant.name},
        "title": portal.get("title") or g.tenant.name,
        "support_email": portal.get("support_email"),
        "support_phone": portal.get("support_phone"),
        "timezone": found["timezone"],
        "currency": found["currency"],
        "language": found["language"],
    }
