"""A reseller's own domains: added, proven by DNS, made primary, removed.

Anyone can type any host name, so a custom domain added by a reseller leads nowhere (the registry
resolves only rows with `verified_at`) until the reseller proves control of its DNS: a TXT record at
`_backhaul-challenge.<host>` holding `backhaul-verify=<token>`, the token being random and per row, so
it cannot be guessed or copied from another domain. A CNAME of the host to the tenant's platform host
is what brings the traffic; it is asked for but not checked, since an apex cannot have one (an ALIAS or
A record does the same job there) and the ingress may be reached by other means.

The master ISP (CLI, console) is trusted: its hosts may be added verified at once. Hosts under the
platform's base domain and the console host are refused to resellers: those belong to the platform
(a future tenant's sub-domain, the console), whatever a reseller's DNS says.

Lookups take a resolver built from the settings (`resolver()`) and the caller's session; no Flask here.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, field
from datetime import datetime

import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Domain
from app.models.base import utcnow
from app.services import audit
from app.services.errors import Conflict, Invalid, NotFound, ServiceError
from app.services.tenants import clean_host

CHALLENGE_LABEL = "_backhaul-challenge"
TXT_PREFIX = "backhaul-verify="
# the TXT name must fit in 253 characters too: "_backhaul-challenge." takes 20 of them
MAX_HOST = 253 - len(CHALLENGE_LABEL) - 1


class DomainNotVerified(ServiceError):
    """DNS did not (or could not) show the expected TXT record; the extra members say what it showed."""

    status = 409
    slug = "domain-not-verified"
    title = "Domain not verified"


@dataclass(frozen=True)
class Reserved:
    """Host names that belong to the platform and are never a reseller's."""

    base_domain: str
    console_host: str

    def claims(self, host: str) -> bool:
        return any(host == own or host.endswith("." + own) for own in (self.base_domain, self.console_host) if own)


@dataclass(frozen=True)
class Check:
    """One DNS check: when, what came back, and whether it proved the domain."""

    host: str
    record: str
    expected: str
    result: str  # verified | mismatch | missing | timeout | error
    found: list[str] = field(default_factory=list)
    checked_at: datetime = field(default_factory=utcnow)
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.result == "verified"

    def as_extra(self) -> dict:
        return {"host": self.host, "record": self.record, "expected": self.expected, "found": self.found,
                "result": self.result, "checked_at": self.checked_at.isoformat()}


def new_token() -> str:
    return secrets.token_urlsafe(24)


def challenge_name(host: str) -> str:
    return f"{CHALLENGE_LABEL}.{host}"


def expected_value(domain: Domain) -> str:
    return f"{TXT_PREFIX}{domain.verification_token}"


# -- reading ---------------------------------------------------------------------------------------------
def list_for(session: Session, tenant_id: int) -> list[Domain]:
    rows = list(session.execute(
        select(Domain).where(Domain.tenant_id == tenant_id).order_by(Domain.kind.desc(), Domain.id)
    ).scalars())
    for row in rows:
        _ensure_token(row)
    return rows


def get(session: Session, tenant_id: int, domain_id: int, *, lock: bool = False) -> Domain:
    """One of the tenant's domains; another tenant's is a 404, exactly like one that does not exist."""
    query = select(Domain).where(Domain.id == domain_id, Domain.tenant_id == tenant_id)
    if lock:  # and re-read: another request may have changed the row since this session loaded it
        query = query.with_for_update().execution_options(populate_existing=True)
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no domain with id {domain_id}")
    _ensure_token(row)
    return row


def platform_host(session: Session, tenant_id: int) -> str | None:
    return session.execute(
        select(Domain.host).where(Domain.tenant_id == tenant_id, Domain.kind == "platform").order_by(Domain.id)
    ).scalars().first()


def records(domain: Domain, platform: str | None) -> list[dict]:
    """The DNS records the reseller must create; none once the domain is verified (or is the platform's)."""
    if domain.verified_at is not None or domain.kind == "platform":
        return []
    out = [{"type": "TXT", "name": challenge_name(domain.host), "value": expected_value(domain),
            "purpose": "proves that you control this domain; checked when you ask to verify it"}]
    if platform:
        out.append({"type": "CNAME", "name": domain.host, "value": platform,
                    "purpose": "sends your visitors to the platform (at a zone apex, where a CNAME is not "
                               "allowed, use your DNS provider's ALIAS/ANAME record instead)"})
    return out


def _ensure_token(domain: Domain) -> None:
    # Rows added unverified before tokens were issued on creation get one on first sight, so that
    # every pending domain can be verified.
    if domain.verified_at is None and domain.kind == "custom" and not domain.verification_token:
        domain.verification_token = new_token()


# -- changing --------------------------------------------------------------------------------------------
def normalise(raw: str) -> str:
    """The host as stored, or Invalid with a message saying what is wrong with it."""
    text = (raw or "").strip()
    if not text:
        raise Invalid("give a host name, e.g. portal.example.com", field="host")
    candidate = text.strip("[]")
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        pass
    else:
        raise Invalid(f"{text!r} is an IP address; give a host name (e.g. portal.example.com)", field="host")
    if "/" in text or ":" in text or "@" in text:
        raise Invalid(f"{text!r}: give the host name only (e.g. portal.example.com), without scheme, port or path",
                      field="host")
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")  # internationalised names are stored as punycode
        except UnicodeError:
            raise Invalid(f"{raw!r} is not a valid host name", field="host") from None
    try:
        host = clean_host(text)
    except Invalid as exc:
        raise Invalid(exc.detail, field="host") from None
    if len(host) > MAX_HOST:
        raise Invalid(f"host names longer than {MAX_HOST} characters cannot be verified", field="host")
    return host


def add(session: Session, tenant_id: int, raw_host: str, *, reserved: Reserved | None = None,
        verified: bool = False, primary: bool = False, actor: str = "system") -> Domain:
    """Add a custom domain to a tenant.

    `reserved` is None only for the master ISP's own tools (CLI), which may knowingly route a
    platform host to a tenant; every caller acting for a reseller passes it.
    """
    host = normalise(raw_host)
    if reserved is not None and reserved.claims(host):
        raise Invalid(f"{host} belongs to the platform; add a domain of your own (your platform address is "
                      "already set up)", field="host")
    if primary and not verified:
        raise Invalid("a domain can only be primary once it is verified", field="primary")
    if session.execute(select(Domain.id).where(Domain.host == host)).first():
        raise Conflict(f"{host} is already in use", field="host")
    if primary:
        _clear_primary(session, tenant_id)
    domain = Domain(host=host, tenant_id=tenant_id, kind="custom", is_primary=primary,
                    verification_token=None if verified else new_token(),
                    verified_at=utcnow() if verified else None)
    try:
        with session.begin_nested():  # two tenants adding the same host at once: one gets a clear 409
            session.add(domain)
            session.flush()
    except IntegrityError:
        raise Conflict(f"{host} is already in use", field="host") from None
    audit.record(session, actor, "domain.add", tenant_id, host=host, primary=primary, verified=verified)
    session.flush()
    return domain


def resolver(nameservers: tuple[tuple[str, int], ...] = (), timeout: float = 3.0) -> dns.resolver.Resolver:
    """A resolver without a cache (a stale answer would make a fixed record look still wrong)."""
    if nameservers:
        res = dns.resolver.Resolver(configure=False)
        res.nameservers = [dns.nameserver.Do53Nameserver(ip, port) for ip, port in nameservers]
    else:
        try:
            res = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            res = dns.resolver.Resolver(configure=False)  # no nameservers: every check says so
    res.timeout = timeout
    res.lifetime = timeout
    res.cache = None
    return res


def check(domain: Domain, res: dns.resolver.Resolver) -> Check:
    name = challenge_name(domain.host)
    expected = expected_value(domain)
    base = {"host": domain.host, "record": name, "expected": expected}
    try:
        answer = res.resolve(dns.name.from_text(name), dns.rdatatype.TXT, search=False, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return Check(**base, result="missing",
                     detail=f"{name} does not exist in DNS; create a TXT record there with the value {expected!r} "
                            "(new records can take a few minutes to appear), then verify again")
    except dns.exception.Timeout:
        return Check(**base, result="timeout",
                     detail=f"no DNS answer for {name} within {res.lifetime:g} s; try again later")
    except dns.resolver.NoNameservers as exc:
        return Check(**base, result="error",
                     detail=f"no name server could answer for {name} ({_first_error(exc)}); try again later")
    except dns.exception.DNSException as exc:
        return Check(**base, result="error", detail=f"the DNS lookup of {name} failed ({exc}); try again later")
    found = sorted(b"".join(r.strings).decode("utf-8", "replace") for r in answer.rrset) if answer.rrset else []
    if expected in found:
        return Check(**base, result="verified", found=found, detail=f"{name} holds {expected!r}")
    if not found:
        return Check(**base, result="missing",
                     detail=f"{name} has no TXT record; create one with the value {expected!r} (new records can "
                            "take a few minutes to appear), then verify again")
    shown = ", ".join(repr(v) for v in found)
    return Check(**base, result="mismatch", found=found,
                 detail=f"the TXT record at {name} is {shown}, expected {expected!r}")


def _first_error(exc: dns.resolver.NoNameservers) -> str:
    errors = exc.kwargs.get("errors") or []
    return str(errors[0][3]) if errors and len(errors[0]) > 3 else "no usable answer"


def verify(session: Session, tenant_id: int, domain_id: int, res: dns.resolver.Resolver, *,
           actor: str = "system") -> tuple[Domain, Check | None]:
    """Look the TXT record up; on a match the domain goes live, otherwise DomainNotVerified says why.

    An already verified domain is returned as it is (no lookup: its DNS may since have been tidied up).
    The check is made before any row is locked, so a slow name server holds nothing up.
    """
    domain = get(session, tenant_id, domain_id)
    if domain.verified_at is not None:
        return domain, None
    result = check(domain, res)
    if not result.ok:
        raise DomainNotVerified(result.detail, **result.as_extra())
    domain = get(session, tenant_id, domain_id, lock=True)
    if domain.verified_at is None:
        domain.verified_at = result.checked_at
        audit.record(session, actor, "domain.verify", tenant_id, host=domain.host, record=result.record)
        session.flush()
    return domain, result


def set_primary(session: Session, tenant_id: int, domain_id: int, *, actor: str = "system") -> Domain:
    """The primary host is the one links and e-mails point at, so it must be one that works."""
    _lock_all(session, tenant_id)
    domain = get(session, tenant_id, domain_id)
    if domain.verified_at is None:
        raise Conflict(f"{domain.host} is not verified yet; verify it before making it primary")
    if not domain.is_primary:
        _clear_primary(session, tenant_id)
        domain.is_primary = True
        audit.record(session, actor, "domain.primary", tenant_id, host=domain.host)
        session.flush()
    return domain


def remove(session: Session, tenant_id: int, domain_id: int, *, actor: str = "system") -> None:
    """Remove a custom domain; if it was primary, the platform sub-domain takes over (it always works)."""
    rows = _lock_all(session, tenant_id)
    domain = get(session, tenant_id, domain_id)
    if domain.kind == "platform":
        raise Conflict(f"{domain.host} is the platform address of this reseller and cannot be removed")
    was_primary = domain.is_primary
    session.delete(domain)
    session.flush()
    if was_primary:
        fallback = next((r for r in rows if r.kind == "platform" and r.id != domain.id), None)
        if fallback is not None:
            fallback.is_primary = True
    audit.record(session, actor, "domain.remove", tenant_id, host=domain.host, was_primary=was_primary,
                 was_verified=domain.verified_at is not None)
    session.flush()


def _lock_all(session: Session, tenant_id: int) -> list[Domain]:
    """Serialise changes to one tenant's primary flag (its partial unique index allows only one)."""
    return list(session.execute(
        select(Domain).where(Domain.tenant_id == tenant_id).order_by(Domain.id).with_for_update()
    ).scalars())


def _clear_primary(session: Session, tenant_id: int) -> None:
    for row in session.execute(select(Domain).where(Domain.tenant_id == tenant_id, Domain.is_primary)).scalars():
        row.is_primary = False
    session.flush()  # before another row is set: the partial unique index is checked per statement
