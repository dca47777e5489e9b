"""The reseller portal's Settings, `/reseller/settings`: every setting of the reseller on one overview, changed
in four forms (the portal and its identity; customers; billing; RADIUS). The dunning policy is shown with
them and changed on Billing's settings page, which was there first (one form for it, not two).

Each form sends what was typed, as typed, to `app.services.tenant_settings.update`, the function the settings
API's PATCH calls (app/api/tenant_settings): so the page and the API refuse the same values with the same
words, and the page shows them next to their fields with what was typed kept. Reading and changing need
`settings.manage`, as the API asks (its module says why reading does too).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, url_for
from wtforms import SelectChoice

from app.portals.forms import FORM_EXPIRED, expired
from app.portals.nav import may_open
from app.portals.reseller.settings_forms import (
    EDITABLE_WORDS,
    LANGUAGE_NAMES,
    PATHS,
    BillingForm,
    CustomersForm,
    GeneralForm,
    RadiusForm,
)
from app.portals.reseller.shell import TEAM_KINDS, guard, page
from app.services import tenant_settings
from app.services.tenant_settings import SettingsRefused
from app.web import db_session
from app.web.auth import requires

bp = Blueprint("reseller_settings", __name__, url_prefix="/reseller/settings")
guard(bp)

# the groups, in the overview's order: their form and title (a msgid)
GROUPS = {"general": (GeneralForm, "Portal, language and money"), "customers": (CustomersForm, "Customers"),
          "billing": (BillingForm, "Billing"), "radius": (RadiusForm, "Network access (RADIUS)")}
# the dunning policy is shown here and changed on Billing's own settings page (billing_settings.py), which calls
# the dunning API's service; the settings API changes it too (app/api/tenant_settings)
DUNNING_PAGE = "reseller_billing_settings.dunning_policy"


def _value(found: dict, path: str):
    group, _, name = path.partition(".")
    return found[group][name] if name else found[group]


def _typed(value):
    """A stored value as its field shows it: lists of days as `1, 3, 7`, nothing as an empty field."""
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, (bool, list)):
        return value
    return "" if value is None else str(value)


def _form(group: str, found: dict | None = None):
    form_class = GROUPS[group][0]
    if found is None:
        form = form_class()
    else:
        form = form_class(data={name: _typed(_value(found, path)) for name, path in PATHS[form_class].items()})
    if group == "general":
        form.language.choices = [SelectChoice(code, LANGUAGE_NAMES.get(code, code))
                                 for code in tenant_settings.languages()]
    return form


def _group_page(group: str, form, *, status: int = 200):
    return page(f"settings/{group}", status=status, form=form, group=group, title=GROUPS[group][1], groups=GROUPS,
                time_zones=tenant_settings.time_zones() if group == "general" else (),
                currencies=tenant_settings.currencies() if group == "general" else ())


@requires("settings.manage", kinds=TEAM_KINDS)
def index():
    return page("settings/index", settings=tenant_settings.current(db_session()), groups=GROUPS,
                language_names=LANGUAGE_NAMES, editable_words=EDITABLE_WORDS,
                dunning_url=url_for(DUNNING_PAGE) if may_open(DUNNING_PAGE) else None)


@requires("settings.manage", kinds=TEAM_KINDS)
def edit(group: str):
    if group not in GROUPS:
        abort(404)
    return _group_page(group, _form(group, tenant_settings.current(db_session())))


@requires("settings.manage", kinds=TEAM_KINDS)
def save(group: str):
    if group not in GROUPS:
        abort(404)
    form = _form(group)
    if not form.validate_on_submit():
        if expired(form):
            form.form_errors.append(FORM_EXPIRED)
        return _group_page(group, form, status=422)
    paths = PATHS[type(form)]
    changes = {path: form[name].data for name, path in paths.items()}
    if "portal.editable_fields" in changes:  # nothing ticked: an empty list
        changes["portal.editable_fields"] = changes["portal.editable_fields"] or []
    try:
        tenant_settings.update(db_session(), changes, principal=g.principal)
    except SettingsRefused as refused:
        names = {path: name for name, path in paths.items()}
        for path, message in refused.by_path.items():
            if path in names:
                form[names[path]].errors = [message]
            else:
                form.form_errors.append(message)
        return _group_page(group, form, status=422)
    flash("Settings saved.", "success")
    return redirect(url_for(".index") + f"#{group}")


bp.add_url_rule("", "index", index)
bp.add_url_rule("/<group>", "edit", edit)
bp.add_url_rule("/<group>", "save", save, methods=["POST"])
