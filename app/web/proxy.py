"""Behind an ingress: the client's address and scheme, believed only from configured proxies.

The per-address sign-in limit, login history and new-device alerts need the real client address, and
cookies need to know the client used HTTPS; a proxy (the TLS-terminating ingress) says both in
X-Forwarded-For / X-Forwarded-Proto. Only when the direct peer is in BACKHAUL_TRUSTED_PROXIES: from
anyone else those headers are ignored. The direct peer stays available as `backhaul.peer` (tenant
resolution checks X-Forwarded-Host against it).
"""

from __future__ import annotations

from tenants.hosts import Network, is_trusted


class TrustedProxies:
    def __init__(self, wsgi_app, proxies: tuple[Network, ...]):
        self.wsgi_app = wsgi_app
        self.proxies = proxies

    def __call__(self, environ, start_response):
        peer = environ.get("REMOTE_ADDR")
        environ["backhaul.peer"] = peer
        if is_trusted(peer, self.proxies):
            client = self._client(environ.get("HTTP_X_FORWARDED_FOR", ""))
            if client:
                environ["REMOTE_ADDR"] = client
            proto = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[-1].strip().lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
        return self.wsgi_app(environ, start_response)

    def _client(self, forwarded_for: str) -> str | None:
        """The right-most hop that is not one of our proxies: anything left of it the client could forge."""
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not is_trusted(hop, self.proxies):
                return hop
        return hops[0] if hops else None
