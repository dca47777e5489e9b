"""What the process tests ask of the machine's sockets."""

from __future__ import annotations

import socket
from pathlib import Path


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def udp_listeners(port: int) -> set[str]:
    """The addresses a UDP port is bound to on this machine, read from the kernel (IPv4 and IPv6)."""
    found = set()
    for table, family in (("/proc/net/udp", socket.AF_INET), ("/proc/net/udp6", socket.AF_INET6)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            address, _, bound_port = line.split()[1].partition(":")
            if int(bound_port, 16) == port:
                raw = bytes.fromhex(address)
                raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))  # little-endian words
                found.add(socket.inet_ntop(family, raw))
    return found
