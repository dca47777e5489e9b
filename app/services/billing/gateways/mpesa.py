"""M-PESA through Safaricom's Daraja API: the STK-push callback and the C2B (Paybill) confirmation.

Shapes handled (Daraja's documentation and sandbox):

- STK push ("Lipa na M-PESA Online") result, POSTed to the CallBackURL given when the push was sent:
  `{"Body": {"stkCallback": {"MerchantRequestID", "CheckoutRequestID", "ResultCode", "ResultDesc",
  "CallbackMetadata": {"Item": [{"Name": "Amount", "Value": 1.00}, {"Name": "MpesaReceiptNumber", …},
  {"Name": "TransactionDate", "Value": 20191219102115}, {"Name": "PhoneNumber", "Value": 254708374149}]}}}}`
  — ResultCode 0 is paid; anything else (1032 cancelled by the user, 1037 timeout, 2001 wrong PIN…) is not.
- C2B confirmation, POSTed to the ConfirmationURL registered for the Paybill: `{"TransactionType",
  "TransID", "TransTime": "20191122063845", "TransAmount": "10.00", "BusinessShortCode", "BillRefNumber",
  "InvoiceNumber", "OrgAccountBalance", "ThirdPartyTransID", "MSISDN", "FirstName", …}`.

Both are answered `{"ResultCode": 0, "ResultDesc": "Accepted"}` once stored, whatever we made of them: an
unmatched payment is ours to resolve, not Safaricom's to resend.

Daraja signs nothing, so the URL carries the tenant's secret token (see `gateways.config`); a wrong token
is refused before anything is read or written. Event ids: `stk:<CheckoutRequestID>` and `c2b:<TransID>`.
The payment's reference is the M-PESA receipt number in both cases, so money reported by an STK callback
and again by a C2B confirmation is one payment. Daraja's times are East Africa Time (UTC+3).

Which customer: an STK push we sent (`stk_push.initiate_mpesa`) left a pending payment under its
CheckoutRequestID (`stk_sent`), so its callback settles that one, paying the invoice the customer chose
first, and keeps Daraja's ResultCode for the customer's page (`initiation.record_result`); otherwise
the payer's phone number, if exactly one customer has it. A C2B payment names its account in
BillRefNumber: a Portal ID or the customer's M-PESA number (the seed's Paybill instructions). No match:
the event is kept as `unmatched` for staff.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.services.billing import payments
from app.services.billing.gateways import config, events, initiation
from app.services.billing.gateways.events import Outcome, Received
from app.services.billing.payment_methods import normalise_msisdn
from app.services.errors import Invalid

PROVIDER = "mpesa"
EAT = ZoneInfo("Africa/Nairobi")
ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}
ACTOR = "gateway mpesa"


def check_token(session: Session, token: str) -> None:
    if not config.mpesa_token_ok(session, token):
        raise events.TokenInvalid("this M-PESA callback URL is not (or no longer) valid")


def _time(value) -> datetime | None:
    """Daraja's YYYYMMDDHHMMSS (a string or a number), East Africa Time → aware UTC."""
    text = str(value or "").strip()
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=EAT).astimezone(UTC)
    except ValueError:
        return None


def _amount(value) -> Decimal:
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        return Decimal(value.strip()) if value.strip() else Decimal(0)
    raise Invalid("the amount is not a number")


def _items(callback: dict) -> dict:
    items = (callback.get("CallbackMetadata") or {}).get("Item") or []
    return {i.get("Name"): i.get("Value") for i in items if isinstance(i, dict)}


def received_from(kind: str, doc: dict) -> Received | None:
    """The money an event reports (for staff resolving an unmatched one), or None."""
    if kind == "c2b_confirmation":
        return Received(amount=_amount(doc.get("TransAmount")), currency="KES", method="mpesa",
                        provider_ref=str(doc.get("TransID")), received_at=_time(doc.get("TransTime")),
                        reference=str(doc.get("BillRefNumber") or "")[:120] or None,
                        account=str(doc.get("BillRefNumber") or "") or None)
    if kind == "stk_callback":
        callback = (doc.get("Body") or {}).get("stkCallback") or {}
        if str(callback.get("ResultCode")) != "0":
            return None
        items = _items(callback)
        phone = str(items.get("PhoneNumber") or "") or None
        return Received(amount=_amount(items.get("Amount")), currency="KES", method="mpesa",
                        provider_ref=str(items.get("MpesaReceiptNumber")),
                        received_at=_time(items.get("TransactionDate")),
                        reference=phone, account=phone)
    return None


# -- STK push -----------------------------------------------------------------------------------------
def stk_sent(session: Session, *, customer_id: int, amount, checkout_request_id: str, phone: str,
             actor: str = "system") -> int:
    """An STK push was sent (Daraja answered with this CheckoutRequestID): a pending payment waits for its
    callback. Returns the payment's id."""
    payment = payments.record(session, customer_id=customer_id, amount=amount, method="mpesa", currency="KES",
                              provider=PROVIDER, provider_ref=checkout_request_id, reference=normalise_msisdn(phone),
                              status="pending", actor=actor)
    return payment.id


def handle_stk(session: Session, token: str, raw: bytes) -> Outcome:
    if not config.mpesa_stk_token_ok(session, token):  # the registered URL's token, or our pushes' own
        raise events.TokenInvalid("this M-PESA callback URL is not (or no longer) valid")
    doc = events.parse(raw)
    callback = (doc.get("Body") or {}).get("stkCallback")
    if not isinstance(callback, dict) or not callback.get("CheckoutRequestID"):
        raise Invalid("not an STK callback: Body.stkCallback.CheckoutRequestID is missing")
    checkout = str(callback["CheckoutRequestID"])
    event_id = f"stk:{checkout}"
    row = events.claim(session, provider=PROVIDER, event_id=event_id, kind="stk_callback", object_ref=checkout, raw=raw)
    if row is None:
        return Outcome(PROVIDER, event_id, "duplicate", duplicate=True)
    return events.apply(session, PROVIDER, event_id, row, lambda: _apply_stk(session, callback, doc))


def _apply_stk(session: Session, callback: dict, doc: dict) -> tuple[str, int | None]:
    checkout = str(callback["CheckoutRequestID"])
    pending = payments.find_by_ref(session, PROVIDER, checkout, for_update=True)
    if str(callback.get("ResultCode")) != "0":
        if pending is None:
            return "ignored: unknown request", None
        if pending.status in payments.KEPT:
            return "ignored: already succeeded", pending.id
        payments.fail(session, pending.id, reason=f"M-PESA {callback.get('ResultCode')}: "
                                                  f"{callback.get('ResultDesc') or 'not paid'}", actor=ACTOR)
        initiation.record_result(session, pending.id, callback.get("ResultCode"), callback.get("ResultDesc"))
        return "failed", pending.id
    money = received_from("stk_callback", doc)
    if not money.provider_ref or money.provider_ref == "None":
        raise Invalid("a paid STK callback carries MpesaReceiptNumber")
    if pending is not None:
        if pending.status in payments.KEPT:
            return "duplicate", pending.id
        initiation.record_result(session, pending.id, callback.get("ResultCode"), callback.get("ResultDesc"))
        try:
            payments.confirm(session, pending.id, amount=money.amount, provider_ref=money.provider_ref,
                             received_at=money.received_at, actor=ACTOR)
        except payments.DuplicatePayment as exc:  # its C2B confirmation came first: one payment, not two
            payments.fail(session, pending.id, reason=f"recorded as payment #{exc.payment.id}", actor=ACTOR)
            initiation.record_result(session, pending.id, "duplicate", f"recorded as payment #{exc.payment.id}")
            return "duplicate", exc.payment.id
        return "applied", pending.id
    customer_id = events.customer_for_account(session, money.account)
    if customer_id is None:
        return "unmatched", None
    return events.receive(session, customer_id, money, PROVIDER, ACTOR)


# -- C2B ----------------------------------------------------------------------------------------------
def handle_c2b(session: Session, token: str, raw: bytes) -> Outcome:
    check_token(session, token)
    doc = events.parse(raw)
    trans_id = str(doc.get("TransID") or "").strip()
    if not trans_id:
        raise Invalid("not a C2B confirmation: TransID is missing")
    event_id = f"c2b:{trans_id}"
    row = events.claim(session, provider=PROVIDER, event_id=event_id, kind="c2b_confirmation", object_ref=trans_id,
                       raw=raw)
    if row is None:
        return Outcome(PROVIDER, event_id, "duplicate", duplicate=True)
    return events.apply(session, PROVIDER, event_id, row, lambda: _apply_c2b(session, doc))


def _apply_c2b(session: Session, doc: dict) -> tuple[str, int | None]:
    money = received_from("c2b_confirmation", doc)
    existing = payments.find_by_ref(session, PROVIDER, money.provider_ref)
    if existing is not None:  # its STK callback came first
        return "duplicate", existing.id
    customer_id = events.customer_for_account(session, money.account)
    if customer_id is None:
        return "unmatched", None
    return events.receive(session, customer_id, money, PROVIDER, ACTOR)
