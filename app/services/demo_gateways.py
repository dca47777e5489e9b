"""The demo resellers' payment gateways, pointed at the gateway simulator that `backhaul run --demo` starts
(app/gateway_simulator), so that a person trying the demo can pay an invoice by M-PESA or by card.

The keys are derived from the installation's SECRET_KEY (`Keys.from_secret_key`), the same in the seed that
stores them and in the simulator that checks them, so no credential is published or written to a file.
A reseller whose gateway someone configured by hand keeps it: only an unset gateway, or one the demo set
before (its keys carry the `demo` prefix), is (re)set. Calling it again is harmless."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from app.services.billing.gateways import config, daraja_settings
from tenants import tenant_context
from tenants.context import UnknownTenant
from tenants.registry import directory

DEMO_SHORTCODE = "174379"  # Safaricom's sandbox paybill, which a Daraja sandbox app is given too


def _derive(secret_key: str, name: str) -> str:
    return hmac.new(secret_key.encode(), f"demo-gateway:{name}".encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class Keys:
    consumer_key: str
    consumer_secret: str
    passkey: str
    api_key: str
    webhook_secret: str

    @classmethod
    def from_secret_key(cls, secret_key: str) -> Keys:
        return cls(consumer_key=f"ck_demo_{_derive(secret_key, 'consumer_key')}",
                   consumer_secret=_derive(secret_key, "consumer_secret"), passkey=_derive(secret_key, "passkey"),
                   api_key=f"sk_demo_{_derive(secret_key, 'api_key')}",
                   webhook_secret=f"whsec_demo_{_derive(secret_key, 'webhook_secret')}")

    def __repr__(self) -> str:  # a traceback shows no key
        return "Keys(…)"


def _ours_or_unset(current: str | None, prefix: str) -> bool:
    return current is None or current.startswith(prefix)


def connect(db, codes, keys: Keys) -> list[str]:
    """Set the demo gateways of the resellers named by `codes`; the codes whose gateways it set."""
    done = []
    for code in codes:
        try:
            tenant = directory().by_code(code)
        except UnknownTenant:  # a demo reseller someone removed: nothing to connect
            continue
        with tenant_context(tenant), db.session() as session:
            credentials = daraja_settings.daraja(session)
            if _ours_or_unset(credentials.consumer_key if credentials else None, "ck_demo_"):
                daraja_settings.set_daraja(session, shortcode=DEMO_SHORTCODE, shortcode_type="paybill",
                                           environment="sandbox", consumer_key=keys.consumer_key,
                                           consumer_secret=keys.consumer_secret, passkey=keys.passkey)
            if _ours_or_unset(config.stripe_api_key(session), "sk_demo_"):
                config.set_stripe(session, webhook_secret=keys.webhook_secret, api_key=keys.api_key)
            session.commit()
        done.append(code)
    return done
