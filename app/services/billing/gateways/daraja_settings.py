"""A reseller's Daraja (M-PESA API) credentials, kept beside its callback token in the `payment_gateways`
setting, so that Backhaul can send STK pushes ("Lipa na M-PESA Online") in the reseller's name.

- The consumer key and secret (the reseller's app at Safaricom, traded for an OAuth token) and the Lipa na
  M-PESA Online passkey are needed in clear to be used, so they are encrypted at rest (`crypto.encrypt`)
  and never shown again: an answer says only whether each is set.
- The shortcode type decides how the push names the money's destination. A **paybill**: BusinessShortCode
  and PartyB are the paybill number, TransactionType `CustomerPayBillOnline`, and AccountReference is the
  account the customer pays into (their Portal ID). A **till** (Buy Goods): BusinessShortCode is the
  store number (the head-office shortcode Safaricom issued the passkey for), PartyB the till number the
  customer pays, which may differ, and TransactionType `CustomerBuyGoodsOnline`.
- The environment is `sandbox` or `production`; the addresses are the operator's (`endpoints`).

Setting the credentials makes the M-PESA callback token if the reseller has none yet, since every push
carries a callback URL derived from it (`config.stk_callback_token`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app import clock
from app.services.auth import crypto
from app.services.billing.gateways import config, endpoints
from app.services.errors import Invalid
from app.services.settings import get_setting, put_setting

SHORTCODE_TYPES = ("paybill", "till")
SECRETS = ("consumer_key", "consumer_secret", "passkey")
_SHORTCODE = re.compile(r"^[0-9]{5,7}$")  # Daraja: a 5 to 7 digit shortcode


@dataclass(frozen=True)
class Daraja:
    """Credentials in clear, for the one request that needs them: never logged, never returned."""

    consumer_key: str
    consumer_secret: str
    passkey: str
    shortcode: str
    shortcode_type: str
    till_number: str | None
    environment: str

    @property
    def transaction_type(self) -> str:
        return "CustomerBuyGoodsOnline" if self.shortcode_type == "till" else "CustomerPayBillOnline"

    @property
    def party_b(self) -> str:
        return self.till_number if self.shortcode_type == "till" else self.shortcode

    def __repr__(self) -> str:  # a traceback or a debugger shows no secret
        return f"Daraja(shortcode={self.shortcode!r}, type={self.shortcode_type!r}, environment={self.environment!r})"


def _value(session: Session) -> dict:
    value = get_setting(session, config.KEY)
    return dict(value) if isinstance(value, dict) else {}


def _digits(value, field: str) -> str:
    text_value = str(value or "").strip()
    if not _SHORTCODE.match(text_value):
        raise Invalid(f"{field}: 5 to 7 digits", field=field)
    return text_value


def set_daraja(session: Session, *, shortcode: str, shortcode_type: str, environment: str,
               till_number: str | None = None, consumer_key: str | None = None, consumer_secret: str | None = None,
               passkey: str | None = None) -> None:
    """Set the Daraja credentials. A secret left out keeps the one stored (change the shortcode without
    typing the secrets again); the first time, all three are needed."""
    if shortcode_type not in SHORTCODE_TYPES:
        raise Invalid("shortcode_type: paybill or till", field="shortcode_type")
    if environment not in endpoints.ENVIRONMENTS:
        raise Invalid(f"environment: one of {', '.join(endpoints.ENVIRONMENTS)}", field="environment")
    shortcode = _digits(shortcode, "shortcode")
    if shortcode_type == "till":
        till_number = _digits(till_number, "till_number")
    elif till_number not in (None, ""):
        raise Invalid("till_number: only a till (Buy Goods) shortcode has one", field="till_number")
    else:
        till_number = None
    config.ensure_mpesa_token(session)
    value = _value(session)
    mpesa = dict(value.get("mpesa", {}))
    stored = dict(mpesa.get("daraja") or {})
    given = {"consumer_key": consumer_key, "consumer_secret": consumer_secret, "passkey": passkey}
    for name, secret in given.items():
        if secret is None:
            if not stored.get(name):
                raise Invalid(f"{name}: required the first time", field=name)
            continue
        secret = secret.strip()
        if not 8 <= len(secret) <= 500 or not secret.isprintable():
            raise Invalid(f"{name}: 8 to 500 printable characters", field=name)
        stored[name] = crypto.encrypt(secret)
    stored.update(shortcode=shortcode, shortcode_type=shortcode_type, till_number=till_number,
                  environment=environment, updated_at=clock.now().isoformat(timespec="seconds"))
    mpesa["daraja"] = stored
    value["mpesa"] = mpesa
    put_setting(session, config.KEY, value)


def daraja(session: Session) -> Daraja | None:
    """The reseller's credentials in clear, or None when they are not (all) set."""
    stored = (_value(session).get("mpesa") or {}).get("daraja") or {}
    if not all(stored.get(name) for name in SECRETS) or not stored.get("shortcode"):
        return None
    return Daraja(consumer_key=crypto.decrypt(stored["consumer_key"]),
                  consumer_secret=crypto.decrypt(stored["consumer_secret"]), passkey=crypto.decrypt(stored["passkey"]),
                  shortcode=stored["shortcode"], shortcode_type=stored.get("shortcode_type") or "paybill",
                  till_number=stored.get("till_number"), environment=stored.get("environment") or "sandbox")


def describe(stored: dict) -> dict:
    """What is set, for an answer: the shortcodes (which customers see anyway), never the secrets."""
    return {"consumer_key_set": bool(stored.get("consumer_key")),
            "consumer_secret_set": bool(stored.get("consumer_secret")),
            "passkey_set": bool(stored.get("passkey")),
            "shortcode": stored.get("shortcode"), "shortcode_type": stored.get("shortcode_type"),
            "till_number": stored.get("till_number"), "environment": stored.get("environment"),
            "updated_at": stored.get("updated_at")}
