"""Registering the routers (NAS clients) that may ask the RADIUS service.

A NAS is an address or a network (CIDR), a shared secret (encrypted at rest: RADIUS needs it in the
clear), a vendor (which attributes it understands) and an owner: the platform (serves every tenant's
customers) or one tenant (that tenant and its descendants). RADIUS processes hear of every committed
change through the NOTIFY a trigger on `public.nas_clients` sends (migration p0007).

A tenant may only register addresses that no other owner's NAS covers: otherwise a reseller could take
over the source address of a router it does not own (its requests would be checked against the
reseller's secret and scope). The platform (console, CLI) may register anything; the most specific
network wins at lookup time.
"""

from __future__ import annotations

import ipaddress
import secrets
import string

from sqlalchemy import String, cast, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Tenant
from app.models.nas import NAS_VENDORS, NasClient
from app.services.auth.crypto import encrypt
from app.services.errors import Conflict, Invalid, NotFound

# Narrower than this is "half the Internet": a typo far more likely than a deliberate choice.
MIN_PREFIX = {4: 8, 6: 32}
UPDATABLE = ("name", "network", "secret", "vendor", "require_message_authenticator", "coa_port")


def check_network(value: str) -> str:
    """An address (a host network) or a CIDR network with no host bits set, as PostgreSQL's cidr stores it."""
    raw = (value or "").strip()
    try:
        network = ipaddress.ip_network(raw, strict=True)
    except ValueError as exc:
        raise Invalid(f"{raw!r} is not an IP address or CIDR network ({exc})", field="network") from None
    if network.prefixlen < MIN_PREFIX[network.version]:
        raise Invalid(f"{network} is too broad: a NAS network is /{MIN_PREFIX[network.version]} or narrower",
                      field="network")
    return str(network)


def check_secret(secret: str) -> str:
    if not isinstance(secret, str) or not 8 <= len(secret) <= 128:
        raise Invalid("a shared secret has 8 to 128 characters", field="secret")
    if any(not (" " <= c <= "~") for c in secret) or secret != secret.strip():
        raise Invalid("a shared secret is printable ASCII, without leading or trailing spaces", field="secret")
    return secret


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 100 or "\x00" in name:
        raise Invalid("a NAS name has 1 to 100 characters", field="name")
    return name


def check_vendor(vendor: str) -> str:
    if vendor not in NAS_VENDORS:
        raise Invalid(f"vendor is one of {', '.join(NAS_VENDORS)}", field="vendor")
    return vendor


def check_coa_port(port: int) -> int:
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise Invalid("coa_port is a port number (1–65535)", field="coa_port")
    return port


def _check_owner(session: Session, tenant_id: int | None, network: str, nas_id: int | None) -> None:
    if tenant_id is None:
        return
    if session.get(Tenant, tenant_id) is None:
        raise Invalid(f"no tenant with id {tenant_id}", field="tenant_id")
    clash = session.execute(
        text("SELECT network FROM public.nas_clients WHERE network && CAST(:n AS cidr) "
             "AND tenant_id IS DISTINCT FROM :t AND id IS DISTINCT FROM :id LIMIT 1"),
        {"n": network, "t": tenant_id, "id": nas_id},
    ).scalar_one_or_none()
    if clash is not None:
        raise Conflict(f"{network} overlaps {clash}, which another owner registered", field="network")


def _flush(session: Session, nas: NasClient) -> NasClient:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"a NAS for {nas.network} is already registered", field="network") from None
    return nas


def create(session: Session, *, name: str, network: str, secret: str, vendor: str = "generic",
           tenant_id: int | None = None, require_message_authenticator: bool = True, coa_port: int = 3799,
           actor: str | None = None) -> NasClient:
    """Register a NAS; `tenant_id` None makes it a platform NAS."""
    network = check_network(network)
    _check_owner(session, tenant_id, network, None)
    nas = NasClient(name=check_name(name), network=network, secret_encrypted=encrypt(check_secret(secret)),
                    vendor=check_vendor(vendor), tenant_id=tenant_id,
                    require_message_authenticator=bool(require_message_authenticator),
                    coa_port=check_coa_port(coa_port), created_by=actor)
    session.add(nas)
    return _flush(session, nas)


def list_nas(session: Session, *, tenant_id: int | None = None, platform_only: bool = False,
             q: str | None = None) -> list[NasClient]:
    """Every NAS (no filter), a tenant's own, or the platform's (`platform_only`); `q` keeps those whose name,
    address or owner's code holds it, or whose network holds the address it is (the console's search)."""
    query = select(NasClient).order_by(NasClient.id)
    if tenant_id is not None:
        query = query.where(NasClient.tenant_id == tenant_id)
    elif platform_only:
        query = query.where(NasClient.tenant_id.is_(None))
    if (q or "").strip():
        query = query.where(_matching(q.strip()))
    return list(session.execute(query).scalars())


def _matching(wanted: str):
    found = [NasClient.name.icontains(wanted, autoescape=True),
             cast(NasClient.network, String).icontains(wanted, autoescape=True),
             NasClient.tenant_id.in_(select(Tenant.id).where(Tenant.code.icontains(wanted, autoescape=True)))]
    try:
        address = ipaddress.ip_address(wanted)
    except ValueError:
        pass
    else:  # an address typed whole: the NAS whose network holds it, as RADIUS would find it
        found.append(text("public.nas_clients.network >>= CAST(:address AS inet)").bindparams(address=str(address)))
    return or_(*found)


SECRET_ALPHABET = string.ascii_letters + string.digits


def generate_secret(length: int = 32) -> str:
    """A shared secret for whoever would rather not invent one (about 190 bits): letters and digits only, so
    that no router's configuration syntax and no line break on a phone's screen can garble it."""
    return check_secret("".join(secrets.choice(SECRET_ALPHABET) for _ in range(length)))


def get(session: Session, nas_id: int, *, tenant_id: int | None = None, scoped: bool = False) -> NasClient:
    """A NAS by id; `scoped` (a reseller's view) finds only that tenant's own."""
    nas = session.get(NasClient, nas_id) if 0 < nas_id < 2**63 else None
    if nas is None or (scoped and nas.tenant_id != tenant_id):
        raise NotFound(f"no NAS with id {nas_id}")
    return nas


def update(session: Session, nas: NasClient, **changes) -> NasClient:
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise Invalid(f"cannot change {', '.join(sorted(unknown))}")
    if "network" in changes:
        network = check_network(changes["network"])
        _check_owner(session, nas.tenant_id, network, nas.id)
        nas.network = network
    if "name" in changes:
        nas.name = check_name(changes["name"])
    if "secret" in changes:
        nas.secret_encrypted = encrypt(check_secret(changes["secret"]))
    if "vendor" in changes:
        nas.vendor = check_vendor(changes["vendor"])
    if "require_message_authenticator" in changes:
        nas.require_message_authenticator = bool(changes["require_message_authenticator"])
    if "coa_port" in changes:
        nas.coa_port = check_coa_port(changes["coa_port"])
    return _flush(session, nas)


def delete(session: Session, nas: NasClient) -> None:
    session.delete(nas)
    session.flush()


def find_by_network(session: Session, network: str) -> NasClient | None:
    return session.execute(select(NasClient).where(NasClient.network == check_network(network))).scalar_one_or_none()
