"""Secrets at rest (TOTP seeds, NAS secrets) and keyed digests of single-use codes.

Both keys are derived from SECRET_KEY with HKDF, each for its own purpose, so the raw key is never used
directly and one purpose's key tells nothing about another's. Rotating SECRET_KEY therefore needs the
stored secrets re-encrypted (not yet automated).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_secret: str | None = None


def configure(secret_key: str) -> None:
    global _secret
    if secret_key != _secret:
        _secret = secret_key
        _derive.cache_clear()
        _fernet.cache_clear()


def _secret_key() -> str:
    if _secret is None:
        from app.config import Settings

        configure(Settings.from_env().secret_key)
    return _secret


@cache
def _derive(purpose: bytes, secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"backhaul", info=purpose).derive(secret.encode())


@cache
def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(b"at-rest-encryption", secret)))


def encrypt(plaintext: str) -> str:
    return _fernet(_secret_key()).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(_secret_key()).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("cannot decrypt: the SECRET_KEY changed or the value was tampered with") from None


def digest(value: str) -> str:
    """A keyed digest for high-entropy tokens we only ever compare (session tokens, reset tokens, codes)."""
    return hmac.new(_derive(b"token-digest", _secret_key()), value.encode(), hashlib.sha256).hexdigest()


def same(given: str, expected: str) -> bool:
    """A constant-time comparison of text someone sent with text we expect. `hmac.compare_digest` refuses
    str holding anything but ASCII (a TypeError: a 500 for whoever sends 'é'), so both are compared as UTF-8."""
    return hmac.compare_digest(given.encode(), expected.encode())


def is_number(text: str) -> bool:
    """ASCII digits only: `str.isdigit()` also takes '²' and '１', which `int()` then refuses or reads."""
    return text.isascii() and text.isdigit()
