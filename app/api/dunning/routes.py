"""The reseller's dunning policy (reminders, grace period, limit or suspend, late fee) and the dunning
history of a customer. The daily run itself is the scheduler's (worker/scheduler.py); restoration
follows payments at once (app/services/billing/dunning.py)."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from app.api.dunning import schemas as s
from app.models import Customer
from app.services.billing import dunning
from app.services.errors import NotFound
from app.services.ids import valid_id
from app.web import db_session
from app.web.auth import requires

blp = Blueprint("dunning", __name__, url_prefix="/reseller/api", description="Dunning policy and history")
USER = ("user",)


@blp.route("/dunning/policy")
@requires("finance.view", kinds=USER)
@blp.response(200, s.DunningPolicyOut)
def get_policy():
    """The policy the daily run follows."""
    return dunning.policy(db_session()).as_setting()


@blp.route("/dunning/policy", methods=["PUT"])
@requires("settings.manage", kinds=USER)
@blp.arguments(s.DunningPolicyIn)
@blp.response(200, s.DunningPolicyOut)
def put_policy(body):
    """Replace the policy (keys left out take their defaults). Reminder days are positive and ascending,
    the grace period is 0 or more days, fees are decimal strings of 0 or more (a percentage at most 100);
    anything else is a 422 naming the field. Takes effect with the next daily run."""
    return dunning.put_policy(db_session(), body, principal=g.principal).as_setting()


@blp.route("/customers/<int:customer_id>/dunning")
@requires("finance.view", kinds=USER)
@blp.response(200, s.DunningStepOut(many=True))
def customer_steps(customer_id):
    """Every dunning step taken for the customer's invoices, oldest first: reminders (and where they
    went), late fees, the services limited or suspended, and their restoration."""
    session = db_session()
    if not valid_id(customer_id) or session.get(Customer, customer_id) is None \
            or not g.principal.may_see_customer(customer_id):
        raise NotFound("no such customer")
    return dunning.history(session, customer_id)
