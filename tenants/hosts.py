"""From the raw Host (and, behind a trusted proxy, X-Forwarded-Host) to a normalised host name."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def normalise_host(raw: str | None) -> str | None:
    """Lower-case, without port or trailing dot; None when it is not a plausible host name.

    IP literals are kept as they are (a NAS or health probe may use one) but never match a tenant.
    """
    if not raw:
        return None
    host = raw.strip().lower()
    if host.startswith("["):  # [v6]:port
        end = host.find("]")
        if end == -1:
            return None
        return host[: end + 1]
    if host.count(":") == 1:
        host, _, port = host.partition(":")
        if not (port.isascii() and port.isdigit()):
            return None
    elif ":" in host:
        return None
    if host.endswith("."):  # the fully-qualified form names the same host
        host = host[:-1]
    if not host or len(host) > 253:
        return None
    if not all(_LABEL.fullmatch(label) for label in host.split(".")):
        return None
    return host


def parse_proxies(spec: str | Iterable[str] | None) -> tuple[Network, ...]:
    if not spec:
        return ()
    items = spec.split(",") if isinstance(spec, str) else spec
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip())


def is_trusted(remote_addr: str | None, proxies: tuple[Network, ...]) -> bool:
    if not remote_addr or not proxies:
        return False
    try:
        addr = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(addr in net for net in proxies)


def request_host(
    host_header: str | None,
    forwarded_host: str | None,
    remote_addr: str | None,
    proxies: tuple[Network, ...],
) -> str | None:
    """The host the client asked for.

    X-Forwarded-Host counts only when the direct peer is a configured proxy; then its last value is
    the one that proxy set (anything before it came from the client and proves nothing).
    """
    if forwarded_host and is_trusted(remote_addr, proxies):
        return normalise_host(forwarded_host.split(",")[-1])
    return normalise_host(host_header)
