"""A reseller's IP pools and the static addresses its services hold.

Allocation is safe under concurrency by locking the pool's row (`SELECT … FOR NO KEY UPDATE`) before
reading which addresses are taken: two activations drawing from one pool run one after the other, and
the second, reading after the first committed (READ COMMITTED takes a new snapshot per statement), never
sees the first's address as free. The unique constraints on `ip_assignments.address` and `.service_id`
stay as the backstop, and pools cannot overlap (an exclusion constraint), so a pool's lock covers every
address it can hand out. The lowest free address is taken, which keeps allocation deterministic.

Exhaustion raises `PoolExhausted` (problem type `/problems/ip-pool-exhausted`, 409) and sends an alert
to the reseller's support address (setting `portal.support_email`), or to its Admin users when there is
none, at most once an hour per pool. The caller's transaction is rolled back with the error, so the alert
and its once-an-hour mark are written in a transaction of their own; the mark lives in `ip_pool_alerts`,
a table without a foreign key, so that this second transaction never waits on the lock the first one
holds on the pool row (that wait would never end: the first is waiting for us).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Role, User
from app.models.base import utcnow
from app.models.provisioning import IpAssignment, IpPool, IpPoolAlert, Service
from app.services.errors import Conflict, Invalid, NotFound
from app.services.ids import valid_id
from app.services.settings import get_setting

ALERT_EVERY = timedelta(hours=1)
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class PoolExhausted(Conflict):
    slug = "ip-pool-exhausted"
    title = "IP pool exhausted"


def _address(value) -> Address:
    return ipaddress.ip_address(str(value).split("/")[0])


def _network(value):
    return ipaddress.ip_network(str(value), strict=True)


# -- pools ------------------------------------------------------------------------------------------

def create_pool(session: Session, *, name: str, cidr: str, gateway: str | None = None,
                excluded: list[str] | None = None) -> IpPool:
    try:
        network = _network(cidr)
    except ValueError:
        raise Invalid(f"{cidr!r} is not a network in CIDR notation (host bits must be zero)", field="cidr") from None
    addresses = {}
    for field, values in (("gateway", [gateway] if gateway else []), ("excluded", excluded or [])):
        for value in values:
            try:
                address = _address(value)
            except ValueError:
                raise Invalid(f"{value!r} is not an IP address", field=field) from None
            if address not in network:
                raise Invalid(f"{address} is outside {network}", field=field)
            addresses.setdefault(field, []).append(str(address))
    if session.execute(select(IpPool.id).where(IpPool.name == name)).first():
        raise Conflict(f"a pool named {name!r} exists already", field="name")
    overlap = session.execute(
        select(IpPool.name).where(IpPool.cidr.op("&&")(text("CAST(:net AS cidr)")))
        .params(net=str(network))
    ).scalar()
    if overlap:
        raise Conflict(f"{network} overlaps the pool {overlap!r}", field="cidr")
    pool = IpPool(name=name, cidr=str(network), gateway=(addresses.get("gateway") or [None])[0],
                  excluded=sorted(set(addresses.get("excluded", [])), key=ipaddress.ip_address))
    try:
        with session.begin_nested():
            session.add(pool)
            session.flush()
    except IntegrityError:  # a concurrent pool took the range first: the exclusion constraint says so
        raise Conflict(f"{network} overlaps another pool", field="cidr") from None
    return pool


def get_pool(session: Session, pool_id: int) -> IpPool:
    pool = session.get(IpPool, pool_id) if valid_id(pool_id) else None
    if pool is None:
        raise NotFound("no such IP pool")
    return pool


def list_pools(session: Session) -> list[IpPool]:
    return list(session.execute(select(IpPool).order_by(IpPool.id)).scalars())


def delete_pool(session: Session, pool_id: int) -> None:
    """Delete a pool none of whose addresses is in use."""
    pool = get_pool(session, pool_id)
    if used(session, pool.id):
        raise Conflict("addresses of this pool are in use; release them first")
    session.execute(delete(IpPoolAlert).where(IpPoolAlert.pool_id == pool.id))
    session.delete(pool)
    session.flush()


def _hosts(network) -> Iterator[Address]:
    """Host addresses: IPv4 without network and broadcast, IPv6 without the subnet-router anycast
    address; a network too small to have those gives all of its addresses."""
    return network.hosts() if network.num_addresses > 2 else iter(network)


def _host_count(network) -> int:
    if network.num_addresses <= 2:
        return network.num_addresses
    return network.num_addresses - (2 if network.version == 4 else 1)


def _skipped(pool: IpPool, network) -> set[Address]:
    skip = {_address(a) for a in (pool.excluded or [])}
    if pool.gateway:
        skip.add(_address(pool.gateway))
    if network.num_addresses > 2:
        skip.discard(network.network_address)
        if network.version == 4:
            skip.discard(network.broadcast_address)
    return skip


def candidates(pool: IpPool) -> Iterator[Address]:
    """Every address the pool can hand out, lowest first: its hosts, less the gateway and the excluded."""
    network = _network(pool.cidr)
    skip = _skipped(pool, network)
    return (address for address in _hosts(network) if address not in skip)


def size(pool: IpPool) -> int:
    network = _network(pool.cidr)
    return _host_count(network) - len(_skipped(pool, network))


def used(session: Session, pool_id: int) -> int:
    return session.execute(select(func.count()).select_from(IpAssignment).where(IpAssignment.pool_id == pool_id)
                           ).scalar_one()


def usage(session: Session, pool: IpPool) -> dict:
    return {"size": size(pool), "used": used(session, pool.id)}


def assignments(session: Session, pool_id: int) -> list[IpAssignment]:
    """The addresses a pool has handed out, lowest first."""
    return list(session.execute(select(IpAssignment).where(IpAssignment.pool_id == pool_id)
                                .order_by(IpAssignment.address)).scalars())


# -- allocation -------------------------------------------------------------------------------------

def allocate(session: Session, service: Service, pool_id: int | None = None) -> IpAssignment:
    """A static address for `service`, from `pool_id` or else from the first pool with room (by id)."""
    existing = session.execute(select(IpAssignment).where(IpAssignment.service_id == service.id)).scalar_one_or_none()
    if existing is not None:
        return existing
    query = select(IpPool).order_by(IpPool.id).with_for_update(key_share=True)  # FOR NO KEY UPDATE
    if pool_id is not None:
        if not valid_id(pool_id):
            raise NotFound("no such IP pool", field="ip_pool_id")
        query = query.where(IpPool.id == pool_id)
    pools = list(session.execute(query).scalars())
    if pool_id is not None and not pools:
        raise NotFound("no such IP pool", field="ip_pool_id")
    if not pools:
        raise PoolExhausted("no IP pool is configured: add one before activating with a static IP")
    for pool in pools:
        taken = {_address(a) for a in session.execute(
            select(IpAssignment.address).where(IpAssignment.pool_id == pool.id)).scalars()}
        address = next((a for a in candidates(pool) if a not in taken), None)
        if address is not None:
            assignment = IpAssignment(pool_id=pool.id, service_id=service.id, address=str(address))
            session.add(assignment)
            service.static_ip = str(address)
            session.flush()
            return assignment
    for pool in pools:
        alert_exhausted(session, pool)
    names = ", ".join(f"{p.name} ({p.cidr})" for p in pools)
    raise PoolExhausted(f"no free address in {names}", pools=[p.id for p in pools])


def release(session: Session, service: Service) -> str | None:
    """Give the service's address back to its pool; returns the address released, if any."""
    assignment = session.execute(select(IpAssignment).where(IpAssignment.service_id == service.id)
                                 ).scalar_one_or_none()
    service.static_ip = None
    if assignment is None:
        return None
    address = str(_address(assignment.address))
    session.delete(assignment)
    session.flush()
    return address


# -- the alert --------------------------------------------------------------------------------------

def alert_exhausted(session: Session, pool: IpPool) -> bool:
    """Send the exhaustion alert of `pool` unless one went out in the last hour; True when sent.

    In its own transaction (see the module's docstring), on the same engine, so in the same tenant.
    """
    bind = session.get_bind()
    with Session(bind=getattr(bind, "engine", bind)) as own:
        due = own.execute(
            insert(IpPoolAlert).values(pool_id=pool.id, alerted_at=utcnow())
            .on_conflict_do_update(index_elements=[IpPoolAlert.pool_id], set_={"alerted_at": utcnow()},
                                   where=IpPoolAlert.alerted_at < utcnow() - ALERT_EVERY)
            .returning(IpPoolAlert.pool_id)
        ).first()
        if due is not None:
            _send_alert(own, pool)
        own.commit()
    return due is not None


def recipients(session: Session) -> list[str]:
    """The reseller's support address, or else its active Admin users' addresses."""
    support = (get_setting(session, "portal") or {}).get("support_email")
    if support:
        return [support]
    return sorted(set(session.execute(
        select(User.email).join(Role, Role.id == User.role_id)
        .where(Role.name == "Admin", Role.builtin.is_(True), User.is_active.is_(True))
    ).scalars()))


def _send_alert(session: Session, pool: IpPool) -> None:
    from app.services.notifications.outbox import queue_email

    context = {"pool_name": pool.name, "cidr": str(pool.cidr), "size": size(pool), "used": used(session, pool.id),
               "at": utcnow()}
    for to in recipients(session):
        queue_email(session, to=to, template="provisioning/ip_pool_exhausted", context=context)


LOW_PERCENT = 90  # a pool this full is "running out" on the reseller's dashboard


def running_low(session: Session, percent: int = LOW_PERCENT) -> list[dict]:
    """The pools at least `percent` full, fullest first: what the dashboard warns about before the
    exhaustion alert (which is sent only when an allocation finds no address)."""
    low = []
    for pool in list_pools(session):
        counts = usage(session, pool)
        if counts["size"] and counts["used"] * 100 >= counts["size"] * percent:
            low.append({"id": pool.id, "name": pool.name, "cidr": pool.cidr, **counts,
                        "percent": counts["used"] * 100 // counts["size"]})
    return sorted(low, key=lambda p: -p["used"] / p["size"])
