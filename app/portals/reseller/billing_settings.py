"""The settings of billing in the reseller portal, `/reseller/billing/settings`: the dunning policy (reminders,
grace period, limit or suspend, late fees), tax rates, the payment gateways (M-PESA Daraja as a paybill or a
till, and the card processor's keys) and the top-up bundles customers buy in the portal.

Each page calls what its API calls, with its permission: the dunning policy (app/api/dunning) is read with
`finance.view` and changed with `settings.manage`; tax rates (app/api/billing) are read with `finance.view` and
changed with `finance.billing`; the gateways (app/api/payments) need `settings.manage` to be seen at all; the
bundles (app/api/selfcare_settings) are read with `finance.view` and changed with `settings.manage`. A secret
is never shown back, not even in the form it was typed into: the page says only whether it is set, and a
secret field left empty keeps the one stored.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for

from app.portals.forms import FORM_EXPIRED, expired
from app.portals.nav import may_open
from app.portals.reseller.billing_forms import (
    BUNDLE_AMOUNT_WRONG,
    CODE_TWICE,
    DAYS_WRONG,
    FEE_WRONG,
    PERCENT_WRONG,
    RATE_WRONG,
    SECRET_FIRST,
    SECRET_WRONG,
    SHORTCODE_WRONG,
    VALIDITY_WRONG,
    ActionForm,
    BundleForm,
    DunningForm,
    MpesaForm,
    StripeForm,
    TaxRateForm,
    put_refusal,
)
from app.portals.reseller.shell import TEAM_KINDS, guard, page
from app.services.billing import dunning, tax
from app.services.billing.gateways import config, daraja_settings
from app.services.errors import Invalid
from app.services.selfcare import portal_rules
from app.services.settings import get_setting
from app.web import db_session
from app.web.auth import requires

bp = Blueprint("reseller_billing_settings", __name__, url_prefix="/reseller/billing/settings")
guard(bp)
bp.context_processor(lambda: {"may_open": may_open})  # the section's links: those the member may open

POLICY_SAVED = "The dunning policy is saved. It applies from the next daily run."
RATE_ADDED = "The tax rate is added. It applies to invoices drafted from now on."
RATE_SAVED = "The tax rate is saved. Invoices issued already keep the rate they had."
MPESA_SAVED = "The M-PESA settings are saved."
STRIPE_SAVED = "The card processor's keys are saved."
BUNDLE_ADDED = "The bundle is added: customers can buy it in the portal."
BUNDLE_REMOVED = "The bundle is removed. Bundles bought already are not touched."


@requires("finance.view", kinds=TEAM_KINDS)
def index():
    session = db_session()
    return page("billing/settings", policy=dunning.policy(session), rates=tax.list_rates(session),
                bundles=portal_rules.bundles(session),
                gateways=config.describe(session) if may_open("reseller_billing_settings.gateways") else None,
                links={name: may_open(name) for name in (
                    "reseller_billing_settings.dunning_policy", "reseller_billing_settings.tax_rates",
                    "reseller_billing_settings.gateways", "reseller_billing_settings.bundles")})


# -- dunning -------------------------------------------------------------------------------------------------

def _policy_form(found: dunning.Policy) -> DunningForm:
    return DunningForm(formdata=None, enabled=found.enabled, reminder_days=", ".join(map(str, found.reminder_days)),
                       channels=list(found.channels), grace_days=found.grace_days, action=found.action,
                       late_fee=None if found.late_fee is None else str(found.late_fee),
                       late_fee_percent=None if found.late_fee_percent is None else str(found.late_fee_percent))


@requires("finance.view", kinds=TEAM_KINDS)
def dunning_policy():
    found = dunning.policy(db_session())
    return page("billing/dunning", policy=found, form=_policy_form(found),
                may_edit=may_open("reseller_billing_settings.save_dunning"))


@requires("settings.manage", kinds=TEAM_KINDS)
def save_dunning():
    session = db_session()
    form = DunningForm()
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return page("billing/dunning", policy=dunning.policy(session), form=form, may_edit=True, status=422)
    try:
        dunning.put_policy(session, form.policy(), principal=g.principal)
    except Invalid as exc:
        put_refusal(form, exc, {"reminder_days": ("reminder_days", DAYS_WRONG), "late_fee": ("late_fee", FEE_WRONG),
                                "late_fee_percent": ("late_fee_percent", PERCENT_WRONG)})
        return page("billing/dunning", policy=dunning.policy(session), form=form, may_edit=True, status=422)
    flash(POLICY_SAVED, "success")
    return redirect(url_for(".dunning_policy"), 303)


# -- tax rates -----------------------------------------------------------------------------------------------

def _rates_page(form: TaxRateForm, status: int = 200):
    return page("billing/tax_rates", rates=tax.list_rates(db_session()), form=form,
                may_edit=may_open("reseller_billing_settings.add_rate"), status=status)


@requires("finance.view", kinds=TEAM_KINDS)
def tax_rates():
    return _rates_page(TaxRateForm(formdata=None))


@requires("finance.billing", kinds=TEAM_KINDS)
def add_rate():
    form = TaxRateForm()
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return _rates_page(form, 422)
    try:
        tax.create_rate(db_session(), **form.values())
    except Invalid as exc:
        put_refusal(form, exc, {"rate": ("rate", RATE_WRONG)})
        return _rates_page(form, 422)
    flash(RATE_ADDED, "success")
    return redirect(url_for(".tax_rates"), 303)


@requires("finance.billing", kinds=TEAM_KINDS)
def edit_rate(rate_id: int):
    session = db_session()
    row = tax.get_rate(session, rate_id)
    if request.method == "GET":
        form = TaxRateForm(formdata=None, name=row.name, rate=f"{row.rate.normalize():f}", compound=row.compound,
                           active=row.active, position=row.position)
        return page("billing/tax_rate", rate=row, form=form)
    form = TaxRateForm()
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return page("billing/tax_rate", rate=row, form=form, status=422)
    try:
        tax.update_rate(session, rate_id, form.values())
    except Invalid as exc:
        put_refusal(form, exc, {"rate": ("rate", RATE_WRONG)})
        return page("billing/tax_rate", rate=row, form=form, status=422)
    flash(RATE_SAVED, "success")
    return redirect(url_for(".tax_rates"), 303)


# -- payment gateways ----------------------------------------------------------------------------------------

def _gateways_page(mpesa: MpesaForm | None = None, stripe: StripeForm | None = None, status: int = 200):
    found = config.describe(db_session())
    daraja = found["mpesa"]["daraja"]
    if mpesa is None:
        mpesa = MpesaForm(formdata=None, shortcode_type=daraja["shortcode_type"] or "paybill",
                          shortcode=daraja["shortcode"], till_number=daraja["till_number"],
                          environment=daraja["environment"] or "sandbox")
    return page("billing/gateways", gateways=found, mpesa=mpesa, stripe=stripe or StripeForm(formdata=None),
                webhook_url=f"{request.url_root}webhooks/stripe", status=status)


@requires("settings.manage", kinds=TEAM_KINDS)
def gateways():
    return _gateways_page()


@requires("settings.manage", kinds=TEAM_KINDS)
def save_mpesa():
    form = MpesaForm()
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return _gateways_page(mpesa=form, status=422)
    try:
        daraja_settings.set_daraja(db_session(), **form.values())
    except Invalid as exc:
        field = exc.extra.get("field")
        if field in daraja_settings.SECRETS and "first time" in exc.detail:
            form[field].errors = [SECRET_FIRST]
        else:
            put_refusal(form, exc, {**{s: (s, SECRET_WRONG) for s in daraja_settings.SECRETS},
                                    "shortcode": ("shortcode", SHORTCODE_WRONG),
                                    "till_number": ("till_number", SHORTCODE_WRONG)})
        return _gateways_page(mpesa=form, status=422)
    flash(MPESA_SAVED, "success")
    return redirect(url_for(".gateways"), 303)


@requires("settings.manage", kinds=TEAM_KINDS)
def save_stripe():
    form = StripeForm()
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return _gateways_page(stripe=form, status=422)
    try:
        config.set_stripe(db_session(), webhook_secret=(form.webhook_secret.data or "").strip() or None,
                          api_key=(form.api_key.data or "").strip() or None)
    except Invalid as exc:
        put_refusal(form, exc, {"webhook_secret": ("webhook_secret", SECRET_WRONG),
                                "api_key": ("api_key", SECRET_WRONG)})
        return _gateways_page(stripe=form, status=422)
    flash(STRIPE_SAVED, "success")
    return redirect(url_for(".gateways"), 303)


# -- top-up bundles ------------------------------------------------------------------------------------------

def _bundles_page(form: BundleForm, status: int = 200):
    session = db_session()
    return page("billing/bundles", bundles=portal_rules.bundles(session), form=form, action=ActionForm(),
                currency=get_setting(session, "currency") or "KES",
                may_edit=may_open("reseller_billing_settings.add_bundle"), status=status)


def _stored(items: list[dict]) -> list[dict]:
    """The bundles as `set_bundles` takes them back (its reader gives Decimals)."""
    return [{**b, "amount": str(b["amount"]), "price": str(b["price"])} for b in items]


@requires("finance.view", kinds=TEAM_KINDS)
def bundles():
    return _bundles_page(BundleForm(formdata=None))


@requires("settings.manage", kinds=TEAM_KINDS)
def add_bundle():
    session = db_session()
    form = BundleForm()
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return _bundles_page(form, 422)
    try:
        portal_rules.set_bundles(session, [*_stored(portal_rules.bundles(session)), form.bundle()],
                                 actor=g.principal.actor)
    except Invalid as exc:
        if "listed twice" in exc.detail:
            form.code.errors = [CODE_TWICE]
        elif ".amount" in exc.detail:
            form.amount.errors = [BUNDLE_AMOUNT_WRONG]
        elif ".validity_days" in exc.detail:
            form.validity_days.errors = [VALIDITY_WRONG]
        else:
            put_refusal(form, exc, {})
        return _bundles_page(form, 422)
    flash(BUNDLE_ADDED, "success")
    return redirect(url_for(".bundles"), 303)


@requires("settings.manage", kinds=TEAM_KINDS)
def remove_bundle(code: str):
    session = db_session()
    found = portal_rules.bundle(session, code)  # another reseller's, or none: 404
    form = ActionForm()
    if not form.validate_on_submit():
        flash(FORM_EXPIRED, "error")
        return redirect(url_for(".bundles"), 303)
    portal_rules.set_bundles(session, [b for b in _stored(portal_rules.bundles(session))
                                       if b["code"] != found["code"]], actor=g.principal.actor)
    flash(BUNDLE_REMOVED, "success")
    return redirect(url_for(".bundles"), 303)


bp.add_url_rule("", "index", index)
bp.add_url_rule("/dunning", "dunning_policy", dunning_policy)
bp.add_url_rule("/dunning", "save_dunning", save_dunning, methods=["POST"])
bp.add_url_rule("/tax-rates", "tax_rates", tax_rates)
bp.add_url_rule("/tax-rates", "add_rate", add_rate, methods=["POST"])
bp.add_url_rule("/tax-rates/<int:rate_id>", "edit_rate", edit_rate, methods=["GET", "POST"])
bp.add_url_rule("/gateways", "gateways", gateways)
bp.add_url_rule("/gateways/mpesa", "save_mpesa", save_mpesa, methods=["POST"])
bp.add_url_rule("/gateways/card", "save_stripe", save_stripe, methods=["POST"])
bp.add_url_rule("/bundles", "bundles", bundles)
bp.add_url_rule("/bundles", "add_bundle", add_bundle, methods=["POST"])
bp.add_url_rule("/bundles/<code>/remove", "remove_bundle", remove_bundle, methods=["POST"])
