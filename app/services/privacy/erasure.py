"""What deleting an account erases, and what the law, and the records that depend on the account, make us
keep (000 §8.2 "Account deletion requests", §12.2 "Data deletion requests").

Erased: who the customer is and how to reach them (names, company, e-mail address, phones, ID number, M-PESA
number, postal address, city and county, GPS, everything else on the profile), their contacts, the
installation addresses of their services, stored payment methods, the phone numbers payments were asked on,
every way into the account (portal password and second factor, sessions, which end at once, API keys,
remembered devices, backup codes and reset links), the sign-in history with its addresses and browsers, the
details of the activity log, the e-mails sent to them (subject and body), exports of their data, and the
words of their deletion request.

Kept (`KEPT`, which the page and the reseller are shown): the financial records, which tax law makes the
reseller keep for the tax period (invoices, credit notes, receipts, payments as the payment provider
reported them, the ledger: amounts, dates and numbers; the documents name the Portal ID instead of the
person); the services and their history, which those records refer to; usage and connection records, for
their own limited time, removed then by the usage retention; the Portal ID, never given to anyone else, so
that the records point at one account; the record of consents, as proof of what was agreed; the activity
log's list of what was done, and the deletion request itself.

Then the customer is deleted outright if nothing financial refers to them, else made Inactive and kept
(`app.services.customers.deletion`, the reseller's own customer deletion, reused so that the two never
disagree on what must stay).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app import clock
from app.models import (
    ActivityEvent,
    ApiKey,
    AuthSession,
    BackupCode,
    Customer,
    KnownDevice,
    LoginEvent,
    Outbox,
    PortalAccount,
    ResetToken,
)
from app.models.billing import PaymentMethod, PaymentRequest
from app.models.customers import Contact
from app.models.privacy import DeletionRequest
from app.models.provisioning import Service
from app.models.reports import OutboxAttachment
from app.services.privacy import exports, subjects
from app.services.usage.config import USAGE_RETENTION_MONTHS, radius_settings

PROFILE_FIELDS = ("first_name", "last_name", "company_name", "email", "phone", "national_id", "address", "city",
                  "county", "sub_county", "postal_code", "latitude", "longitude", "mpesa_number")
SCRUBBED = "[removed: the account was deleted at the customer's request]"


@dataclass(frozen=True)
class Kept:
    key: str
    what: str  # msgids: the pages translate them
    why: str
    args: dict


def kept(session: Session) -> list[Kept]:
    """What an approved deletion keeps, and why, with this reseller's own retention figures."""
    days = radius_settings(session)["session_retention_days"]
    return [
        Kept("financial", "Invoices, credit notes, receipts, payments and your account's ledger: amounts, dates and "
                          "numbers.",
             "Tax law requires your provider to keep its financial records for the tax period. They show your "
             "Portal ID instead of your name.", {}),
        Kept("services", "Your services' records: plans, prices and the dates they started and ended.",
             "The invoices they were billed on refer to them.", {}),
        Kept("usage", "Daily usage totals, for %(months)s months, and internet session records, for %(days)s "
                      "days.",
             "For billing accuracy and disputes; they are then removed automatically, as everyone's are.",
             {"months": USAGE_RETENTION_MONTHS, "days": days}),
        Kept("portal_id", "Your Portal ID.",
             "It is never given to anyone else, so the records above still point at one account.", {}),
        Kept("consents", "The record of what you agreed to, and when.",
             "It shows that your choices were respected.", {}),
        Kept("activity", "The list of what was done on your account, and when, without its details, and this "
                         "request.",
             "It shows who did what, and that your account was deleted as you asked.", {}),
    ]


def erase(session: Session, customer_id: int) -> dict[str, int]:
    """Erase what identifies the customer (the module docstring lists it), in the caller's transaction;
    returns how many rows of each kind were erased or removed."""
    customer = session.execute(select(Customer).where(Customer.id == customer_id).with_for_update()).scalar_one()
    email = customer.email
    done: dict[str, int] = {}
    for name in PROFILE_FIELDS:
        setattr(customer, name, None)
    customer.extra = {"erased_at": clock.now().isoformat()}
    done["contacts"] = session.execute(delete(Contact).where(Contact.customer_id == customer_id)).rowcount

    account = session.get(PortalAccount, customer_id)
    if account is not None:
        account.password_hash = account.totp_secret = account.totp_enabled_at = account.totp_last_step = None
        account.is_active = False
    principal = {"principal_kind": "customer", "principal_id": customer_id}
    for key, model in (("sessions", AuthSession), ("sign_ins", LoginEvent), ("devices", KnownDevice),
                       ("backup_codes", BackupCode), ("reset_links", ResetToken)):
        done[key] = session.execute(delete(model).filter_by(**principal)).rowcount
    done["api_keys"] = session.execute(delete(ApiKey).where(ApiKey.customer_id == customer_id)).rowcount

    done["payment_methods"] = session.execute(
        delete(PaymentMethod).where(PaymentMethod.customer_id == customer_id)).rowcount
    session.execute(update(PaymentRequest).where(PaymentRequest.customer_id == customer_id)
                    .values(phone=None, checkout_url=None))
    done["service_addresses"] = session.execute(
        update(Service).where(Service.customer_id == customer_id)
        .values(installation_address=None, network_password_encrypted=None)).rowcount
    done["activity_details"] = session.execute(
        update(ActivityEvent).where(ActivityEvent.customer_id == customer_id).values(detail={})).rowcount
    if email:
        to_them = subjects.addressed_to(Outbox.__table__, email)
        session.execute(delete(OutboxAttachment).where(OutboxAttachment.outbox_id.in_(
            select(Outbox.id).where(to_them))))
        session.execute(update(Outbox).where(to_them, Outbox.status == "pending")
                        .values(status="failed", last_error="the account was deleted before it was sent"))
        done["emails"] = session.execute(update(Outbox).where(to_them).values(
            to_address="[removed]", subject="[removed]", body_text=SCRUBBED, body_html=None, context={})).rowcount
    done["exports"] = exports.retire(session, customer_id)
    session.execute(update(DeletionRequest).where(DeletionRequest.customer_id == customer_id)
                    .values(reason=None))
    session.flush()
    return done
