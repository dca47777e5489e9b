"""TOTP second factor (RFC 6238 via pyotp) and single-use backup codes.

A code is accepted once only: the newest accepted time step is stored on the account, and acceptance is
a single conditional UPDATE (`... WHERE totp_last_step < :step`), so of ten concurrent submissions of
the same code exactly one wins, whatever the interleaving. Backup codes are consumed the same way.
"""

from __future__ import annotations

import secrets
import time

import pyotp
import segno
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from app.models.base import utcnow
from app.services.auth import crypto
from app.services.auth.crypto import decrypt, digest, encrypt
from app.services.auth.realms import Realm
from app.services.errors import Conflict, Invalid

STEP = 30
BACKUP_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read out over the phone


def _provisioning(secret: str, label: str, issuer: str) -> dict:
    uri = pyotp.TOTP(secret).provisioning_uri(name=label, issuer_name=issuer)
    qr = segno.make(uri, error="m")
    return {"secret": secret, "otpauth_uri": uri, "qr_svg": qr.svg_inline(scale=4),
            "qr_data_uri": qr.svg_data_uri(scale=4)}


def begin_enrolment(account, label: str, issuer: str) -> dict:
    """A new secret for the account (pending until confirmed with a code) and how to scan it."""
    if account.totp_enabled_at:
        raise Conflict("two-factor authentication is already on; turn it off first")
    secret = pyotp.random_base32()
    account.totp_secret = encrypt(secret)
    return _provisioning(secret, label, issuer)


def pending_enrolment(account, label: str, issuer: str) -> dict | None:
    """The enrolment begun and not yet confirmed, as `begin_enrolment` described it; None when there is
    none. A page shows the secret and its QR code in two requests (the page, then the image), so both
    must read the one secret that is stored, never make a new one."""
    if account.totp_enabled_at or not account.totp_secret:
        return None
    return _provisioning(decrypt(account.totp_secret), label, issuer)


def status(session: Session, realm: Realm, account) -> dict:
    """Whether two-factor authentication is on or waiting for its first code, and the backup codes left."""
    model = realm.backup_code
    left = session.execute(
        select(func.count()).select_from(model).where(model.principal_kind == realm.kind,
                                                      model.principal_id == account.id, model.used_at.is_(None))
    ).scalar_one()
    return {"enabled": account.totp_enabled_at is not None,
            "pending": account.totp_secret is not None and account.totp_enabled_at is None,
            "backup_codes_left": left}


def _matching_step(secret: str, code: str, now: float) -> int | None:
    code = (code or "").strip().replace(" ", "")
    if not (crypto.is_number(code) and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // STEP)
    for step in (current, current - 1, current + 1):  # one step of clock drift either way
        if crypto.same(code, totp.at(step * STEP)):
            return step
    return None


def verify(session: Session, realm: Realm, account, code: str, now: float | None = None) -> bool:
    """True when `code` is valid and has not been used: the step is claimed atomically."""
    if not account.totp_secret:
        return False
    step = _matching_step(decrypt(account.totp_secret), code, time.time() if now is None else now)
    if step is None:
        return False
    model, key = realm.account, realm.account_key
    claimed = session.execute(
        update(model).where(key == account.id,
                            or_(model.totp_last_step.is_(None), model.totp_last_step < step))
        .values(totp_last_step=step).returning(key)
    ).first()
    return claimed is not None


def confirm_enrolment(session: Session, realm: Realm, account, code: str) -> list[str]:
    """Turn 2FA on with a first valid code; returns the backup codes (shown this once)."""
    if account.totp_enabled_at:
        raise Conflict("two-factor authentication is already on")
    if not account.totp_secret:
        raise Conflict("start enrolment first")
    if not verify(session, realm, account, code):
        raise Invalid("that code is not valid; check the time on your device and try again", field="code")
    account.totp_enabled_at = utcnow()
    return new_backup_codes(session, realm, account.id)


def new_backup_codes(session: Session, realm: Realm, principal_id: int) -> list[str]:
    model = realm.backup_code
    session.execute(delete(model).where(model.principal_kind == realm.kind, model.principal_id == principal_id))
    codes = ["".join(secrets.choice(_ALPHABET) for _ in range(10)) for _ in range(BACKUP_CODES)]
    session.add_all(model(principal_kind=realm.kind, principal_id=principal_id, code_hash=digest(c)) for c in codes)
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def use_backup_code(session: Session, realm: Realm, principal_id: int, code: str) -> bool:
    cleaned = (code or "").strip().lower().replace("-", "").replace(" ", "")
    if len(cleaned) != 10:
        return False
    model = realm.backup_code
    used = session.execute(
        update(model).where(model.principal_kind == realm.kind, model.principal_id == principal_id,
                            model.code_hash == digest(cleaned), model.used_at.is_(None))
        .values(used_at=utcnow()).returning(model.id)
    ).first()
    return used is not None


def disable(session: Session, realm: Realm, account) -> None:
    account.totp_secret = None
    account.totp_enabled_at = None
    account.totp_last_step = None
    model = realm.backup_code
    session.execute(delete(model).where(model.principal_kind == realm.kind, model.principal_id == account.id))
