"""A reseller's gateway credentials, in its `payment_gateways` setting.

- M-PESA: Daraja signs nothing, so the callback URLs we register with Safaricom carry a secret path
  segment, `/webhooks/mpesa/<token>/stk` and `/webhooks/mpesa/<token>/c2b`, on the reseller's own host.
  The token is 256 random bits, shown once when made (or rotated) and stored only as a keyed digest
  (`crypto.digest`, HMAC-SHA256 under a key derived from SECRET_KEY), so the database does not hold a
  usable URL and the comparison is constant-time. Rotating makes a new token and the old URLs stop
  working at once; register the new ones with Daraja first if no callback may be lost. URLs end up in
  proxy access logs: keep those private, and allow-list Safaricom's callback addresses at the proxy
  where possible. The STK pushes Backhaul sends itself carry a token derived from that digest
  (`stk_callback_token`), and the Daraja API credentials they need are in `daraja_settings`.
- Card processor (Stripe style): the endpoint's signing secret (`whsec_…`, issued by the processor when the
  reseller registers `https://<their host>/webhooks/stripe`) verifies `Stripe-Signature`; the secret API key
  lets the retry job charge stored cards. Both are needed in clear to be used, so they are encrypted at
  rest (`crypto.encrypt`), never digested, and no API answer ever shows them again.
"""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from app import clock
from app.services.auth import crypto
from app.services.errors import Invalid, NotFound
from app.services.settings import get_setting, put_setting

KEY = "payment_gateways"
PROVIDERS = ("mpesa", "stripe")


def _load(session: Session) -> dict:
    value = get_setting(session, KEY)
    return dict(value) if isinstance(value, dict) else {}


def _now() -> str:
    return clock.now().isoformat(timespec="seconds")


def rotate_mpesa_token(session: Session) -> str:
    """A new webhook token for M-PESA callbacks (returned once; only its digest is kept)."""
    token = secrets.token_urlsafe(32)
    value = _load(session)
    value["mpesa"] = {**value.get("mpesa", {}), "token_digest": crypto.digest(token), "rotated_at": _now()}
    put_setting(session, KEY, value)
    return token


def mpesa_token_ok(session: Session, token: str) -> bool:
    stored = _load(session).get("mpesa", {}).get("token_digest")
    if not stored or not token or len(token) > 200:
        return False
    return crypto.same(crypto.digest(token), stored)


def stk_callback_token(session: Session) -> str | None:
    """The token in the CallBackURL of the STK pushes we send, derived from the stored digest of the M-PESA
    token (a keyed digest of it, under SECRET_KEY): we must hand Daraja a usable URL with every push, yet
    the database still holds none. Rotating the M-PESA token changes it too; a push in flight then misses
    its callback and is settled by its status query instead."""
    stored = _load(session).get("mpesa", {}).get("token_digest")
    return crypto.digest(f"mpesa-stk-callback:{stored}") if stored else None


def mpesa_stk_token_ok(session: Session, token: str) -> bool:
    """An STK callback comes to the URL registered by hand (the M-PESA token) or to the one our pushes carry."""
    if mpesa_token_ok(session, token):
        return True
    expected = stk_callback_token(session)
    return bool(expected and token and len(token) <= 200 and crypto.same(token, expected))


def ensure_mpesa_token(session: Session) -> None:
    """Make a callback token if there is none yet (not shown: `rotate_mpesa_token` shows a new one)."""
    value = _load(session)
    if not value.get("mpesa", {}).get("token_digest"):
        rotate_mpesa_token(session)


def set_stripe(session: Session, *, webhook_secret: str | None = None, api_key: str | None = None) -> None:
    if webhook_secret is None and api_key is None:
        raise Invalid("give webhook_secret, api_key or both", field="webhook_secret")
    value = _load(session)
    stripe = dict(value.get("stripe", {}))
    for name, secret in (("webhook_secret", webhook_secret), ("api_key", api_key)):
        if secret is not None:
            secret = secret.strip()
            if not 8 <= len(secret) <= 500:
                raise Invalid(f"{name}: 8 to 500 characters", field=name)
            stripe[name] = crypto.encrypt(secret)
    stripe["updated_at"] = _now()
    value["stripe"] = stripe
    put_setting(session, KEY, value)


def stripe_webhook_secret(session: Session) -> str | None:
    stored = _load(session).get("stripe", {}).get("webhook_secret")
    return crypto.decrypt(stored) if stored else None


def stripe_api_key(session: Session) -> str | None:
    stored = _load(session).get("stripe", {}).get("api_key")
    return crypto.decrypt(stored) if stored else None


def remove(session: Session, provider: str) -> None:
    if provider not in PROVIDERS:
        raise NotFound("no such gateway")
    value = _load(session)
    value.pop(provider, None)
    put_setting(session, KEY, value)


def describe(session: Session) -> dict:
    """What is configured, never the secrets themselves."""
    from app.services.billing.gateways import daraja_settings

    value = _load(session)
    mpesa, stripe = value.get("mpesa", {}), value.get("stripe", {})
    return {
        "mpesa": {"configured": bool(mpesa.get("token_digest")), "rotated_at": mpesa.get("rotated_at"),
                  "daraja": daraja_settings.describe(mpesa.get("daraja") or {})},
        "stripe": {"webhook_secret_set": bool(stripe.get("webhook_secret")), "api_key_set": bool(stripe.get("api_key")),
                   "updated_at": stripe.get("updated_at")},
    }
