"""Ids as PostgreSQL stores them (bigint). A number beyond that cannot name a row: the lookup answers
"not found" instead of letting the database refuse the parameter (which would be a 500)."""

BIGINT_MAX = 2**63 - 1


def valid_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= BIGINT_MAX
