"""Password hashing (argon2id) and the password policy.

Parameters: OWASP's minimum for argon2id, m=19 MiB, t=2, p=1 (30-40 ms a hash on one core here; see
bench/identity.py):
strong enough that a stolen hash costs an attacker real money per guess, cheap enough that a login is
not a denial-of-service lever. Hashes made with weaker parameters are upgraded at the next login.
"""

from __future__ import annotations

import string

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.services.errors import Invalid

MEMORY_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1
MIN_LENGTH = 8
MAX_LENGTH = 128  # hashing a megabyte "password" is a cheap way to burn our CPU

HASHER = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM, hash_len=32,
                        salt_len=16, type=Type.ID)
# Verified against when the account does not exist, so that both paths take the same time.
_DUMMY = HASHER.hash("not-a-real-password-9f8e7d")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if not password or len(password) > MAX_LENGTH:
        return False
    try:
        return HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    try:
        return HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def policy_problems(password: str) -> list[str]:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"at most {MAX_LENGTH} characters")
    if not any(c.isupper() for c in password):
        problems.append("an upper-case letter")
    if not any(c.islower() for c in password):
        problems.append("a lower-case letter")
    if not any(c.isdigit() for c in password):
        problems.append("a digit")
    if not any(c in string.punctuation or (not c.isalnum() and not c.isspace()) for c in password):
        problems.append("a special character")
    return problems


def check_policy(password: str) -> None:
    problems = policy_problems(password or "")
    if problems:
        raise Invalid("the password needs " + ", ".join(problems), field="password")
