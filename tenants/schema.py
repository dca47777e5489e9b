"""Tenant codes and the schema names derived from them.

A schema name reaches SQL as an identifier, which cannot be a bind parameter; so every name is checked
against a strict pattern *and* quoted, and nothing but a derived or validated name is ever formatted
into a statement.
"""

import re

SCHEMA_RE = re.compile(r"^t_[a-z0-9_]{1,60}$")
CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")


class InvalidTenantCode(ValueError):
    """A tenant code or schema name that does not match the allowed pattern."""


def validate_code(code: str) -> str:
    if not isinstance(code, str) or not CODE_RE.fullmatch(code):
        raise InvalidTenantCode(
            f"invalid tenant code {code!r}: use 2-40 upper-case letters, digits or '_', starting with a letter"
        )
    return code


def validate_schema(name: str) -> str:
    if not isinstance(name, str) or not SCHEMA_RE.fullmatch(name):
        raise InvalidTenantCode(f"invalid tenant schema name {name!r}: must match {SCHEMA_RE.pattern}")
    return name


def quote_schema(name: str) -> str:
    """The validated name as a quoted SQL identifier."""
    return '"' + validate_schema(name) + '"'


def schema_for_code(code: str) -> str:
    return validate_schema("t_" + validate_code(code).lower())


def subdomain_for_code(code: str) -> str:
    """Host label of a tenant's platform sub-domain: underscores are not valid in host names."""
    return validate_code(code).lower().replace("_", "-")
