"""The dunning policy and a customer's dunning steps.

The policy's rules (reminder days ascending and positive, grace ≥ 0, fees Decimal ≥ 0) are checked by
the service (app/services/billing/dunning.py `validate`), which answers 422 with the field at fault;
the schema documents the shape and refuses wrong types.
"""

from marshmallow import Schema, fields, validate

from app.api.payments.schemas import AmountIn
from app.services.billing.dunning import ACTIONS, CHANNELS, MAX_DAYS


class DunningPolicyIn(Schema):
    enabled = fields.Boolean(load_default=True)
    reminder_days = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_DAYS)),
                                load_default=lambda: [1, 3, 7], validate=validate.Length(max=20),
                                metadata={"description": "days after the due date, ascending", "example": [1, 3, 7]})
    channels = fields.List(fields.String(validate=validate.OneOf(CHANNELS)), load_default=lambda: ["email"],
                           metadata={"description": "sms is recorded until an SMS sender exists"})
    grace_days = fields.Integer(strict=True, load_default=7, validate=validate.Range(min=0, max=MAX_DAYS),
                                metadata={"description": "days after the due date before the action"})
    action = fields.String(load_default="limit", validate=validate.OneOf(ACTIONS),
                           metadata={"description": "limit: reduced speed (the payment page stays reachable); "
                                                    "suspend: no service"})
    late_fee = AmountIn(load_default=None, allow_none=True,
                        metadata={"description": "a fixed fee charged once per overdue invoice after the grace "
                                                 "period", "example": "50.00"})
    late_fee_percent = AmountIn(load_default=None, allow_none=True,
                                metadata={"description": "percent of what is still owed on the invoice, added to "
                                                         "the fixed fee", "example": "2.5"})


class DunningPolicyOut(Schema):
    enabled = fields.Boolean(required=True)
    reminder_days = fields.List(fields.Integer(), required=True)
    channels = fields.List(fields.String(), required=True)
    grace_days = fields.Integer(required=True)
    action = fields.String(required=True, metadata={"enum": list(ACTIONS)})
    late_fee = fields.String(allow_none=True, metadata={"example": "50.00"})
    late_fee_percent = fields.String(allow_none=True, metadata={"example": "2.5"})


class DunningStepOut(Schema):
    id = fields.Integer(required=True)
    invoice_id = fields.Integer(required=True)
    step = fields.String(required=True, metadata={
        "description": "overdue, reminder:<day>, late_fee, action, restore"})
    at = fields.DateTime(required=True)
    detail = fields.Dict(required=True)
