"""Talking to Safaricom's Daraja API: the OAuth token, the STK push and its status query.

- Token: `GET /oauth/v1/generate?grant_type=client_credentials` with HTTP Basic (consumer key and secret)
  answers `{"access_token", "expires_in": "3599"}`. It is cached per tenant in Redis (`tenants.storage`
  `redis_key`, under the tenant's schema and a fingerprint of the consumer key, so new credentials never
  use an old token), encrypted like the credentials themselves, until a minute before it expires. A
  token Daraja no longer accepts (401) is dropped and a new one asked for, once. Without Redis a token is
  simply asked for every time: a cache is never a reason for a payment to fail.
- STK push: `POST /mpesa/stkpush/v1/processrequest` with BusinessShortCode, Password =
  base64(shortcode + passkey + Timestamp), Timestamp (YYYYMMDDHHMMSS, Kenyan time), TransactionType,
  Amount (whole shillings), PartyA (the payer's 2547… number), PartyB, PhoneNumber, CallBackURL,
  AccountReference (≤ 12 characters), TransactionDesc. The answer carries MerchantRequestID,
  CheckoutRequestID and ResponseCode "0" when the prompt was sent to the phone.
- Status query: `POST /mpesa/stkpushquery/v1/query` with BusinessShortCode, Password, Timestamp and the
  CheckoutRequestID; the answer's ResultCode is the callback's (0 paid, 1032 cancelled, 1037 timed out,
  2001 wrong PIN…). While the customer has not answered yet, Daraja says so with an error
  (`500.001.1001`, "The transaction is being processed"): that is `processing`, not a failure.

Errors: Daraja's refusals (`{"errorCode", "errorMessage"}`, or a ResponseCode other than 0) are
`GatewayRefused` carrying Daraja's message; an address that does not answer, a timeout or a 5xx without
an answer is `GatewayUnavailable`. No message, log line or stored detail ever holds a credential, the
Password or the token.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import redis as redis_lib

from app import clock
from app.services.auth import crypto
from app.services.billing.gateways.daraja_settings import Daraja
from app.services.billing.gateways.initiation import GatewayRefused, GatewayUnavailable
from tenants import require_tenant
from tenants.storage import redis_key

log = logging.getLogger(__name__)
EAT = ZoneInfo("Africa/Nairobi")
PROCESSING = "500.001.1001"
TIMEOUT = 30.0  # seconds; Daraja's push answers within a few


@dataclass(frozen=True)
class Pushed:
    merchant_request_id: str
    checkout_request_id: str
    customer_message: str | None
    sent: dict  # what was asked, without the Password or the CallBackURL


@dataclass(frozen=True)
class Queried:
    processing: bool  # the customer has not answered yet
    result_code: str | None = None
    result_desc: str | None = None


def timestamp(now: datetime | None = None) -> str:
    return (now or clock.now()).astimezone(EAT).strftime("%Y%m%d%H%M%S")


def password(shortcode: str, passkey: str, stamp: str) -> str:
    return base64.b64encode(f"{shortcode}{passkey}{stamp}".encode()).decode()


class DarajaClient:
    def __init__(self, credentials: Daraja, base_url: str, redis=None, *, timeout: float = TIMEOUT):
        self.credentials, self.base_url, self.redis, self.timeout = credentials, base_url.rstrip("/"), redis, timeout

    # -- token ----------------------------------------------------------------------------------------
    def _cache_key(self) -> str:
        fingerprint = hashlib.sha256(f"{self.base_url}|{self.credentials.consumer_key}".encode()).hexdigest()[:16]
        return redis_key(require_tenant().schema, "daraja-token", fingerprint)

    def _cached(self) -> str | None:
        if self.redis is None:
            return None
        try:
            stored = self.redis.get(self._cache_key())
            return crypto.decrypt(stored.decode() if isinstance(stored, bytes) else stored) if stored else None
        except (redis_lib.RedisError, ValueError):
            return None

    def _remember(self, token: str, expires_in) -> None:
        if self.redis is None:
            return
        try:
            seconds = int(str(expires_in))
        except ValueError:
            seconds = 3599
        try:
            self.redis.set(self._cache_key(), crypto.encrypt(token), ex=max(30, seconds - 60))
        except redis_lib.RedisError:
            log.warning("the Daraja token could not be cached (Redis unavailable)")

    def _forget(self) -> None:
        if self.redis is not None:
            with contextlib.suppress(redis_lib.RedisError):
                self.redis.delete(self._cache_key())

    def token(self, *, fresh: bool = False) -> str:
        cached = None if fresh else self._cached()
        if cached:
            return cached
        basic = base64.b64encode(f"{self.credentials.consumer_key}:{self.credentials.consumer_secret}".encode())
        status, body = self._call("GET", "/oauth/v1/generate?grant_type=client_credentials", None,
                                  {"Authorization": f"Basic {basic.decode()}"})
        token = body.get("access_token") if status == 200 else None
        if not isinstance(token, str) or not token:
            raise GatewayRefused("Safaricom refused this reseller's M-PESA API keys (consumer key and secret)")
        self._remember(token, body.get("expires_in"))
        return token

    # -- requests -------------------------------------------------------------------------------------
    def _call(self, method: str, path: str, payload: dict | None, headers: dict) -> tuple[int, dict]:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(  # noqa: S310 (an http(s) address from the operator, endpoints.py)
            f"{self.base_url}{path}", data=data, method=method,
            headers={**headers, "Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (as above)
                return response.status, _json(response.read())
        except urllib.error.HTTPError as exc:
            status, body = exc.code, _json(exc.read())
            if status >= 500 and not body:
                raise GatewayUnavailable(f"M-PESA answered {status}; try again in a minute") from None
            return status, body
        except (urllib.error.URLError, OSError) as exc:
            log.warning("Daraja unreachable at %s: %s", self.base_url, exc.__class__.__name__)
            raise GatewayUnavailable("M-PESA could not be reached; try again in a minute") from None

    def _authorised(self, path: str, payload: dict) -> tuple[int, dict]:
        status, body = self._call("POST", path, payload, {"Authorization": f"Bearer {self.token()}"})
        if status == 401:  # the cached token was revoked or expired early: one new one, once
            self._forget()
            status, body = self._call("POST", path, payload, {"Authorization": f"Bearer {self.token(fresh=True)}"})
        return status, body

    def stk_push(self, *, amount: Decimal, phone: str, callback_url: str, account_reference: str,
                 description: str, now: datetime | None = None) -> Pushed:
        c = self.credentials
        stamp = timestamp(now)
        sent = {"BusinessShortCode": c.shortcode, "Timestamp": stamp, "TransactionType": c.transaction_type,
                "Amount": int(amount), "PartyA": phone, "PartyB": c.party_b, "PhoneNumber": phone,
                "AccountReference": account_reference[:12], "TransactionDesc": description[:13]}
        payload = {**sent, "Password": password(c.shortcode, c.passkey, stamp), "CallBackURL": callback_url}
        status, body = self._authorised("/mpesa/stkpush/v1/processrequest", payload)
        checkout = body.get("CheckoutRequestID")
        if status != 200 or str(body.get("ResponseCode")) != "0" or not checkout:
            raise GatewayRefused(f"M-PESA did not send the prompt: {_why(body, status)}")
        return Pushed(merchant_request_id=str(body.get("MerchantRequestID") or ""),
                      checkout_request_id=str(checkout)[:120], customer_message=_text(body.get("CustomerMessage")),
                      sent=sent)

    def stk_query(self, checkout_request_id: str, now: datetime | None = None) -> Queried:
        c = self.credentials
        stamp = timestamp(now)
        payload = {"BusinessShortCode": c.shortcode, "Password": password(c.shortcode, c.passkey, stamp),
                   "Timestamp": stamp, "CheckoutRequestID": checkout_request_id}
        status, body = self._authorised("/mpesa/stkpushquery/v1/query", payload)
        if str(body.get("errorCode") or "") == PROCESSING:
            return Queried(processing=True)
        if status != 200 or "ResultCode" not in body:
            raise GatewayRefused(f"M-PESA did not answer the status query: {_why(body, status)}")
        return Queried(processing=False, result_code=str(body["ResultCode"]).strip(),
                       result_desc=_text(body.get("ResultDesc")))


def _json(raw: bytes) -> dict:
    try:
        doc = json.loads(raw or b"{}", parse_float=Decimal)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _text(value) -> str | None:
    return str(value)[:300] if value not in (None, "") else None


def _why(body: dict, status: int) -> str:
    return (_text(body.get("errorMessage")) or _text(body.get("ResponseDescription"))
            or _text(body.get("CustomerMessage")) or f"HTTP {status}")[:200]
