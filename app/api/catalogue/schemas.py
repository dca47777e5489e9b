"""Plans (console), the reseller's catalogue, and price rules in the shape of "Pricing Configuration"."""

from marshmallow import Schema, fields, validate

from app.api.catalogue.fields import BIGINT, Count, Id, MoneyIn, MoneyOut, Text
from app.models.catalogue import BILLING_PERIODS, PLAN_KINDS

_money_in = MoneyIn


def _kbps():
    return Count(allow_none=True)


class PlanFields(Schema):
    name = Text(validate=validate.Length(min=1, max=200))
    description = Text(allow_none=True)
    download_kbps = _kbps()
    upload_kbps = _kbps()
    burst_download_kbps = _kbps()
    burst_upload_kbps = _kbps()
    burst_threshold_download_kbps = _kbps()
    burst_threshold_upload_kbps = _kbps()
    burst_time_seconds = _kbps()
    data_allowance_mb = Count(maximum=BIGINT, allow_none=True, metadata={"description": "null: unlimited"})
    fup_policy = Text(allow_none=True, validate=validate.Length(max=100))
    limited_download_kbps = _kbps()
    limited_upload_kbps = _kbps()
    voice_minutes = Count(allow_none=True, metadata={"description": "null: unlimited"})
    components = fields.List(Id(), metadata={"description": "a bundle's plan ids"})
    wholesale_price = _money_in()
    currency = Text(validate=validate.Length(equal=3))
    billing_period = fields.String(validate=validate.OneOf(BILLING_PERIODS))
    setup_fee = _money_in()
    is_active = fields.Boolean()


class PlanIn(PlanFields):
    code = Text(required=True, validate=validate.Length(min=1, max=40))
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(PLAN_KINDS))
    wholesale_price = _money_in(required=True)
    currency = Text(required=True, validate=validate.Length(equal=3))


class PlanPatch(PlanFields):
    pass


class PlanOut(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    description = Text(allow_none=True)
    download_kbps = fields.Integer(allow_none=True)
    upload_kbps = fields.Integer(allow_none=True)
    burst_download_kbps = fields.Integer(allow_none=True)
    burst_upload_kbps = fields.Integer(allow_none=True)
    burst_threshold_download_kbps = fields.Integer(allow_none=True)
    burst_threshold_upload_kbps = fields.Integer(allow_none=True)
    burst_time_seconds = fields.Integer(allow_none=True)
    data_allowance_mb = fields.Integer(allow_none=True)
    fup_policy = Text(allow_none=True)
    limited_download_kbps = fields.Integer(allow_none=True)
    limited_upload_kbps = fields.Integer(allow_none=True)
    voice_minutes = fields.Integer(allow_none=True)
    components = fields.List(fields.Integer())
    wholesale_price = MoneyOut()
    currency = fields.String(required=True)
    billing_period = fields.String(required=True)
    setup_fee = MoneyOut()
    is_active = fields.Boolean(required=True)


class PlanListArgs(Schema):
    kind = fields.String(validate=validate.OneOf(PLAN_KINDS))
    active = fields.Boolean()


class PlanAuthorisationIn(Schema):
    tenant_id = Id()
    tenant_code = Text(validate=validate.Length(max=40), metadata={"description": "instead of tenant_id"})
    regions = fields.List(Text(validate=validate.Length(min=1, max=100)), allow_none=True,
                          load_default=None, metadata={"description": "null: everywhere"})


class PlanAuthorisationOut(Schema):
    plan_id = fields.Integer(required=True)
    tenant_id = fields.Integer(required=True)
    tenant_code = fields.String()
    regions = fields.List(fields.String(), allow_none=True)
    created_at = fields.DateTime()
    created_by = fields.String(allow_none=True)


# -- the reseller's side ------------------------------------------------------------------------------

class PriceQuoteOut(Schema):
    plan_id = fields.Integer(required=True)
    plan_code = fields.String()
    on = fields.Date(required=True)
    currency = fields.String()
    billing_period = fields.String()
    customer_category = fields.String(allow_none=True)
    volume = fields.Integer()
    rule_id = fields.Integer(allow_none=True)
    markup_type = fields.String(allow_none=True)
    markup_value = MoneyOut(allow_none=True)
    wholesale_price = MoneyOut()
    base_price = MoneyOut(metadata={"description": "after markup, before promotion and clamps"})
    promo_applied = fields.Boolean()
    promo_discount_percent = MoneyOut(allow_none=True)
    promo_discount = MoneyOut()
    clamped = fields.String(allow_none=True, metadata={"description": "min, max or null"})
    price = MoneyOut()
    setup_fee = MoneyOut()


class PriceStepOut(Schema):
    step = fields.String(required=True, metadata={
        "description": "wholesale, no_rule, markup, promotion, clamp_min, clamp_max or price"})
    amount = MoneyOut(required=True, metadata={"description": "the price after this step"})
    change = MoneyOut(metadata={"description": "what this step added (negative: took off)"})
    rule_id = fields.Integer()
    markup_type = fields.String()
    markup_value = MoneyOut()
    percent = MoneyOut()


class PricePreviewOut(PriceQuoteOut):
    steps = fields.List(fields.Nested(PriceStepOut), metadata={"description": "how the price was reached"})


class CatalogueItemOut(PlanOut):
    regions = fields.List(fields.String(), allow_none=True)
    retail = fields.Nested(PriceQuoteOut, metadata={"description": "today's retail price, for no particular customer"})


class PricePromotionIn(Schema):
    enabled = fields.Boolean(load_default=True)
    discount_percent = MoneyIn(allow_none=True, metadata={"description": "0 to 100"})
    valid_from = fields.Date(allow_none=True, load_default=None)
    valid_until = fields.Date(allow_none=True, load_default=None)


class PriceRuleFields(Schema):
    """The journey's "Pricing Configuration", plus `customer_category` and `min_volume` for tiers."""

    reseller_id = Id(metadata={"description": "optional; must be this reseller"})
    service_type = fields.String(validate=validate.OneOf(PLAN_KINDS))
    tariff_id = Id(allow_none=True,
                               metadata={"description": "a plan id; null: every plan of service_type"})
    markup_type = fields.String(validate=validate.OneOf(("percent", "fixed", "price")),
                                metadata={"description": "price: a fixed retail price, independent of wholesale"})
    markup_value = _money_in()
    min_price = _money_in(allow_none=True)
    max_price = _money_in(allow_none=True)
    setup_fee = _money_in(allow_none=True, metadata={"description": "null: the plan's setup fee"})
    customer_category = Text(allow_none=True, validate=validate.Length(max=40))
    min_volume = Count(allow_none=True)
    effective_from = fields.Date()
    promotional_pricing = fields.Nested(PricePromotionIn, allow_none=True)


class PriceRuleIn(PriceRuleFields):
    service_type = fields.String(required=True, validate=validate.OneOf(PLAN_KINDS))
    markup_type = fields.String(required=True, validate=validate.OneOf(("percent", "fixed", "price")))
    markup_value = _money_in(required=True)
    effective_from = fields.Date(required=True)


class PriceRulePatch(PriceRuleFields):
    pass


class PricePromotionOut(Schema):
    enabled = fields.Boolean()
    discount_percent = MoneyOut(allow_none=True)
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)


class PriceRuleOut(Schema):
    id = fields.Integer(required=True)
    reseller_id = fields.Integer()
    service_type = fields.String()
    tariff_id = fields.Integer(allow_none=True)
    markup_type = fields.String()
    markup_value = MoneyOut()
    min_price = MoneyOut(allow_none=True)
    max_price = MoneyOut(allow_none=True)
    setup_fee = MoneyOut(allow_none=True)
    customer_category = fields.String(allow_none=True)
    min_volume = fields.Integer(allow_none=True)
    effective_from = fields.Date()
    promotional_pricing = fields.Nested(PricePromotionOut)
    created_at = fields.DateTime()
    created_by = fields.String(allow_none=True)


class PriceRuleListArgs(Schema):
    tariff_id = Id(strict=False)


class PricePreviewArgs(Schema):
    plan_id = Id(strict=False, required=True)
    date = fields.Date(metadata={"description": "default: today"})
    customer_id = Id(strict=False)
    category = Text(validate=validate.Length(max=40), metadata={"description": "instead of a customer's"})
    volume = Count(metadata={"description": "default: the live count"})
