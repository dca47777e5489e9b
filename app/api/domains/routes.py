"""A reseller's own domains: add one, create the DNS records shown, verify, make it primary, remove.

A domain added here leads nowhere until `POST …/verify` finds the TXT record in DNS (see
app/services/domains.py for why). Managing domains is configuring the reseller's portal, so it needs
`settings.manage` and a team member's sign-in (not an OAuth client acting for itself: a domain is
a decision of the reseller's people). Only the caller's own tenant's domains exist here: another
reseller's domain id is a 404, exactly like one that does not exist.

Each change is committed before the process's tenant directory is refreshed, so no request in
between can cache the old answer; other processes follow on the registry's NOTIFY.
"""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from app.api.domains import schemas as s
from app.models import Domain
from app.services import domains
from app.web import db_session, state
from app.web.auth import requires

blp = Blueprint("domains", __name__, url_prefix="/reseller/api/domains", description="Custom domains")
USER_KIND = ("user",)


def _out(domain: Domain, platform: str | None) -> dict:
    return {"id": domain.id, "host": domain.host, "kind": domain.kind, "primary": domain.is_primary,
            "verified": domain.verified_at is not None, "verified_at": domain.verified_at,
            "created_at": domain.created_at, "dns_records": domains.records(domain, platform)}


def _reserved() -> domains.Reserved:
    settings = state().settings
    return domains.Reserved(base_domain=settings.base_domain, console_host=settings.console_host)


def _committed(domain_id: int | None = None) -> dict | None:
    """Commit, refresh the directory, and show the domain as stored."""
    session = db_session()
    session.commit()
    state().directory.invalidate()
    if domain_id is None:
        return None
    return _out(domains.get(session, g.tenant.id, domain_id), domains.platform_host(session, g.tenant.id))


@blp.route("")
@requires("settings.manage", kinds=USER_KIND)
@blp.response(200, s.DomainOut(many=True))
def list_domains():
    """Your platform sub-domain and your custom domains; pending ones list the DNS records to create."""
    session = db_session()
    platform = domains.platform_host(session, g.tenant.id)
    return [_out(d, platform) for d in domains.list_for(session, g.tenant.id)]


@blp.route("", methods=["POST"])
@requires("settings.manage", kinds=USER_KIND)
@blp.arguments(s.DomainIn)
@blp.response(201, s.DomainOut)
def add_domain(body):
    """Add a domain of yours; it works once verified. Create the `dns_records` returned, then verify.

    Refused: hosts of the platform (under its base domain, the console), IP addresses, malformed
    names, and a host already added by anyone.
    """
    domain = domains.add(db_session(), g.tenant.id, body["host"], reserved=_reserved(), actor=g.principal.actor)
    return _committed(domain.id)


@blp.route("/<int:domain_id>/verify", methods=["POST"])
@requires("settings.manage", kinds=USER_KIND)
@blp.response(200, s.DomainVerifiedOut)
def verify_domain(domain_id):
    """Look up `_backhaul-challenge.<host>` now; when it holds the expected TXT value, the domain is live.

    Otherwise a 409 `/problems/domain-not-verified` says what DNS returned (`found`, `result`:
    missing, mismatch, timeout or error) against what was `expected`, and the domain stays pending.
    """
    settings = state().settings
    resolver = domains.resolver(settings.dns_nameservers, settings.dns_timeout)
    domain, check = domains.verify(db_session(), g.tenant.id, domain_id, resolver, actor=g.principal.actor)
    out = _committed(domain.id)
    out["check"] = None if check is None else {"result": check.result, "record": check.record, "found": check.found,
                                               "checked_at": check.checked_at}
    return out


@blp.route("/<int:domain_id>/primary", methods=["POST"])
@requires("settings.manage", kinds=USER_KIND)
@blp.response(200, s.DomainOut)
def make_primary(domain_id):
    """Make a verified domain the one links and e-mails point at (the platform sub-domain, too)."""
    domains.set_primary(db_session(), g.tenant.id, domain_id, actor=g.principal.actor)
    return _committed(domain_id)


@blp.route("/<int:domain_id>", methods=["DELETE"])
@requires("settings.manage", kinds=USER_KIND)
@blp.response(204)
def remove_domain(domain_id):
    """Remove a custom domain (it stops leading to your portal at once); never the platform sub-domain.

    If it was primary, the platform sub-domain becomes primary again.
    """
    domains.remove(db_session(), g.tenant.id, domain_id, actor=g.principal.actor)
    _committed()
