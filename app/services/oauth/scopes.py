"""Scopes are permission names; a scope string is their space-separated list (RFC 6749 §3.3)."""

from __future__ import annotations

from collections.abc import Iterable

from app.services.auth.permissions import PERMISSIONS


def parse(scope: str | None) -> frozenset[str]:
    return frozenset((scope or "").split())


def render(scopes: Iterable[str]) -> str:
    """Sorted, so that the same grant always reads the same (in responses, introspection and the database)."""
    return " ".join(sorted(set(scopes)))


def known(scopes: Iterable[str]) -> frozenset[str]:
    """Only names that are still permissions: one removed from the code stops being grantable at once."""
    return frozenset(scopes) & frozenset(PERMISSIONS)
