"""What both halves of the simulator share: where the web server is, the demo keys it accepts
(`demo_gateways.Keys`), and the one way it calls back (a POST to a /webhooks/ path of a reseller's host)."""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from app.services.demo_gateways import Keys

log = logging.getLogger("backhaul.gateway_simulator")
TIMEOUT = 10.0


@dataclass
class Simulator:
    keys: Keys
    web: str  # where the web server listens, e.g. http://127.0.0.1:8000
    public: str  # where a browser reaches the simulator itself
    answer_after: float = 8.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    pushes: dict = field(default_factory=dict)  # CheckoutRequestID -> Push
    sessions: dict = field(default_factory=dict)  # checkout session id -> dict
    idempotent: dict = field(default_factory=dict)  # Idempotency-Key -> session id
    tokens: set = field(default_factory=set)
    timers: list = field(default_factory=list)  # the pushes' "nobody answered" timers

    def close(self) -> None:
        """Stop the timers of pushes still waiting, so none calls back after the simulator is gone."""
        for timer in self.timers:
            timer.cancel()

    def post(self, url: str, body: bytes, headers: dict) -> int:
        """POST to a reseller's webhook at `url`, through the web server, as the gateway would; the status."""
        parts = urllib.parse.urlsplit(url)
        if not parts.path.startswith("/webhooks/") or not parts.netloc:
            log.warning("not calling %s: only /webhooks/ addresses are called back", url)
            return 0
        target = f"{self.web.rstrip('/')}{parts.path}"
        request = urllib.request.Request(target, data=body, method="POST",  # noqa: S310 (our own web server)
                                         headers={**headers, "Host": parts.netloc})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 (as above)
                return response.status
        except urllib.error.HTTPError as exc:
            log.warning("the callback to %s answered %s", parts.path.split("/")[2], exc.code)
            return exc.code
        except (urllib.error.URLError, OSError) as exc:
            log.warning("the callback could not be delivered: %s", exc.__class__.__name__)
            return 0


def as_json(value) -> bytes:
    return json.dumps(value).encode()
