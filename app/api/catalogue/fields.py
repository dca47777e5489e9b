"""Field types the catalogue and provisioning APIs share.

Bounded to what PostgreSQL stores, so that a value it cannot hold is a 422 here and never a 500 there:
ids within bigint, counts within integer, text without NUL (a PostgreSQL text cannot contain one).
Money goes out as a decimal string and is documented so (a Decimal field alone is documented as a number).
"""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate

BIGINT = 2**63 - 1
INTEGER = 2**31 - 1


class Text(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("NUL characters are not allowed")
        return text


def Id(*, strict: bool = True, **kwargs) -> fields.Integer:  # noqa: N802 - a field factory reads as a field
    """A row id (strict in JSON bodies; query strings carry digits as text)."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=BIGINT), **kwargs)


def Count(*, maximum: int = INTEGER, **kwargs) -> fields.Integer:  # noqa: N802
    return fields.Integer(validate=validate.Range(min=0, max=maximum), **kwargs)


def MoneyIn(**kwargs) -> fields.Decimal:  # noqa: N802
    """An amount in: a decimal string or a number. Bounds (not negative, two decimals, below 10^10) are the
    service's to check (422): a Range here would put its bound into the document as a string."""
    return fields.Decimal(**kwargs)


def MoneyOut(**kwargs) -> fields.Decimal:  # noqa: N802
    metadata = {"type": "string", "example": "62.50", **kwargs.pop("metadata", {})}
    return fields.Decimal(as_string=True, metadata=metadata, **kwargs)
