"""The demo's NAS: 127.0.0.1 as a platform NAS with the secret `testing123`, so that `radclient` on the
same machine can try a demo customer right after `backhaul run --demo`."""

from __future__ import annotations

from app.services import nas as nas_service

DEMO_NETWORK = "127.0.0.1/32"
DEMO_SECRET = "testing123"  # noqa: S105 - the well-known demo secret, as FreeRADIUS ships it


def seed_demo(db) -> dict:
    """Register the demo NAS unless 127.0.0.1 already has one (idempotent); returns what the README shows."""
    with db.session() as session:
        if nas_service.find_by_network(session, DEMO_NETWORK) is None:
            nas_service.create(session, name="demo (localhost)", network=DEMO_NETWORK, secret=DEMO_SECRET,
                               vendor="mikrotik", actor="demo")
    return {"nas": "127.0.0.1", "secret": DEMO_SECRET}
