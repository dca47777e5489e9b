"""A tiny authoritative DNS server on 127.0.0.1 for tests: real UDP, real DNS messages (dnspython).

It answers TXT questions from `records` (name → values), which the test changes as it goes; a name
not in it is NXDOMAIN, a name in it asked for another type is an empty NOERROR answer. Every question
is kept in `questions`, so a test can tell whether a lookup was made at all.
"""

from __future__ import annotations

import socket
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.TXT import TXT


class DnsStub:
    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}
        self.questions: list[tuple[str, str]] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.address, self.port = self._sock.getsockname()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="dns-stub", daemon=True)

    def __enter__(self) -> DnsStub:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()

    def set_txt(self, name: str, *values: str) -> None:
        self.records[name.rstrip(".").lower()] = list(values)

    def answer(self, wire: bytes) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # not a DNS message: a real server drops it too
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA | dns.flags.RA
        if not query.question:
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        self.questions.append((name, dns.rdatatype.to_text(question.rdtype)))
        values = self.records.get(name)
        if values is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.TXT and values:
            rdatas = [TXT(dns.rdataclass.IN, dns.rdatatype.TXT, [v.encode()]) for v in values]
            response.answer.append(dns.rrset.from_rdata(question.name, 60, *rdatas))
        return response.to_wire()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, peer = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = self.answer(wire)
            if reply is not None:
                self._sock.sendto(reply, peer)


class SilentPort:
    """A UDP port that takes questions and never answers (a name server that is down or filtered).

    Bound, so the kernel sends no "port unreachable" that would end the lookup early: only the
    resolver's own timeout ends it.
    """

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self.address, self.port = self._sock.getsockname()

    def __enter__(self) -> SilentPort:
        return self

    def __exit__(self, *exc) -> None:
        self._sock.close()
